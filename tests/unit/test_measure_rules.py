"""The rules of decided measures: states, which reminder is due, on time (issue 17)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formservice.domain import measures as measure_rules
from formservice.domain.measures import BEFORE, DUE, MeasureFacts

DUE_DATE = date(2027, 3, 10)


def day(offset: int) -> date:
    return DUE_DATE + timedelta(days=offset)


@pytest.mark.parametrize(
    ("offset", "step"),
    [(-30, None), (-8, None), (-7, BEFORE), (-3, BEFORE), (-1, BEFORE), (0, DUE), (1, None)],
)
def test_the_step_due_on_each_day_around_the_date(offset, step):
    assert measure_rules.due_reminder(DUE_DATE, day(offset), False, False) == step


def test_each_step_is_due_once():
    assert measure_rules.due_reminder(DUE_DATE, day(-7), True, False) is None
    assert measure_rules.due_reminder(DUE_DATE, day(-2), True, False) is None
    assert measure_rules.due_reminder(DUE_DATE, day(0), True, False) == DUE
    assert measure_rules.due_reminder(DUE_DATE, day(0), True, True) is None


def test_a_measure_without_a_date_is_never_reminded():
    assert measure_rules.due_reminder(None, DUE_DATE, False, False) is None


@given(
    due=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
    start=st.integers(-400, 400),
    days=st.integers(0, 60),
)
def test_daily_runs_send_at_most_one_before_and_one_due_reminder(due, start, days):
    """Run every day from any start: at most one of each step, the due step only on the
    date, the before step only in the week before it."""
    sent: list[tuple[str, date]] = []
    before = on_date = False
    for n in range(days + 1):
        today = due + timedelta(days=start + n)
        step = measure_rules.due_reminder(due, today, before, on_date)
        if step is not None:
            sent.append((step, today))
            before, on_date = before or step == BEFORE, on_date or step == DUE
    steps = [step for step, _ in sent]
    assert steps.count(BEFORE) <= 1 and steps.count(DUE) <= 1
    for step, today in sent:
        if step == DUE:
            assert today == due
        else:
            assert due - timedelta(days=measure_rules.REMINDER_DAYS_BEFORE) <= today < due
    first, last = measure_rules.reminder_window(due)
    assert first == due and last == due + timedelta(days=measure_rules.REMINDER_DAYS_BEFORE)


def test_reported_once():
    assert measure_rules.report_done(measure_rules.OPEN) == measure_rules.DONE
    with pytest.raises(measure_rules.MeasureStateError):
        measure_rules.report_done(measure_rules.DONE)


def test_overdue_and_on_time():
    assert measure_rules.is_overdue(DUE_DATE, day(1), done=False)
    assert not measure_rules.is_overdue(DUE_DATE, day(0), done=False)
    assert not measure_rules.is_overdue(DUE_DATE, day(5), done=True)
    assert not measure_rules.is_overdue(None, day(5), done=False)
    assert measure_rules.done_in_time(DUE_DATE, day(0)) is True
    assert measure_rules.done_in_time(DUE_DATE, day(1)) is False
    assert measure_rules.done_in_time(DUE_DATE, None) is None
    assert measure_rules.done_in_time(None, day(0)) is None


def test_follow_up_counts_the_share_on_time_of_the_settled_measures():
    today = day(0)
    facts = [
        MeasureFacts(day(-10), day(-12)),  # early: in time
        MeasureFacts(day(-5), day(-5)),  # on the date: in time
        MeasureFacts(day(-8), day(-2)),  # late
        MeasureFacts(day(-1), None),  # overdue
        MeasureFacts(day(0), None),  # due today: not yet settled
        MeasureFacts(day(20), day(-1)),  # done before its date: in time
        MeasureFacts(None, None),  # no date: not counted
    ]
    figures = measure_rules.follow_up(facts, today)
    assert (figures.measures, figures.settled) == (6, 5)
    assert (figures.in_time, figures.late, figures.overdue, figures.pending) == (3, 1, 1, 1)
    assert figures.share_in_time == 60.0
    assert measure_rules.follow_up([], today).share_in_time is None
