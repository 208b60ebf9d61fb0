"""POST of a valid deviation (stored, outbox rows written, deliveries queued in Redis) under
`formservice web --workers 2` on PostgreSQL, against the bare Flask + WTForms app accepting a
valid POST of the same fields without storing anything. No worker runs: the queued delivery
jobs wait in Redis (checked and counted at the end). A third series, the floor
(`floor_app.py`), does the same storage by hand in the baseline app: what storing costs
apart from formservice's layers.

    .venv/bin/python -m bench.bench_form_post [--clients 4 --requests 3000 --seconds 10 --rounds 5]

Targets: formservice >= 0.25 x baseline requests/s; p99 <= 100 ms at 4 concurrent clients.
Exit status 1 if one is missed.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import date, timedelta

from tests.support.http import csrf_token

from . import _web, common

TARGET_RATIO = 0.25
TARGET_P99_MS = 100.0


def fields(csrf: str) -> list[tuple[str, str]]:
    """The deviation form as a browser posts it (synthetic, de-identified text)."""
    return [
        ("csrf_token", csrf),
        ("sip_id", ""),
        ("bus_individ_id", ""),
        ("reporting_unit", "familjeenheten-skarpnack"),
        ("receiving_unit", "bup-farsta"),
        ("event_date", (date.today() - timedelta(days=3)).isoformat()),
        ("categories", "remiss-eller-forfragan-obesvarad-eller-avvisad"),
        ("categories", "vantetid-eller-tillganglighet"),
        ("description", "Remissen besvarades inte inom överenskommen tid.\nVi väntade länge."),
        ("actions_taken", "Vi ringde mottagningen två gånger och skrev till enhetschefen."),
        ("bus_individ", "nej"),
        ("bus_individ_date", ""),
        ("proposal", "Ett gemensamt möte om rutinen för remisser."),
        ("child_gender", "flicka"),
        ("age_group", "6-12"),
        ("attest", "y"),
        ("send", "Skicka avvikelsen"),
    ]


def poster(path: str, form_path: str, sessions=None):
    """setup: cookie jar and CSRF token of the form page; step: one POST (302 expected).

    Every POST is sent with the cookies the form page left, as a browser that shows the
    report page next sends them: that page takes the flash message out of the session. Kept
    from one POST to the next, formservice's session cookie would grow by one message each
    time, and with it the work of every request."""

    def setup(client, index):
        if sessions is not None:
            sessions(client, index)
        page = client.get(form_path).body
        body, headers = common.multipart(fields(csrf_token(page)), [("attachments", "", b"")])
        return body, headers, dict(client.cookies)

    def step(client, prepared):
        body, headers, cookies = prepared
        client.cookies = dict(cookies)
        return client.request("POST", path, body, headers).status

    return setup, step


def stored_counts(db_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("deviations", "outbox", "audit_events")
            }
    finally:
        engine.dispose()


def queued_jobs() -> int:
    from redis import Redis
    from rq import Queue

    from formservice.queue import QUEUE_NAME

    conn = Redis.from_url(common.redis_url())
    try:
        return Queue(QUEUE_NAME, connection=conn).count
    finally:
        conn.close()


@contextlib.contextmanager
def floor_stack(workers: int):
    """The floor app (bench/floor_app.py) on a database of its own, prepared with the CLI."""
    with (
        common.database("formservice_floor") as db_url,
        common.log_directory("formservice-floor-") as logs,
    ):
        common.prepare_with_cli(common.subprocess_env(db_url))
        with common.floor_web(db_url, logs, workers) as floor:
            yield db_url, floor


def main() -> int:
    args = _web.arguments(__doc__, requests=3000, seconds=10)
    common.print_machine()
    with (
        _web.both_stacks(args.workers) as (db_url, fs, base),
        floor_stack(args.workers) as (floor_db, floor),
    ):

        def series(label: str, server: common.Server, path: str, cpu, sessions=None):
            setup, step = poster(path, path, sessions)

            def run(count, seconds):
                return common.run_load(
                    label,
                    server.url,
                    setup,
                    step,
                    clients=args.clients,
                    count=count,
                    seconds=seconds,
                    expect=(302,),
                    cpu=cpu,
                )

            return run

        base_runs, fs_runs, floor_runs = _web.rounds(
            args,
            series("baseline POST /form", base, "/form", common.CpuProbe(base.process.pid)),
            series(
                "formservice POST /avvikelser/ny",
                fs,
                "/avvikelser/ny",
                common.CpuProbe(fs.process.pid, db_url),
                common.Sessions(fs.url),
            ),
            series(
                "floor: baseline + storage by hand",
                floor,
                "/form",
                common.CpuProbe(floor.process.pid, floor_db),
            ),
        )
        stored = stored_counts(db_url)
        queued = queued_jobs()
        floor_stored = stored_counts(floor_db)
    print(f"\nPOST of a valid deviation: {args.clients} clients, {args.workers} gunicorn workers")
    all_fs = _web.merged("formservice, all rounds", fs_runs)
    runs = zip(base_runs, fs_runs, floor_runs, strict=True)
    _web.table([r for triple in runs for r in triple] + [all_fs])
    figures = _web.ratios(base_runs, fs_runs)
    _web.print_ratios(figures)
    floor_figures = _web.ratios(base_runs, floor_runs)
    print(
        f"floor (the same storage by hand): {floor_figures['formservice_rps']:.1f} req/s, "
        f"{floor_figures['ratio']:.2f} x baseline; CPU per request "
        f"{floor_figures['formservice_cpu_ms']:.2f} ms, {floor_figures['cpu_ratio']:.2f} x "
        f"baseline by CPU; formservice / floor: "
        f"{figures['formservice_rps'] / floor_figures['formservice_rps']:.2f}"
    )
    print(
        f"stored: {stored['deviations']} deviations, {stored['outbox']} outbox rows, "
        f"{stored['audit_events']} audit events; {queued} delivery jobs queued in Redis; "
        f"floor: {floor_stored['deviations']} deviations, {floor_stored['outbox']} outbox rows"
    )
    ratio, p99 = figures["ratio"], all_fs.pct(99)
    errors = sum(r.errors for r in base_runs + fs_runs + floor_runs)
    # every accepted POST stored one report and queued one delivery job for its outbox rows
    consistent = stored["deviations"] == queued and stored["deviations"] >= all_fs.requests
    verdicts = [
        common.Verdict(
            "deviation POST req/s vs baseline",
            f"{ratio:.2f} x",
            f">= {TARGET_RATIO} x",
            ratio >= TARGET_RATIO,
        ),
        common.Verdict(
            f"deviation POST p99 at {args.clients} clients",
            f"{p99:.1f} ms",
            f"<= {TARGET_P99_MS:.0f} ms",
            p99 <= TARGET_P99_MS,
        ),
        common.Verdict("POST errors", str(errors), "0", errors == 0),
        common.Verdict(
            "one delivery job queued per report",
            f"{stored['deviations']} reports, {queued} jobs",
            "equal",
            consistent,
        ),
    ]
    return common.report(
        verdicts,
        "form_post",
        {
            **figures,
            "p99_ms": p99,
            "p50_ms": all_fs.pct(50),
            **stored,
            "floor": {**floor_figures, "p99_ms": _web.merged("", floor_runs).pct(99)},
        },
    )


if __name__ == "__main__":
    sys.exit(main())
