"""Documents render what they are given: the services load a record with everything its
document reads, so rendering runs no query (no lazy load from `documents/`). Both databases."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from formservice.domain.inputs import FeedbackInput, SupplementInput
from formservice.extensions import db
from formservice.models import BusIndivid, Deviation, SipMeeting, Unit
from formservice.services import deviations as deviations_service
from formservice.services import feedback, record_documents

from .helpers import CHEF_A, CHEF_B, answer_input, send_report, user
from .meeting_helpers import bus_individ, sip_meeting


class Statements:
    """The SQL statements run while `inside` is set."""

    def __init__(self) -> None:
        self.inside = False
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.inside:
            self.seen.append(statement)

    def around(self, render: Callable[..., bytes]) -> Callable[..., bytes]:
        def counted(*args, **kwargs) -> bytes:
            self.inside = True
            try:
                return render(*args, **kwargs)
            finally:
                self.inside = False

        return counted


@pytest.fixture
def statements(directory):
    spy = Statements()
    event.listen(db.engine, "before_cursor_execute", spy)
    yield spy
    event.remove(db.engine, "before_cursor_execute", spy)


def fresh(model, record_id: int):
    """The record as a request or a job gets it: a new session, nothing loaded."""
    db.session.close()
    return db.session.get(model, record_id)


def test_the_report_docx_runs_no_query_while_it_renders(statements, monkeypatch):
    data = hashlib.sha256(b"%PDF-1.4 bilaga").hexdigest()
    upload = deviations_service.Upload("bilaga.pdf", "application/pdf", data, b"%PDF-1.4 bilaga", 1)
    deviation = send_report(uploads=[upload])
    deviations_service.forward(
        deviation, CHEF_B, db.session.get(Unit, "hc-soderstaden"), "Fel mottagare."
    )
    deviations_service.answer(deviation, CHEF_B, answer_input())
    feedback.give(deviation, user(CHEF_A), FeedbackInput("insufficient", "Saknar plan."))
    feedback.supplement(deviation, CHEF_B, SupplementInput("Ines Sved", "Plan från januari."))
    monkeypatch.setattr(
        deviations_service,
        "render_deviation",
        statements.around(deviations_service.render_deviation),
    )

    document = deviations_service.document(fresh(Deviation, deviation.id))

    assert document.startswith(b"PK")
    assert statements.seen == []


def test_the_kallelse_runs_no_query_while_it_renders(statements, monkeypatch):
    moment = datetime.now(UTC) + timedelta(days=30)
    earlier = sip_meeting(moment - timedelta(days=60), called=("bup-farsta",))
    meeting = sip_meeting(moment, state="skickad", meeting_type="uppfoljning")
    meeting.follows_id, meeting.chair_unit_id = earlier.id, "grundskola-skarpnack"
    meeting.secretary_unit_id, meeting.sent_at = "bup-farsta", datetime.now(UTC)
    db.session.commit()
    kind = record_documents.KINDS["sip"]
    monkeypatch.setattr(
        record_documents, "render_kallelse", statements.around(record_documents.render_kallelse)
    )

    meeting_id = meeting.id
    db.session.close()
    loaded = db.session.get(SipMeeting, meeting_id, options=kind.loads)
    document = kind.render(loaded, "Europe/Stockholm")

    assert document.startswith(b"PK")
    assert statements.seen == []


def test_the_minutes_run_no_query_while_they_render(statements, monkeypatch):
    preceding = sip_meeting(datetime(2026, 1, 10, 9, tzinfo=UTC))
    record = bus_individ(date(2026, 2, 10))
    record.sip_id, record.follow_up_convener_unit_id = preceding.id, "bup-farsta"
    db.session.commit()
    kind = record_documents.KINDS["bus_individ"]
    monkeypatch.setattr(
        record_documents,
        "render_bus_individ",
        statements.around(record_documents.render_bus_individ),
    )

    record_id = record.id
    db.session.close()
    loaded = db.session.get(BusIndivid, record_id, options=kind.loads)
    document = kind.render(loaded, "Europe/Stockholm")

    assert document.startswith(b"PK")
    assert statements.seen == []
