"""Answer deadlines, reminders and escalation (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

#: "Svarstid räknas i": how a group counts its answer time (stored code -> label).
CALENDAR_DAYS, WORKING_DAYS = "kalenderdagar", "arbetsdagar"
DAY_KINDS: dict[str, str] = {CALENDAR_DAYS: "Kalenderdagar", WORKING_DAYS: "Arbetsdagar"}

#: Days off besides weekends: Swedish public holidays and the de facto ones that fall on
#: weekdays (midsommarafton, julafton, nyårsafton), as the `holidays` package keeps them.
_HOLIDAY_CATEGORIES = ("public", "de_facto")


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of an aware moment in the given zone (Europe/Stockholm)."""
    return moment.astimezone(ZoneInfo(tz)).date()


@lru_cache(maxsize=64)
def _days_off(year: int) -> frozenset[date]:
    """The Swedish holidays of one year that are not weekends anyway."""
    found = holidays.Sweden(years=year, categories=_HOLIDAY_CATEGORIES, include_sundays=False)
    return frozenset(found)


def is_working_day(day: date) -> bool:
    """Monday to Friday and no Swedish public or de facto holiday."""
    return day.weekday() < 5 and day not in _days_off(day.year)


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself never counts)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return day


def subtract_working_days(end: date, days: int) -> date:
    """The working day `days` working days before `end`."""
    day = end
    left = days
    while left > 0:
        day -= timedelta(days=1)
        left -= is_working_day(day)
    return day


def answer_deadline(sent_on: date, days: int, day_kind: str = CALENDAR_DAYS) -> date:
    """The last day on which chef B's answer is in time: `days` calendar days after sending,
    or in working days the `days`-th working day after it."""
    if day_kind == WORKING_DAYS:
        return add_working_days(sent_on, days)
    return sent_on + timedelta(days=days)


def reminder_start(deadline: date, days_before: int, day_kind: str = CALENDAR_DAYS) -> date:
    """The day the "before" reminder is due, counted back from the deadline in the group's
    kind of days."""
    if day_kind == WORKING_DAYS:
        return subtract_working_days(deadline, days_before)
    return deadline - timedelta(days=days_before)


@dataclass(frozen=True)
class ReminderState:
    deadline: date
    reminded_before: bool
    reminded_due: bool
    escalated: bool
    day_kind: str = CALENDAR_DAYS


def due_reminders(state: ReminderState, today: date, days_before: int) -> list[str]:
    """Which of "before", "due" and "escalate" are due today and not yet sent.

    A report found late (the job did not run for days) gets only the most advanced
    step that applies, so recipients are not sent a burst of stale reminders.
    """
    if today > state.deadline:
        return [] if state.escalated else ["escalate"]
    if today == state.deadline:
        return [] if state.reminded_due else ["due"]
    if today >= reminder_start(state.deadline, days_before, state.day_kind):
        return [] if state.reminded_before else ["before"]
    return []


def is_overdue(deadline: date | None, today: date, answered: bool) -> bool:
    """Unanswered and today is past the deadline."""
    return deadline is not None and not answered and today > deadline
