"""Recurring deviations (issue 17, item 3) through the database, the worker's job, the real
queue and the SMTP sink: one notice without content to the group's secretary and convener,
once per pattern, again when it grows; the digest's summary names the pattern with its case
numbers (both databases)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from formservice.domain.patterns import CATEGORY, FROM_UNIT
from formservice.extensions import db
from formservice.models import AuditEvent, Digest, GroupMeeting, PatternNotice
from formservice.services import digest as digest_service
from formservice.services import patterns
from tests.support.app import run_worker
from worker import jobs

from .helpers import CONVENER, SECRETARY, VANTETID, send_report, user

SUBJECT = "Återkommande avvikelser"


def delivered(app, sink) -> list:
    run_worker(app)
    found = sorted(sink.messages, key=lambda m: m["To"])
    sink.clear()
    return found


def notices(app, sink) -> list:
    return [m for m in delivered(app, sink) if m["Subject"] == SUBJECT]


def told() -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "pattern.notified")
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_told_once_and_again_when_the_pattern_grows(directory, smtp_sink):
    first = [send_report(description=f"Unik text PAT-{n}") for n in range(2)]
    delivered(directory, smtp_sink)
    assert jobs.detect_patterns() == 0  # two are no pattern
    first.append(send_report(description="Unik text PAT-2"))
    delivered(directory, smtp_sink)

    assert jobs.detect_patterns() == 2  # from the same unit, and in the same category
    sent = notices(directory, smtp_sink)
    assert sorted(m["To"] for m in sent) == sorted([CONVENER, SECRETARY])
    for message in sent:
        raw = message.as_string()
        body = message.get_body(("plain",)).get_content()
        assert "http://formservice.test/" in body  # the deviation list (the landing page)
        for report in first:
            assert report.case_number not in raw
        assert "PAT-" not in raw and "BUP Farsta" not in raw
    events = told()
    assert {(e.detail["kind"], e.detail["key"]) for e in events} == {
        (FROM_UNIT, "familjeenheten-skarpnack"),
        (CATEGORY, "remiss-eller-forfragan-obesvarad-eller-avvisad"),
    }
    assert all(e.detail["cases"] == [r.id for r in first] for e in events)

    # The job again (and a second worker's run): nothing new is told.
    assert jobs.detect_patterns() == 0
    assert jobs.detect_patterns() == 0
    assert notices(directory, smtp_sink) == []

    # A case in another category from the same unit grows one pattern only.
    fourth = send_report(categories=[VANTETID])
    delivered(directory, smtp_sink)
    assert jobs.detect_patterns() == 1
    assert len(notices(directory, smtp_sink)) == 2  # one e-mail each, however many grew
    grown = told()[-1]
    assert grown.detail["kind"] == FROM_UNIT
    assert grown.detail["cases"] == [*(r.id for r in first), fourth.id]
    rows = db.session.scalars(select(PatternNotice)).all()
    assert len(rows) == 2


def test_the_digest_summary_names_the_pattern_with_its_case_numbers(directory, smtp_sink):
    reports = [send_report(categories=[VANTETID]) for _ in range(3)]
    meeting = GroupMeeting(
        group_id="skarpnack",
        meeting_date=date.today() + timedelta(days=7),
        place="",
        created_by_id=user(SECRETARY).id,
    )
    db.session.add(meeting)
    db.session.flush()
    digest = Digest(meeting_id=meeting.id, requested_by_id=user(SECRETARY).id)
    db.session.add(digest)
    db.session.commit()
    summary = digest_service.gather(digest).summary
    numbers = ", ".join(r.case_number for r in reports)
    by_kind = {p["kind"]: p for p in summary["patterns"]}
    assert by_kind[FROM_UNIT] == {
        "receiving": "BUP Farsta",
        "kind": FROM_UNIT,
        "about": "Familjeenheten Skarpnäck",
        "count": 3,
        "case_numbers": numbers,
    }
    assert by_kind[CATEGORY]["about"] == "Väntetid eller tillgänglighet"
    assert by_kind[CATEGORY]["case_numbers"] == numbers


def test_the_setting_sets_how_many_make_a_pattern(directory, smtp_sink):
    directory.config["FORMSERVICE_PATTERN_COUNT"] = 4
    for _ in range(3):
        send_report()
    assert patterns.notify_due() == 0
    send_report()
    assert patterns.notify_due() == 2
