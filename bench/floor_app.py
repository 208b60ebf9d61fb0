"""The floor of the deviation POST: the baseline app (`baseline_app.py`) that, once the form
is valid, does formservice's storage work by hand, without any of formservice's layers.

The same seven statements on the same schema: formservice's own compiled queries for the
user, the units and the directory (`auth._USER_AND_LEADS`, `access._UNITS_AND_MANAGED`,
`deviations._facts_query`), the year's case counter bumped with `… RETURNING`, the report, its
two audit events and its five outbox rows; one durable commit; one RQ job for the rows. They
run on a plain psycopg connection per server thread: no ORM, no Flask-Login, no session
write. Between the baseline and this floor lies the storage itself; between the floor and
formservice, the cost of formservice's layers.

    python -m bench.floor_app --port 5098 --database-url URL --redis-url URL [--workers 2]
"""

from __future__ import annotations

import argparse
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Json

from formservice.config import SETTINGS
from formservice.domain.deadlines import answer_deadline, local_date
from formservice.domain.deviation import format_case_number
from formservice.domain.groups import settle
from tests.support import postgres

from .common import CHEF_A

QUEUE = "bench-floor"  # not formservice's queue: no worker runs it, nothing is sent
ANSWER_DAYS, TIMEZONE = SETTINGS["ANSWER_DAYS"][0], SETTINGS["TIMEZONE"][0]

_REPORT = """INSERT INTO deviations (case_number, state, form_version, reporting_unit_id,
receiving_unit_id, group_id, created_by_id, event_date, categories, description, actions_taken,
bus_individ, bus_individ_date, proposal, child_gender, age_group, link_version, created_at,
sent_at, deadline) VALUES (%s, 'skickad', 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
1, %s, %s, %s) RETURNING id"""
_AUDIT = """INSERT INTO audit_events (at, user_id, actor, action, object_type, object_id, detail)
VALUES (%s, %s, %s, 'deviation.created', 'deviation', %s, '{}'),
(%s, %s, %s, 'deviation.sent', 'deviation', %s, '{}')"""
_COUNTER = """INSERT INTO case_counters (year, last) VALUES (%s, 1)
ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1 RETURNING last"""
_OUTBOX_ROW = "(%s, %s, %s, %s, 'pending', 0, %s, %s, %s)"


def _compiled() -> list[tuple[str, dict[str, Any]]]:
    """formservice's user, units and directory queries as SQL text with their constants."""
    from sqlalchemy.dialects.postgresql import psycopg as dialect

    from formservice.access import _UNITS_AND_MANAGED
    from formservice.auth import _USER_AND_LEADS
    from formservice.services.deviations import _facts_query

    queries = []
    for statement in (_USER_AND_LEADS, _UNITS_AND_MANAGED, _facts_query()):
        compiled = statement.compile(dialect=dialect.dialect())
        queries.append((str(compiled), dict(compiled.params)))
    return queries


class Floor:
    """Stores a valid form's report as formservice would, on one connection per thread."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.dsn = postgres.libpq_url(database_url)
        self.queue = Queue(QUEUE, connection=Redis.from_url(redis_url))
        self.user, self.units, self.facts = _compiled()
        self.local = threading.local()
        with self._connect() as conn:
            self.user_id = conn.execute(
                "SELECT id FROM users WHERE email = %s", (CHEF_A,)
            ).fetchone()[0]

    def _connect(self):
        import psycopg

        return psycopg.connect(self.dsn)

    def _connection(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = self._connect()
        return self.local.conn

    def store(self, data: dict[str, Any]) -> None:
        conn, uid = self._connection(), self.user_id
        sql, constants = self.user
        conn.execute(sql, {**constants, "user_id": uid}).fetchone()
        sql, constants = self.units
        conn.execute(sql, {**constants, "user_id": uid}).fetchall()
        sql, constants = self.facts
        places = {"reporting": data["reporting_unit"], "receiving": data["receiving_unit"]}
        rows = conn.execute(sql, {**constants, **places}).fetchall()
        units = [r for r in rows if r[0] == "unit"]
        names = {r[1]: r[2] for r in units}
        secretaries = {r[3]: r[5] for r in units if r[3] and r[5]}
        reporting, receiving = (
            {r[3] for r in units if r[1] == data[side] and r[3]}
            for side in ("reporting_unit", "receiving_unit")
        )
        group = settle(reporting, receiving, data.get("bus_group") or None)
        managers = [r[5] for r in rows if r[0] == "manager"]
        secretariat = [r[5] for r in rows if r[0] == "secretariat"]
        secretary = [secretaries[group]] if group in secretaries else []

        moment = datetime.now(UTC)
        today = local_date(moment, TIMEZONE)
        deadline = answer_deadline(today, ANSWER_DAYS)
        (last,) = conn.execute(_COUNTER, (today.year,)).fetchone()
        case_number = format_case_number(today.year, last)
        bus_individ = data["bus_individ"] == "ja"
        report = (
            case_number,
            data["reporting_unit"],
            data["receiving_unit"],
            group,
            uid,
            data["event_date"],
            Json(list(data["categories"])),
            data["description"].strip(),
            data["actions_taken"].strip(),
            bus_individ,
            data["bus_individ_date"] if bus_individ else None,
            (data["proposal"] or "").strip(),
            data["child_gender"],
            data["age_group"] or None,
            moment,
            moment,
            deadline,
        )
        (report_id,) = conn.execute(_REPORT, report).fetchone()
        conn.execute(_AUDIT, (moment, uid, CHEF_A, str(report_id)) * 2)
        summary = {
            "case_number": case_number,
            "reporting_unit": names[data["reporting_unit"]],
            "receiving_unit": names[data["receiving_unit"]],
            "deadline": deadline.isoformat(),
        }
        respond = {**summary, "link_version": 1, "respond": True}
        messages = [("new_report", to, respond) for to in managers]
        messages += [("copy_secretariat", to, summary) for to in secretariat]
        messages += [("copy_secretary", to, summary) for to in secretary]
        values = ", ".join([_OUTBOX_ROW] * len(messages))
        params = []
        for kind, to, context in messages:
            message_id = f"<{uuid.uuid4().hex}@formservice>"
            params += [kind, to, report_id, Json(context), message_id, moment, moment]
        ids = conn.execute(
            "INSERT INTO outbox (kind, to_email, deviation_id, context, state, attempts, "
            f"message_id, created_at, next_attempt_at) VALUES {values} RETURNING id",
            params,
        ).fetchall()
        conn.commit()
        self.queue.enqueue("worker.jobs.deliver", *[i for (i,) in ids])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    from formservice import server

    from .baseline_app import create_app

    def load(self):
        return create_app(Floor(args.database_url, args.redis_url).store)

    server._Server.load = load  # type: ignore[method-assign]  # same settings, another app
    server.serve("127.0.0.1", args.port, args.workers)


if __name__ == "__main__":
    main()
