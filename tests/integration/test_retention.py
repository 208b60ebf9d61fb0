"""Removing the child's identity after the retention period (SPEC §7), on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rq import Queue
from sqlalchemy import func, select

from formservice.extensions import db
from formservice.models import AuditEvent, BusIndivid, SipMeeting, StoredFile
from formservice.queue import QUEUE_NAME, redis_connection
from formservice.services import record_documents
from formservice.services.retention import remove_expired_identities
from formservice.services.statistics import meeting_counts
from tests.support.app import login, run_worker

from .helpers import CHEF_A
from .meeting_helpers import CHILD, PNR, QUESTION, bus_individ, sip_meeting, stockholm_today

TODAY = date(2026, 11, 22)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def seed() -> dict:
    """Old (past 24 months, or exactly on the day) and new records, each with documents."""
    return {
        "old_sip": sip_meeting(at_noon(date(2024, 10, 1)), with_files=True).id,
        "due_sip": sip_meeting(at_noon(date(2024, 11, 22)), meeting_type="uppfoljning").id,
        "new_sip": sip_meeting(at_noon(date(2024, 11, 23)), with_files=True).id,
        "old_bus": bus_individ(date(2024, 5, 5), with_files=True).id,
        "new_bus": bus_individ(date(2025, 1, 10), with_files=True, gender="flicka").id,
    }


def counts() -> dict:
    return meeting_counts(None, date(2024, 1, 1), date(2026, 12, 31))


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_old_records_lose_identity_and_documents_new_ones_keep_them(directory):
    ids = seed()
    before = counts()
    assert remove_expired_identities(today=TODAY) == {"sip": 2, "bus_individ": 1}
    db.session.expire_all()

    old = db.session.get(SipMeeting, ids["old_sip"])
    assert (old.child_name, old.child_personnummer, old.question, old.place) == (None,) * 4
    assert (old.guardians, old.invitees) == ([], [])
    assert old.consent == {
        "date": "2024-01-02",
        "given_by": ["vardnadshavare_1"],
        "form": "skriftligt",
    }
    assert (old.docx_file_id, old.pdf_file_id) == (None, None)
    assert old.identity_removed_at is not None
    assert (old.child_gender, old.meeting_type, old.state) == ("flicka", "forsta", "genomford")
    assert [(c.unit_id, c.attendance) for c in old.called] == [("bup-farsta", "narvarande")]
    assert db.session.get(SipMeeting, ids["due_sip"]).child_name is None

    new = db.session.get(SipMeeting, ids["new_sip"])
    assert (new.child_name, new.child_personnummer, new.question) == (CHILD, PNR, QUESTION)
    assert new.identity_removed_at is None and new.pdf_file_id is not None

    gone = db.session.get(BusIndivid, ids["old_bus"])
    assert (gone.child_name, gone.consent, gone.question, gone.agreements) == (None, {}, None, [])
    assert (gone.docx_file_id, gone.pdf_file_id) == (None, None)
    assert (gone.child_gender, gone.meeting_date, gone.participants[0]) == (
        "pojke",
        date(2024, 5, 5),
        "familjeenheten-skarpnack",
    )
    kept = db.session.get(BusIndivid, ids["new_bus"])
    assert (kept.child_name, kept.question) == (CHILD, QUESTION) and kept.agreements

    remaining = db.session.scalar(select(func.count()).select_from(StoredFile))
    assert remaining == 4  # the new SIP's and the new BUS-individ's DOCX and PDF
    assert counts() == before


def test_an_audit_event_per_record_and_a_second_run_changes_nothing(directory):
    ids = seed()
    remove_expired_identities(today=TODAY)
    removal = AuditEvent.action.like("%.identity_removed")
    columns = (AuditEvent.actor, AuditEvent.action, AuditEvent.object_id)
    events = db.session.execute(select(*columns).where(removal).order_by(AuditEvent.id)).all()
    assert events == [
        ("system", "sip.identity_removed", str(ids["old_sip"])),
        ("system", "sip.identity_removed", str(ids["due_sip"])),
        ("system", "bus_individ.identity_removed", str(ids["old_bus"])),
    ]
    removed_at = db.session.get(SipMeeting, ids["old_sip"]).identity_removed_at
    before = (audit_count(), counts())

    assert remove_expired_identities(today=TODAY) == {"sip": 0, "bus_individ": 0}
    db.session.expire_all()
    assert (audit_count(), counts()) == before
    assert db.session.get(SipMeeting, ids["old_sip"]).identity_removed_at == removed_at


def test_the_daily_job_through_the_queue_and_the_page_afterwards(directory, client):
    today = stockholm_today()
    old = bus_individ(today - timedelta(days=800), with_files=True)
    new = bus_individ(today - timedelta(days=600), with_files=True)
    queue = Queue(QUEUE_NAME, connection=redis_connection())
    job = queue.enqueue("worker.jobs.remove_expired_identities")
    run_worker(directory)
    assert job.return_value() == {"sip": 0, "bus_individ": 1}
    db.session.expire_all()
    assert db.session.get(BusIndivid, old.id).identity_removed_at is not None
    assert db.session.get(BusIndivid, new.id).child_name == CHILD

    assert record_documents.build("bus_individ", old.id) == "skipped"  # never rebuilt
    login(client, CHEF_A)
    page = client.get(f"/bus-individ/{old.id}").get_data(as_text=True)
    assert "Barnets identitet och protokollets dokument togs bort" in page
    assert CHILD not in page and QUESTION not in page
    assert client.get(f"/bus-individ/{old.id}/protokoll.pdf").status_code == 404
