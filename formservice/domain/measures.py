"""Decided measures ("Beslutade åtgärder") followed up: states, reminders, on time (issue 17).

Each row of a closing's "Beslutade åtgärder" becomes a measure. The responsible unit's chef
and deputies are reminded `REMINDER_DAYS_BEFORE` days before its date and on it, and report it
"Genomförd" with a comment, once. Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

OPEN = "oppen"
DONE = "genomford"

STATE_LABELS = {OPEN: "Ej genomförd", DONE: "Genomförd"}

#: Days before a measure's date ("Klart senast") that the first reminder goes out.
REMINDER_DAYS_BEFORE = 7
#: The reminder steps: some days before the date, and on it.
BEFORE, DUE = "before", "due"


class MeasureStateError(Exception):
    """The measure cannot be reported done in its state (it is done already)."""

    def __init__(self, state: str) -> None:
        super().__init__(f"cannot report a measure done in state {state!r}")
        self.state = state


def report_done(state: str) -> str:
    """The state after "Genomförd"; only an open measure can be reported, once."""
    if state != OPEN:
        raise MeasureStateError(state)
    return DONE


def due_reminder(
    due: date | None,
    today: date,
    reminded_before: bool,
    reminded_due: bool,
    days_before: int = REMINDER_DAYS_BEFORE,
) -> str | None:
    """The reminder step due today and not yet sent, or None.

    On the date: `DUE`. From `days_before` days before it up to the day before: `BEFORE`,
    unless the date's own reminder is already out. After the date nothing: the measure is
    overdue, and the steering group's digest lists it. A measure without a date gets none."""
    if due is None or today > due:
        return None
    if today == due:
        return None if reminded_due else DUE
    if today >= due - timedelta(days=days_before):
        return None if reminded_before or reminded_due else BEFORE
    return None


def reminder_window(today: date, days_before: int = REMINDER_DAYS_BEFORE) -> tuple[date, date]:
    """The dates (inclusive) of measures that may owe a reminder today."""
    return today, today + timedelta(days=days_before)


def is_overdue(due: date | None, today: date, done: bool) -> bool:
    """Not done and its date has passed."""
    return due is not None and not done and today > due


def done_in_time(due: date | None, done_on: date | None) -> bool | None:
    """Reported done on or before its date; None while open or when it has no date."""
    if due is None or done_on is None:
        return None
    return done_on <= due


@dataclass(frozen=True)
class MeasureFacts:
    """What the follow-up figures need of one measure (local dates)."""

    due: date | None
    done_on: date | None


@dataclass(frozen=True)
class FollowUp:
    """Measures whose date falls in a period: how many were carried out on time."""

    measures: int  # with a date in the period
    settled: int  # done, or past their date: the outcome is known
    in_time: int
    late: int  # done after the date
    overdue: int  # open after the date
    pending: int  # open, date not yet reached
    share_in_time: float | None  # percent of `settled`, one decimal


def follow_up(measures: Iterable[MeasureFacts], today: date) -> FollowUp:
    """The figures of "Beslutade åtgärder" for the evaluation: the share carried out on time
    counts the measures whose outcome is known (done, or past their date)."""
    dated = [m for m in measures if m.due is not None]
    in_time = sum(1 for m in dated if done_in_time(m.due, m.done_on))
    late = sum(1 for m in dated if done_in_time(m.due, m.done_on) is False)
    overdue = sum(1 for m in dated if is_overdue(m.due, today, m.done_on is not None))
    settled = in_time + late + overdue
    return FollowUp(
        measures=len(dated),
        settled=settled,
        in_time=in_time,
        late=late,
        overdue=overdue,
        pending=len(dated) - settled,
        share_in_time=round(100 * in_time / settled, 1) if settled else None,
    )
