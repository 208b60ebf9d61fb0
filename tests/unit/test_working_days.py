"""Answer time in working days across Swedish holidays (issue 17, item 4), against the
`holidays` package's calendar."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
from hypothesis import given
from hypothesis import strategies as st

from formservice.domain.deadlines import (
    CALENDAR_DAYS,
    WORKING_DAYS,
    ReminderState,
    add_working_days,
    answer_deadline,
    due_reminders,
    is_working_day,
    reminder_start,
)


def days_off(year: int) -> set[date]:
    """Independently: the package's public and de facto Swedish holidays."""
    return set(holidays.Sweden(years=year, categories=("public", "de_facto")))


def test_midsummer_eve_christmas_and_new_year_are_not_working_days():
    for day in (
        date(2026, 6, 19),  # midsommarafton (Friday)
        date(2026, 12, 24),  # julafton
        date(2026, 12, 25),  # juldagen
        date(2026, 12, 31),  # nyårsafton
        date(2027, 1, 1),  # nyårsdagen
        date(2027, 1, 6),  # trettondedag jul
        date(2026, 4, 3),  # långfredagen
        date(2026, 4, 6),  # annandag påsk
        date(2026, 5, 14),  # Kristi himmelsfärdsdag
    ):
        assert not is_working_day(day), day
    assert is_working_day(date(2026, 6, 22))  # the Monday after midsommar
    assert not is_working_day(date(2026, 6, 20)) and not is_working_day(date(2026, 6, 21))


def test_deadline_skips_midsommar():
    # Sent Wednesday 17 June 2026: Thursday 18 is day 1, midsommarafton and the weekend are
    # skipped, Monday 22 is day 2.
    assert answer_deadline(date(2026, 6, 17), 2, WORKING_DAYS) == date(2026, 6, 22)
    assert answer_deadline(date(2026, 6, 17), 2, CALENDAR_DAYS) == date(2026, 6, 19)


def test_deadline_skips_christmas_and_crosses_the_year():
    # Sent Monday 21 December 2026: 22, 23 are days 1–2; julafton, juldagen and the weekend
    # are off; 28, 29, 30 are days 3–5; nyårsafton, nyårsdagen and the weekend are off; 4 and
    # 5 January are days 6–7; trettondedag jul is off; 7 January is day 8.
    assert answer_deadline(date(2026, 12, 21), 5, WORKING_DAYS) == date(2026, 12, 30)
    assert answer_deadline(date(2026, 12, 21), 6, WORKING_DAYS) == date(2027, 1, 4)
    assert answer_deadline(date(2026, 12, 21), 8, WORKING_DAYS) == date(2027, 1, 7)


def test_deadline_skips_easter():
    # Sent Wednesday 1 April 2026: 2 April is day 1; långfredag, the weekend and annandag påsk
    # are off; 7 April is day 2.
    assert answer_deadline(date(2026, 4, 1), 2, WORKING_DAYS) == date(2026, 4, 7)


@given(st.dates(date(2024, 1, 1), date(2035, 12, 31)), st.integers(1, 60))
def test_working_day_deadline_against_the_holidays_calendar(sent_on, days):
    deadline = answer_deadline(sent_on, days, WORKING_DAYS)
    between = [sent_on + timedelta(n) for n in range(1, (deadline - sent_on).days + 1)]
    off = days_off(sent_on.year) | days_off(sent_on.year + 1) | days_off(sent_on.year + 2)
    working = [d for d in between if d.weekday() < 5 and d not in off]
    assert len(working) == days  # exactly `days` working days after sending...
    assert working[-1] == deadline  # ...the deadline itself the last of them
    assert deadline - sent_on >= timedelta(days=days)


@given(st.dates(date(2024, 1, 1), date(2035, 12, 31)), st.integers(1, 20))
def test_reminder_counts_back_in_working_days(sent_on, days_before):
    deadline = add_working_days(sent_on, 30)
    start = reminder_start(deadline, days_before, WORKING_DAYS)
    assert is_working_day(start)
    assert add_working_days(start, days_before) == deadline
    state = ReminderState(deadline, False, False, False, WORKING_DAYS)
    assert due_reminders(state, start, days_before) == ["before"]
    assert due_reminders(state, start - timedelta(days=1), days_before) == []


def test_reminder_in_working_days_comes_earlier_over_christmas():
    deadline = date(2027, 1, 7)
    calendar = reminder_start(deadline, 7, CALENDAR_DAYS)
    working = reminder_start(deadline, 7, WORKING_DAYS)
    assert calendar == date(2026, 12, 31)
    assert working == date(2026, 12, 22)  # 5, 4 January, 30, 29, 28, 23, 22 December
