"""Delivery: outbox rows -> SMTP sink through one worker (`formservice worker --burst`, the
AppWorker, a SimpleWorker), against trivial RQ jobs through the same worker class.

    .venv/bin/python -m bench.bench_delivery [--messages 1500 --rounds 3]

Each round seeds fresh sent reports with five pending outbox rows each (chef B and deputy with
a responder link, two BUS-sekretariat mailboxes, the group's secretary) and queues them as the
web app does (`queue.enqueue_deliveries`: one job per report), then as many no-op jobs as
there are rows, and runs one worker until the queue is empty. A third series queues every row
as a job of its own (what the sweep does for a row that comes due alone): the worst case, for
information. Rates are outbox rows (mails) per second for formservice and jobs per second for
the baseline, between the first job's start and the last job's end (RQ's own timestamps, so
the worker's start-up is not counted).

Target: formservice >= 0.5 x baseline (rows/s against jobs/s). Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from tests.support import seed, stack
from tests.support.smtp import Sink

from . import common

TARGET = 0.5
KINDS = [
    ("new_report", "ines.sved@region.example", True),
    ("new_report", "per.ersatt@region.example", True),
    ("copy_secretariat", "bus-avvikelser@storsthlm.example", False),
    ("copy_secretariat", "bus-avvikelser.hsf@regionstockholm.example", False),
    ("copy_secretary", "sam.prevent@stad.example", False),
]


def seed_outbox(app, messages: int, round_no: int) -> list[int]:
    """Sent reports (tests.support.seed) and their pending outbox rows, written as the
    services write them (services.outbox); the rows' ids."""
    from formservice.extensions import db
    from formservice.services import outbox

    with app.app_context():
        reports = -(-messages // len(KINDS))
        ids = seed.seed_cases("skarpnack", reports, prefix=f"D{round_no}", seed=round_no)
        rows = []
        for n, deviation_id in enumerate(ids):
            for kind, email, respond in KINDS:
                context: dict[str, object] = {
                    "case_number": f"BUS-2026-{n + 1:04d}",
                    "reporting_unit": "Familjeenheten Skarpnäck",
                    "receiving_unit": "BUP Farsta",
                    "deadline": "2026-12-22",
                }
                if respond:
                    context |= {"link_version": 1, "respond": True}
                rows += outbox.rows(kind, [email], deviation_id, **context)
        row_ids = outbox.write(rows[:messages])
        db.session.commit()
        return row_ids


def run_worker(env: dict, logs, label: str) -> None:
    worker = stack.worker(env, logs, f"worker-{label}", burst=True)
    code = worker.wait(timeout=3600)
    worker.stop()
    if code != 0:
        raise RuntimeError(f"worker exited with {code}:\n{worker.tail()}")


def job_times(job_ids: list[str]) -> tuple[float, Counter]:
    """Seconds between the first job's start and the last job's end; outcomes summed over the
    jobs (a delivery job returns counts by outcome, a no-op job "done")."""
    from redis import Redis
    from rq.job import Job

    conn = Redis.from_url(common.redis_url())
    try:
        jobs = [j for j in Job.fetch_many(job_ids, connection=conn) if j is not None]
        outcomes: Counter = Counter()
        for job in jobs:
            value = job.return_value() if job.is_finished else str(job.get_status())
            outcomes.update(value if isinstance(value, dict) else {str(value): 1})
        finished = [j for j in jobs if j.is_finished]
        if len(finished) != len(job_ids):
            raise RuntimeError(f"only {len(finished)} of {len(job_ids)} jobs finished: {outcomes}")
        start = min(j.started_at for j in jobs if j.started_at)
        end = max(j.ended_at for j in jobs if j.ended_at)
    finally:
        conn.close()
    return (end - start).total_seconds(), outcomes


def queue_series(app, name: str, messages: int, seeded: int) -> list[str]:
    """Queue one round of a series; the ids of the jobs queued."""
    from redis import Redis
    from rq import Queue

    from formservice import queue as app_queue
    from formservice.queue import QUEUE_NAME

    if name == "formservice":  # exactly as the web app queues a sent report's rows
        rows = seed_outbox(app, messages, seeded)
        with app.app_context():
            for start in range(0, len(rows), len(KINDS)):
                assert app_queue.enqueue_deliveries(rows[start : start + len(KINDS)])
    else:
        conn = Redis.from_url(common.redis_url())
        queue = Queue(QUEUE_NAME, connection=conn)
        if name == "baseline":
            calls = [("bench.jobs.noop", n) for n in range(messages)]
        else:
            calls = [("worker.jobs.deliver", row) for row in seed_outbox(app, messages, seeded)]
        with conn.pipeline() as pipe:
            for func, arg in calls:
                queue.enqueue(func, arg, pipeline=pipe)
            pipe.execute()
        conn.close()
    return queued_ids()


def queued_ids() -> list[str]:
    from redis import Redis
    from rq import Queue

    from formservice.queue import QUEUE_NAME

    conn = Redis.from_url(common.redis_url())
    try:
        return Queue(QUEUE_NAME, connection=conn).get_job_ids()
    finally:
        conn.close()


SERIES = ("baseline", "formservice", "one row per job")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1500, help="rows per series and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    common.print_machine()
    common.flush_redis()
    rates: dict[str, list[float]] = {name: [] for name in SERIES}
    received: dict[str, int] = {name: 0 for name in SERIES}
    with (
        common.database() as db_url,
        Sink(keep=False) as sink,
        common.log_directory("formservice-bench-") as logs,
    ):
        app = common.make_app(db_url, sink)
        env = common.subprocess_env(db_url, sink)
        seeded = 0
        for n in range(args.rounds):
            for name in SERIES:
                common.log(f"round {n + 1}/{args.rounds}: {name}")
                seeded += name != "baseline"
                ids = queue_series(app, name, args.messages, seeded)
                before = sink.count
                run_worker(env, logs, f"{name.replace(' ', '-')}-{n}")
                seconds, outcomes = job_times(ids)
                expected = {"done" if name == "baseline" else "sent": args.messages}
                if outcomes != expected:
                    raise RuntimeError(f"{name}: outcomes {dict(outcomes)}, expected {expected}")
                rates[name].append(args.messages / seconds)
                received[name] += sink.count - before
                common.flush_redis()
        with app.app_context():
            from sqlalchemy import func as sql_func
            from sqlalchemy import select

            from formservice.extensions import db
            from formservice.models import OutboxMessage

            states = dict(
                db.session.execute(
                    select(OutboxMessage.state, sql_func.count()).group_by(OutboxMessage.state)
                ).all()
            )
            db.session.remove()
            db.engine.dispose()
    common.flush_redis()

    print(f"\nDelivery through one worker (AppWorker): {args.messages} rows per series and round")
    print(
        f"{'series':<18} "
        + " ".join(f"{'round ' + str(i + 1):>9}" for i in range(args.rounds))
        + f" {'median':>9} {'ratio':>6}  mails"
    )
    base = common.median(rates["baseline"])
    for name in SERIES:
        per_round = " ".join(f"{r:>9.1f}" for r in rates[name])
        med = common.median(rates[name])
        print(f"{name:<18} {per_round} {med:>9.1f} {med / base:>6.2f}  {received[name]}")

    def ratio(name: str) -> float:
        pairs = zip(rates["baseline"], rates[name], strict=True)
        return common.median([f / b for b, f in pairs])

    main_ratio, single_ratio = ratio("formservice"), ratio("one row per job")
    print(
        f"\nformservice rows/s / baseline jobs/s, median of per-round ratios: {main_ratio:.2f}"
        f"\none row per job (the sweep's worst case): {single_ratio:.2f}"
    )
    print(f"outbox states: {states}")
    sent_rows = states.get("sent", 0)
    expected_rows = args.messages * args.rounds * (len(SERIES) - 1)
    verdicts = [
        common.Verdict(
            "delivery rows/s vs baseline jobs/s",
            f"{main_ratio:.2f} x",
            f">= {TARGET} x",
            main_ratio >= TARGET,
        ),
        common.Verdict(
            "every row sent once, every mail received",
            f"{sent_rows} rows sent, {sum(received.values())} mails",
            f"{expected_rows}",
            sent_rows == expected_rows and sum(received.values()) == expected_rows,
        ),
    ]
    extra = {
        "baseline_jobs_per_s": base,
        "formservice_rows_per_s": common.median(rates["formservice"]),
        "ratio": main_ratio,
        "one_row_per_job_ratio": single_ratio,
        "rates": rates,
    }
    return common.report(verdicts, "delivery", extra)


if __name__ == "__main__":
    sys.exit(main())
