"""Answer deadlines, reminders and escalation (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of an aware moment in the given zone (Europe/Stockholm)."""
    return moment.astimezone(ZoneInfo(tz)).date()


def answer_deadline(sent_on: date, days: int) -> date:
    """The last day on which chef B's answer is in time."""
    return sent_on + timedelta(days=days)


@dataclass(frozen=True)
class ReminderState:
    deadline: date
    reminded_before: bool
    reminded_due: bool
    escalated: bool


def due_reminders(state: ReminderState, today: date, days_before: int) -> list[str]:
    """Which of "before", "due" and "escalate" are due today and not yet sent.

    A report found late (the job did not run for days) gets only the most advanced
    step that applies, so recipients are not sent a burst of stale reminders.
    """
    if today > state.deadline:
        return [] if state.escalated else ["escalate"]
    if today == state.deadline:
        return [] if state.reminded_due else ["due"]
    if today >= state.deadline - timedelta(days=days_before):
        return [] if state.reminded_before else ["before"]
    return []


def is_overdue(deadline: date | None, today: date, answered: bool) -> bool:
    return deadline is not None and not answered and today > deadline
