"""The benchmarks' synthetic data (tests/support/seed.py) goes in through the services and the
models and reads back as the pages read it: a smoke test of what the benchmarks seed."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from formservice.extensions import db
from formservice.models import (
    Attachment,
    AuditEvent,
    BusGroup,
    BusIndivid,
    Deviation,
    DeviationAnswer,
    DeviationClosing,
    GroupMeeting,
    SipMeeting,
)
from formservice.services import files, meetings
from tests.support import seed


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_seeded_group_has_cases_in_every_state_with_answers_closings_and_files(directory):
    seed.add_group("bench-prov", "Lokal BUS prov")
    ids = seed.seed_cases("bench-prov", 40, prefix="P", pdf_attachments=2, other_attachments=3)
    seed.seed_meetings("bench-prov", sip=3, bus_individ=2)
    meeting_id = seed.add_meeting("bench-prov", date.today() + timedelta(days=7))

    group = db.session.get(BusGroup, "bench-prov")
    assert {u.id for u in group.units} == set(seed.UNITS)
    assert group.secretary.email == seed.SECRETARY
    assert db.session.scalar(  # made as an administrator makes it: with its audit event
        select(func.count()).select_from(AuditEvent).where(AuditEvent.object_id == "bench-prov")
    )
    cases = db.session.scalars(select(Deviation).where(Deviation.id.in_(ids))).all()
    states = Counter(c.state for c in cases)
    assert len(cases) == 40 and set(states) == {"skickad", "besvarad", "behandlad", "avslutad"}
    assert count(DeviationAnswer) == 40 - states["skickad"]
    assert count(DeviationClosing) == states["avslutad"]
    attachments = db.session.scalars(select(Attachment)).all()
    assert sorted(a.file.content_type for a in attachments) == [
        "application/pdf",
        "application/pdf",
        "image/png",
        "image/png",
        "image/png",
    ]
    pdf = next(a for a in attachments if a.page_count == 2)
    assert files.read(pdf.file).startswith(b"%PDF")
    assert (count(SipMeeting), count(BusIndivid)) == (3, 2)
    assert count(GroupMeeting) == 2  # the earlier meeting of the closings, and the next one
    assert meetings.count_cases(db.session.get(GroupMeeting, meeting_id)) > 0


def test_seeding_twice_reuses_the_meeting_of_the_closings(directory):
    seed.add_group("bench-prov", "Lokal BUS prov")
    first = seed.seed_cases("bench-prov", 10, prefix="A", seed=1)
    second = seed.seed_cases("bench-prov", 10, prefix="B", seed=2)
    assert len(set(first + second)) == 20
    assert count(GroupMeeting) == 1
