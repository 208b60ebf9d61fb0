"""The rules of feedback on the answer and the one supplement (domain.feedback)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formservice.domain import feedback as feedback_rules
from formservice.domain.deviation import STATE_LABELS


def test_feedback_once_per_answer_while_the_case_is_open() -> None:
    assert feedback_rules.feedback_problem("besvarad", answered=True, has_feedback=False) is None
    assert feedback_rules.feedback_problem("behandlad", answered=True, has_feedback=False) is None
    assert (
        feedback_rules.feedback_problem("skickad", answered=False, has_feedback=False)
        == "not_answered"
    )
    assert (
        feedback_rules.feedback_problem("besvarad", answered=True, has_feedback=True)
        == "already_given"
    )
    assert (
        feedback_rules.feedback_problem("avslutad", answered=True, has_feedback=False) == "closed"
    )


@given(st.sampled_from(sorted(STATE_LABELS)), st.booleans(), st.booleans())
def test_feedback_is_possible_exactly_in_the_open_answered_states(
    state: str, answered: bool, has_feedback: bool
) -> None:
    allowed = feedback_rules.feedback_problem(state, answered, has_feedback) is None
    assert allowed == (answered and not has_feedback and state in {"besvarad", "behandlad"})


def test_motivation_is_required_only_when_the_answer_is_not_enough() -> None:
    feedback_rules.check_feedback(feedback_rules.SUFFICIENT, "")
    feedback_rules.check_feedback(feedback_rules.INSUFFICIENT, "Saknar plan.")
    with pytest.raises(feedback_rules.FeedbackRefused) as refused:
        feedback_rules.check_feedback(feedback_rules.INSUFFICIENT, "  \n")
    assert refused.value.reason == "motivation_missing"
    with pytest.raises(feedback_rules.FeedbackRefused) as refused:
        feedback_rules.check_feedback("maybe", "Text.")
    assert refused.value.reason == "unknown_verdict"


def test_one_supplement_only_after_insufficient_while_open() -> None:
    assert feedback_rules.supplement_problem("besvarad", feedback_rules.INSUFFICIENT, False) is None
    assert (
        feedback_rules.supplement_problem("behandlad", feedback_rules.INSUFFICIENT, False) is None
    )
    assert (
        feedback_rules.supplement_problem("besvarad", feedback_rules.SUFFICIENT, False)
        == "not_requested"
    )
    assert feedback_rules.supplement_problem("besvarad", None, False) == "not_requested"
    assert (
        feedback_rules.supplement_problem("besvarad", feedback_rules.INSUFFICIENT, True)
        == "already_given"
    )
    assert (
        feedback_rules.supplement_problem("avslutad", feedback_rules.INSUFFICIENT, False)
        == "closed"
    )
    assert feedback_rules.awaits_supplement(feedback_rules.INSUFFICIENT, False)
    assert not feedback_rules.awaits_supplement(feedback_rules.INSUFFICIENT, True)
    assert not feedback_rules.awaits_supplement(feedback_rules.SUFFICIENT, False)


def test_the_supplement_deadline_counts_from_the_feedback_day() -> None:
    assert feedback_rules.supplement_deadline(date(2026, 12, 24), 14) == date(2027, 1, 7)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    st.integers(min_value=-3, max_value=20),
    st.integers(min_value=1, max_value=10),
)
def test_each_reminder_step_comes_once_and_never_after_the_deadline(
    deadline: date, offset: int, days_before: int
) -> None:
    """Walking the days from `offset` days before the deadline onwards, with the flags the
    service sets, gives at most one "before" and one "due", and nothing after the day."""
    before = due = False
    sent: list[tuple[date, str]] = []
    today = deadline - timedelta(days=offset)
    while today <= deadline + timedelta(days=3):
        state = feedback_rules.SupplementReminders(deadline, before, due)
        for step in feedback_rules.due_supplement_reminders(state, today, days_before):
            sent.append((today, step))
            before, due = before or step == "before", due or step == "due"
        today += timedelta(days=1)
    steps = [step for _, step in sent]
    assert steps.count("before") <= 1 and steps.count("due") <= 1
    assert all(day <= deadline for day, _ in sent)
    if offset >= 0:
        assert (deadline, "due") in sent
    if offset > days_before:
        assert (deadline - timedelta(days=days_before), "before") in sent
