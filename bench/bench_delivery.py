"""Delivery: outbox rows -> SMTP sink through one worker (`formservice worker --burst`, the
AppWorker, a SimpleWorker), against trivial RQ jobs through the same worker class.

    .venv/bin/python -m bench.bench_delivery [--messages 1500 --rounds 3]

The rate is jobs / (last job ended - first job started), from RQ's own timestamps, so the
worker's start-up is not counted. Each round enqueues fresh rows (five messages per report, as
a sent report has: chef B and deputy with a responder link, two BUS-sekretariat mailboxes,
the group's secretary) and as many no-op jobs, and runs one worker until the queue is empty.
Two floor series (bench/jobs.py, skipped with --no-floor) do the least a delivery that sends
at most once can do: claim and commit, hand over to SMTP, mark and commit; once with and once
without waiting for the disk at commit.

Target: formservice >= 0.5 x baseline jobs/s. Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime

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
    """Sent reports and their pending outbox rows (bulk inserts); the rows' ids."""
    from sqlalchemy import insert

    from formservice.extensions import db
    from formservice.models import OutboxMessage

    with app.app_context(), db.engine.begin() as conn:
        reports = -(-messages // len(KINDS))
        ids = common.seed_cases(conn, "skarpnack", reports, prefix=f"D{round_no}", seed=round_no)
        now = datetime.now(UTC)
        rows = []
        for n, deviation_id in enumerate(ids):
            for kind, email, respond in KINDS:
                context = {
                    "case_number": f"BUS-2026-{n + 1:04d}",
                    "reporting_unit": "Familjeenheten Skarpnäck",
                    "receiving_unit": "BUP Farsta",
                    "deadline": "2026-12-22",
                }
                if respond:
                    context |= {"link_version": 1, "respond": True}
                rows.append(
                    {
                        "kind": kind,
                        "to_email": email,
                        "deviation_id": deviation_id,
                        "context": context,
                        "state": "pending",
                        "attempts": 0,
                        "message_id": f"<{uuid.uuid4().hex}@formservice>",
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                )
        rows = rows[:messages]
        table = OutboxMessage.__table__
        result = conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        )
        return list(result.scalars())


def run_worker(env: dict, logs, label: str) -> None:
    worker = common.Process(
        common.formservice_command() + ["worker", "--burst"], env, logs, f"worker-{label}"
    )
    code = worker.wait(timeout=3600)
    worker.stop()
    if code != 0:
        raise RuntimeError(f"worker exited with {code}:\n{worker.tail()}")


def job_rate(job_ids: list[str]) -> tuple[float, float, dict[str, int]]:
    """jobs/s between the first start and the last end; seconds; results by value."""
    from redis import Redis
    from rq.job import Job

    conn = Redis.from_url(common.redis_url())
    try:
        jobs = [j for j in Job.fetch_many(job_ids, connection=conn) if j is not None]
        starts = [j.started_at for j in jobs if j.started_at]
        ends = [j.ended_at for j in jobs if j.ended_at]
        results: dict[str, int] = {}
        for job in jobs:
            key = str(job.return_value()) if job.is_finished else str(job.get_status())
            results[key] = results.get(key, 0) + 1
    finally:
        conn.close()
    if len(ends) != len(job_ids):
        raise RuntimeError(f"only {len(ends)} of {len(job_ids)} jobs finished: {results}")
    seconds = (max(ends) - min(starts)).total_seconds()
    return len(job_ids) / seconds, seconds, results


def queued_ids() -> list[str]:
    from redis import Redis
    from rq import Queue

    from formservice.queue import QUEUE_NAME

    conn = Redis.from_url(common.redis_url())
    try:
        return Queue(QUEUE_NAME, connection=conn).get_job_ids()
    finally:
        conn.close()


SERIES = (
    ("baseline", "bench.jobs.noop"),
    ("formservice", "worker.jobs.deliver"),
    ("floor", "bench.jobs.floor_deliver"),
    ("floor, async commit", "bench.jobs.floor_deliver_async_commit"),
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1500, help="jobs per series and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-floor", action="store_true", help="skip the two floor series")
    args = parser.parse_args()
    series = SERIES[:2] if args.no_floor else SERIES
    common.print_machine()
    common.flush_redis()
    rates: dict[str, list[float]] = {name: [] for name, _ in series}
    received: dict[str, int] = {name: 0 for name, _ in series}
    with (
        common.database() as db_url,
        common.SmtpSink() as sink,
        common.log_directory("formservice-bench-") as logs,
    ):
        app = common.make_app(db_url, sink)
        env = common.subprocess_env(db_url, sink)
        from redis import Redis
        from rq import Queue

        from formservice.queue import QUEUE_NAME

        seeded = 0
        for n in range(args.rounds):
            for name, func in series:
                common.log(f"round {n + 1}/{args.rounds}: {name}")
                if func == "bench.jobs.noop":
                    targets = list(range(args.messages))
                else:  # fresh pending rows, queued as the web app queues them
                    seeded += 1
                    targets = seed_outbox(app, args.messages, seeded)
                conn = Redis.from_url(common.redis_url())
                queue = Queue(QUEUE_NAME, connection=conn)
                with conn.pipeline() as pipe:
                    for target in targets:
                        queue.enqueue(func, target, pipeline=pipe)
                    pipe.execute()
                conn.close()
                ids = queued_ids()
                before = sink.count
                run_worker(env, logs, f"{name.replace(' ', '-').replace(',', '')}-{n}")
                rate, _, results = job_rate(ids)
                expected = {"done" if func == "bench.jobs.noop" else "sent": args.messages}
                if results != expected:
                    raise RuntimeError(f"{name}: results {results}, expected {expected}")
                rates[name].append(rate)
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

    print(f"\nDelivery through one worker (AppWorker): {args.messages} jobs per series and round")
    print(
        f"{'series':<22} "
        + " ".join(f"{'round ' + str(i + 1):>9}" for i in range(args.rounds))
        + f" {'median':>9} {'ratio':>6}  mails"
    )
    base = common.median(rates["baseline"])
    for name, _ in series:
        per_round = " ".join(f"{r:>9.1f}" for r in rates[name])
        med = common.median(rates[name])
        print(f"{name:<22} {per_round} {med:>9.1f} {med / base:>6.2f}  {received[name]}")
    per_round_ratios = [f / b for b, f in zip(rates["baseline"], rates["formservice"], strict=True)]
    ratio = common.median(per_round_ratios)
    print(f"\nformservice / baseline, median of per-round ratios: {ratio:.2f} (jobs/s)")
    extra = {
        "baseline_jobs_per_s": base,
        "formservice_jobs_per_s": common.median(rates["formservice"]),
        "ratio": ratio,
    }
    if "floor" in rates:
        floor = common.median(
            [f / b for b, f in zip(rates["baseline"], rates["floor"], strict=True)]
        )
        nosync = common.median(
            [f / b for b, f in zip(rates["baseline"], rates["floor, async commit"], strict=True)]
        )
        print(
            f"floor / baseline: {floor:.2f}; floor with asynchronous commit / baseline: "
            f"{nosync:.2f}"
        )
        extra |= {"floor_ratio": floor, "floor_async_commit_ratio": nosync}
    print(f"outbox states: {states}")
    sent_rows = states.get("sent", 0)
    expected_rows = args.messages * args.rounds * (len(series) - 1)
    verdicts = [
        common.Verdict(
            "delivery jobs/s vs baseline", f"{ratio:.2f} x", f">= {TARGET} x", ratio >= TARGET
        ),
        common.Verdict(
            "every row sent once, every mail received",
            f"{sent_rows} rows sent, {sum(received.values())} mails",
            f"{expected_rows}",
            sent_rows == expected_rows and sum(received.values()) == expected_rows,
        ),
    ]
    return common.report(verdicts, "delivery", extra)


if __name__ == "__main__":
    sys.exit(main())
