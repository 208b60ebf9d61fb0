"""A group that counts its answer time in working days (issue 17, item 4): the deadline, the
reminders and "besvarad i tid" follow it, through the real queue and SMTP sink (both
databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from formservice import clock
from formservice.domain.deadlines import WORKING_DAYS
from formservice.extensions import db
from formservice.models import BusGroup, Forwarding, Unit
from formservice.services import deviations as deviations_service
from formservice.services import evaluation
from formservice.services.reminders import send_due
from tests.support.app import run_worker

from .helpers import CHEF_B, DEPUTY_B, answer_input, send_report, user

#: Wednesday 17 June 2026, 10:00 in Stockholm: midsommarafton is Friday 19 June.
SENT = datetime(2026, 6, 17, 8, 0, tzinfo=UTC)
BEFORE = "Påminnelse: avvikelse {case} ska besvaras senast {deadline}"


@pytest.fixture
def frozen(monkeypatch):
    """The service's clock stands at `SENT`, as when the report was sent."""
    monkeypatch.setattr(clock, "now", lambda: SENT)


def counts_in(kind: str, days: int = 10) -> None:
    group = db.session.get(BusGroup, "skarpnack")
    group.answer_days, group.answer_day_kind = days, kind
    db.session.commit()


def delivered(app, sink) -> list[tuple[str, str]]:
    run_worker(app)
    found = sorted((m["Subject"], m["To"]) for m in sink.messages)
    sink.clear()
    return found


def test_working_days_skip_midsommar_in_deadline_and_reminders(directory, smtp_sink, frozen):
    counts_in(WORKING_DAYS)
    deviation = send_report()
    # 18, 22, 23, 24, 25, 26, 29, 30 June, 1 and 2 July: midsommarafton and the weekends skipped.
    assert deviation.deadline == date(2026, 7, 2)
    delivered(directory, smtp_sink)  # the report's own messages
    # Seven working days before 2 July is 23 June (a calendar count would say 25 June).
    assert send_due(today=date(2026, 6, 22)) == 0
    assert send_due(today=date(2026, 6, 23)) == 1
    subject = BEFORE.format(case=deviation.case_number, deadline="2026-07-02")
    assert delivered(directory, smtp_sink) == sorted([(subject, CHEF_B), (subject, DEPUTY_B)])
    assert send_due(today=date(2026, 6, 25)) == 0  # once
    assert send_due(today=date(2026, 7, 2)) == 1  # the last day
    assert send_due(today=date(2026, 7, 3)) == 1  # escalated the day after


def test_calendar_days_stay_the_default(directory, smtp_sink, frozen):
    counts_in("kalenderdagar")
    deviation = send_report()
    assert deviation.deadline == date(2026, 6, 27)
    assert send_due(today=date(2026, 6, 19)) == 0
    assert send_due(today=date(2026, 6, 20)) == 1


def test_answered_in_time_follows_the_working_day_deadline(directory, smtp_sink, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: SENT)
    counts_in(WORKING_DAYS)
    deviation = send_report()
    answered = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # after 27 June, before 2 July
    monkeypatch.setattr(clock, "now", lambda: answered)
    deviations_service.answer(deviation, user(CHEF_B), answer_input())
    row = evaluation.row(deviation, date(2026, 7, 10))
    assert row.in_time is True and row.answer_days == 14


def test_forwarding_restarts_the_deadline_in_working_days(directory, smtp_sink, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: SENT)
    counts_in(WORKING_DAYS, days=2)
    deviation = send_report()
    assert deviation.deadline == date(2026, 6, 22)
    later = datetime(2026, 6, 18, 8, 0, tzinfo=UTC)  # Thursday, before midsommarafton
    monkeypatch.setattr(clock, "now", lambda: later)
    target = db.session.get(Unit, "hc-soderstaden")
    deviations_service.forward(deviation, user(CHEF_B), target, "Fel mottagare")
    assert db.session.query(Forwarding).count() == 1
    assert deviation.deadline == date(2026, 6, 23)  # two working days from 18 June
