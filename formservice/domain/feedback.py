"""Chef A's feedback on B's answer ("Återkoppling på svaret") and B's one supplementary
answer ("Kompletterande svar"): the verdicts, when each may be given, the supplement's
deadline and its reminders. Pure: no Flask, no database.

The report's state does not change: feedback and supplement are facts beside it (a flag on
lists and in the digest), so the steering group's agenda and closing work as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .deviation import BEHANDLAD, BESVARAD

#: The verdict codes stored in `deviation_feedback.verdict` (the labels are the form's).
SUFFICIENT = "sufficient"
INSUFFICIENT = "insufficient"
VERDICTS = (SUFFICIENT, INSUFFICIENT)

#: States in which an answered report takes feedback and a supplement: not once it is
#: closed (the steering group has decided) or withdrawn.
OPEN_STATES = frozenset({BESVARAD, BEHANDLAD})


class FeedbackRefused(ValueError):
    """Feedback or a supplement that the rules do not allow now; `reason` is a code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def feedback_problem(state: str, answered: bool, has_feedback: bool) -> str | None:
    """Why feedback cannot be given now (a code), or None: once per answer, while open."""
    if not answered:
        return "not_answered"
    if has_feedback:
        return "already_given"
    if state not in OPEN_STATES:
        return "closed"
    return None


def motivation_required(verdict: str) -> bool:
    """ "Motivering" is required for "Svaret räcker inte"."""
    return verdict == INSUFFICIENT


def check_feedback(verdict: str, motivation: str) -> None:
    """Refuse an unknown verdict, or "räcker inte" without a motivation."""
    if verdict not in VERDICTS:
        raise FeedbackRefused("unknown_verdict")
    if motivation_required(verdict) and not motivation.strip():
        raise FeedbackRefused("motivation_missing")


def supplement_problem(state: str, verdict: str | None, has_supplement: bool) -> str | None:
    """Why B cannot supplement now (a code), or None: one supplement, only after
    "räcker inte", while the case is open. A late supplement is taken, as a late answer is."""
    if verdict != INSUFFICIENT:
        return "not_requested"
    if has_supplement:
        return "already_given"
    if state not in OPEN_STATES:
        return "closed"
    return None


def supplement_deadline(given_on: date, days: int) -> date:
    """The last day for B's supplementary answer: `days` after the feedback's local date."""
    return given_on + timedelta(days=days)


@dataclass(frozen=True)
class SupplementReminders:
    deadline: date
    reminded_before: bool
    reminded_due: bool


def due_supplement_reminders(
    state: SupplementReminders, today: date, days_before: int
) -> list[str]:
    """Which of "before" and "due" are due today and not yet sent, as for the answer's
    reminders; a report found late gets only the latest step, and none after the deadline
    (the digest shows the flag, so no escalation mail)."""
    if today > state.deadline:
        return []
    if today == state.deadline:
        return [] if state.reminded_due else ["due"]
    if today >= state.deadline - timedelta(days=days_before):
        return [] if state.reminded_before or state.reminded_due else ["before"]
    return []


def awaits_supplement(verdict: str | None, has_supplement: bool) -> bool:
    """The case carries the flag "Återkoppling: räcker inte" and waits for B."""
    return verdict == INSUFFICIENT and not has_supplement
