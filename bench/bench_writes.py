"""What writing a sent report's audit events and outbox rows costs the web process, one way
against another in the same run: through the ORM unit of work (how formservice wrote them
until 2026-12-01), through formservice's own `audit.record_many` and `outbox.write` (one Core
`INSERT` each), and with plain psycopg (the floor). Process CPU time per operation, each
followed by its commit, on a fresh PostgreSQL database; the least of the rounds.

    .venv/bin/python -m bench.bench_writes [--repeat 1000 --rounds 3]

Target: formservice's writes cost less than the unit of work's. Exit status 1 if not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from tests.support import postgres

from . import common

CONTEXT = {
    "case_number": "BUS-2026-0001",
    "reporting_unit": "Familjeenheten Skarpnäck",
    "receiving_unit": "BUP Farsta",
    "deadline": "2026-12-31",
    "link_version": 1,
    "respond": True,
}
RECIPIENTS = [f"chef{n}@example.se" for n in range(5)]  # five rows, as a sent report has
ACTIONS = ["deviation.created", "deviation.sent"]


def cpu_us(operation: Callable[[], None], repeat: int, rounds: int) -> float:
    """Process CPU time of one operation in µs, the least of `rounds` runs of `repeat`."""
    for _ in range(min(50, repeat)):
        operation()
    best = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeat):
            operation()
        best.append((time.process_time() - start) / repeat * 1e6)
    return min(best)


def operations(db_url: str) -> tuple[dict[str, Callable[[], None]], Callable[[], None]]:
    """The six writes by name, and what closes the plain connection."""
    import psycopg
    from psycopg.types.json import Json

    from formservice.extensions import db
    from formservice.models import AuditEvent, OutboxMessage
    from formservice.services import audit, outbox

    raw = psycopg.connect(postgres.libpq_url(db_url))
    columns = list(outbox.rows("new_report", RECIPIENTS[:1], None, **CONTEXT)[0])
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(RECIPIENTS))
    insert_outbox = f"INSERT INTO outbox ({', '.join(columns)}) VALUES {values} RETURNING id"
    insert_audit = (
        "INSERT INTO audit_events (at, user_id, actor, action, object_type, object_id, detail)"
        " VALUES (now(), NULL, 'bench', %s, 'deviation', '1', '{}'),"
        " (now(), NULL, 'bench', %s, 'deviation', '1', '{}')"
    )

    def outbox_rows() -> list[dict]:
        return outbox.rows("new_report", RECIPIENTS, None, **CONTEXT)

    def outbox_unit_of_work() -> None:
        messages = [OutboxMessage(**row) for row in outbox_rows()]
        db.session.add_all(messages)
        db.session.commit()

    def outbox_core() -> None:
        outbox.write(outbox_rows())
        db.session.commit()

    def outbox_plain() -> None:
        params = []
        for row in outbox_rows():
            params += [Json(v) if k == "context" else v for k, v in row.items()]
        raw.execute(insert_outbox, params).fetchall()
        raw.commit()

    def audit_unit_of_work() -> None:
        for action in ACTIONS:
            db.session.add(
                AuditEvent(actor="bench", action=action, object_type="deviation", object_id="1")
            )
        db.session.commit()

    def audit_core() -> None:
        audit.record_many("bench", ACTIONS, "deviation", 1)
        db.session.commit()

    def audit_plain() -> None:
        raw.execute(insert_audit, ACTIONS)
        raw.commit()

    named = {
        "outbox: unit of work": outbox_unit_of_work,
        "outbox: formservice (Core)": outbox_core,
        "outbox: plain psycopg": outbox_plain,
        "audit: unit of work": audit_unit_of_work,
        "audit: formservice (Core)": audit_core,
        "audit: plain psycopg": audit_plain,
    }
    return named, raw.close


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    common.print_machine()
    with common.database() as db_url:
        app = common.make_app(db_url)
        with app.app_context():
            from formservice.extensions import db

            named, close = operations(db_url)
            try:
                figures = {name: cpu_us(op, args.repeat, args.rounds) for name, op in named.items()}
            finally:
                close()
                db.session.remove()
                db.engine.dispose()
    print(f"\nCPU per write and commit, least of {args.rounds} x {args.repeat}:")
    for name, us in figures.items():
        print(f"  {name:<28} {us:8.0f} µs")
    verdicts = [
        common.Verdict(
            f"{what}: formservice vs unit of work",
            f"{figures[f'{what}: formservice (Core)'] / figures[f'{what}: unit of work']:.2f} x",
            "< 1 x",
            figures[f"{what}: formservice (Core)"] < figures[f"{what}: unit of work"],
        )
        for what in ("outbox", "audit")
    ]
    return common.report(verdicts, "writes", {"cpu_us": figures})


if __name__ == "__main__":
    sys.exit(main())
