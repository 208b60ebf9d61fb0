"""SIP kallelse and BUS-individ minutes: one document path for both kinds (both databases).

Retention running while a document is built, a Redis outage when the record is saved, and a
failed LibreOffice conversion with its retry behave the same for both kinds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import event, func, select, text, update

from formservice.extensions import db
from formservice.models import AuditEvent, BusIndivid, OutboxMessage, SipMeeting, StoredFile
from formservice.queue import QUEUE_NAME, redis_connection
from formservice.services import record_documents
from formservice.services.retention import remove_expired_identities
from tests.support.app import login, run_worker
from tests.support.redis import redis_url
from worker import jobs

from .helpers import CHEF_A, failure_shown
from .meeting_helpers import CHILD, bus_individ, sip_meeting
from .test_bus_individ import minutes_form
from .test_sip import sip_form

MODELS = {"sip": SipMeeting, "bus_individ": BusIndivid}
#: A day on which records of January 2024 are past the 24 months of retention.
RETENTION_DAY = date(2026, 11, 22)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def actions(kind: str, record_id: int) -> list[str]:
    query = select(AuditEvent.action).where(
        AuditEvent.object_type == kind, AuditEvent.object_id == str(record_id)
    )
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def reload(kind: str, record_id: int):
    db.session.expire_all()
    return db.session.get(MODELS[kind], record_id)


def old_record(kind: str) -> int:
    """A record from January 2024 with the child's identity and no documents yet."""
    if kind == "sip":
        moment = datetime(2024, 1, 10, 11, tzinfo=UTC)
        return sip_meeting(moment, state="skickad", held=False).id
    return bus_individ(date(2024, 1, 10)).id


# --- retention in the middle of a build ----------------------------------------------------


class Retention(threading.Thread):
    """services.retention in its own app context, session and transaction. With `hold`, it
    stops just before its commit (it holds the record's row, or SQLite's write lock) until
    the build is waiting for it, and only then commits."""

    def __init__(self, app, hold: bool) -> None:
        super().__init__(daemon=True)
        self.app, self.hold = app, hold
        self.holding = threading.Event()
        self.build_waited = False
        self.result: dict | None = None

    def run(self) -> None:
        with self.app.app_context():
            if self.hold:
                event.listen(db.session(), "before_commit", self._before_commit)
            try:
                self.result = remove_expired_identities(today=RETENTION_DAY)
            finally:
                self.holding.set()
                db.session.remove()

    def _before_commit(self, session) -> None:
        self.holding.set()
        self.build_waited = self._wait_for_the_build()

    def _wait_for_the_build(self) -> bool:
        """True once the build's statement waits for our lock (PostgreSQL shows it); SQLite
        shows no waiters, so give the build a moment to reach the database lock."""
        if db.engine.dialect.name != "postgresql":
            time.sleep(1.0)
            return True
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        deadline = time.monotonic() + 120  # a loaded machine may take long to get there
        # Autocommit: inside one transaction PostgreSQL shows the same snapshot of
        # pg_stat_activity on every poll, so a build that starts waiting later is never seen.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while time.monotonic() < deadline:
                if conn.execute(waiting).scalar():
                    return True
                time.sleep(0.05)
        return False


@pytest.mark.parametrize("hold", [False, True], ids=["retention-first", "retention-holds-row"])
@pytest.mark.parametrize("kind", ["sip", "bus_individ"])
def test_retention_during_the_build_leaves_no_document_with_the_identity(
    directory, monkeypatch, kind, hold
):
    """The document is rendered with the child's name; while LibreOffice converts it, the
    retention job removes the identity (and commits, or still holds the row when the build
    stores). Nothing with the identity may be stored afterwards."""
    record_id = old_record(kind)
    real_convert = record_documents.convert
    retention = Retention(directory, hold)

    def convert_while_retention_runs(*args, **kwargs):
        pdf = real_convert(*args, **kwargs)
        retention.start()
        if hold:
            assert retention.holding.wait(30)
        else:
            retention.join(60)
        return pdf

    monkeypatch.setattr(record_documents, "convert", convert_while_retention_runs)
    assert record_documents.build(kind, record_id) == "skipped"
    retention.join(60)
    assert not retention.is_alive()
    assert retention.result == {kind: 1, ({"sip", "bus_individ"} - {kind}).pop(): 0}
    assert retention.build_waited or not hold

    record = reload(kind, record_id)
    assert record.identity_removed_at is not None and record.child_name is None
    assert (record.docx_file_id, record.pdf_file_id, record.document_error) == (None, None, None)
    assert count(StoredFile) == 0
    assert f"{kind}.documents_built" not in actions(kind, record_id)
    assert record_documents.build(kind, record_id) == "skipped"  # and never again
    assert record_documents.due(min_age_seconds=0) == []


def test_documents_stored_before_retention_are_removed_by_it(directory):
    """The other order: the build wins the row, retention then deletes both files."""
    for kind in MODELS:
        stored = record_documents._store(
            record_documents.KINDS[kind], old_record(kind), "doc", CHILD.encode(), b"%PDF"
        )
        assert stored == "built"
    assert count(StoredFile) == 4
    assert remove_expired_identities(today=RETENTION_DAY) == {"sip": 1, "bus_individ": 1}
    assert count(StoredFile) == 0


# --- a Redis outage when the record is saved ------------------------------------------------


def redis_down(app) -> None:
    app.config["FORMSERVICE_REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("formservice.redis", None)


def redis_back(app) -> None:
    app.config["FORMSERVICE_REDIS_URL"] = redis_url()
    app.extensions.pop("formservice.redis", None)


def test_the_sweep_builds_bus_individ_documents_saved_while_redis_was_down(
    app, client, directory, smtp_sink
):
    login(client, CHEF_A)
    redis_down(app)
    try:
        response = client.post("/bus-individ/ny", data=minutes_form(), follow_redirects=True)
    finally:
        redis_back(app)
    assert response.status_code == 200
    assert "protokollets PDF skapas automatiskt" in response.get_data(as_text=True)
    record = db.session.scalar(select(BusIndivid))
    assert record.pdf_file_id is None
    assert Queue(QUEUE_NAME, connection=redis_connection()).count == 0

    assert jobs.sweep_documents() == 0  # younger than a minute: may still be on its way
    past = datetime.now(UTC) - timedelta(minutes=5)
    db.session.execute(update(BusIndivid).values(created_at=past))
    db.session.execute(update(OutboxMessage).values(created_at=past))
    db.session.commit()
    assert record_documents.due() == [("bus_individ", record.id)]
    jobs.sweep_outbox()  # the periodic sweep: messages and documents
    run_worker(app)

    record = reload("bus_individ", record.id)
    assert record.pdf_file_id is not None and record.docx_file_id is not None
    assert actions("bus_individ", record.id)[-1] == "bus_individ.documents_built"
    assert len(smtp_sink.messages) == 5  # the messages went too
    assert jobs.sweep_documents() == 0


# --- failure and retry, the same for both kinds ---------------------------------------------

PAGES = {
    "sip": ("/sip/ny", sip_form, "/sip/{id}", "/sip/{id}/dokument"),
    "bus_individ": (
        "/bus-individ/ny",
        minutes_form,
        "/bus-individ/{id}",
        "/bus-individ/{id}/skapa-dokument",
    ),
}


@pytest.mark.parametrize("kind", ["sip", "bus_individ"])
def test_a_failed_conversion_is_recorded_audited_and_retried_alike(
    app, client, directory, tmp_path, kind
):
    broken = tmp_path / "soffice"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    app.config["FORMSERVICE_SOFFICE"] = str(broken)
    new, form, show, retry = PAGES[kind]
    login(client, CHEF_A)
    response = client.post(new, data=form())
    assert response.status_code == 302
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])

    run_worker(app)  # the job fails in RQ and the failure is kept in the database
    failed = Queue(QUEUE_NAME, connection=redis_connection()).failed_job_registry
    assert failed.get_job_ids() == [f"{kind}-documents-{record_id}"]
    record = reload(kind, record_id)
    assert "kunde inte omvandla" in failure_shown(record.document_error, record.document_error_args)
    assert (record.docx_file_id, record.pdf_file_id, count(StoredFile)) == (None, None, 0)
    assert actions(kind, record_id)[-1] == f"{kind}.documents_failed"
    assert record_documents.due(min_age_seconds=0) == []  # the sweep leaves a failure be
    assert "kunde inte" in client.get(show.format(id=record_id)).get_data(as_text=True)

    app.config["FORMSERVICE_SOFFICE"] = "soffice"
    assert client.post(retry.format(id=record_id)).status_code == 302
    assert actions(kind, record_id)[-1] == f"{kind}.documents_retried"
    run_worker(app)
    record = reload(kind, record_id)
    assert record.document_error is None and record.pdf_file_id is not None
    assert actions(kind, record_id)[-2:] == [f"{kind}.documents_retried", f"{kind}.documents_built"]
    assert count(StoredFile) == 2
