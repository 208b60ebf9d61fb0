"""Pure rules: state transitions, case numbers, answer deadlines and reminders (SPEC §3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formservice.domain import deviation as rules
from formservice.domain.deadlines import (
    ReminderState,
    answer_deadline,
    due_reminders,
    is_overdue,
    local_date,
)

STATES = [
    rules.UTKAST,
    rules.SKICKAD,
    rules.BESVARAD,
    rules.BEHANDLAD,
    rules.AVSLUTAD,
    rules.ATERKALLAD,
]

#: The routine of SPEC §3, written out independently of TRANSITIONS: event -> {from: to}.
EXPECTED = {
    "send": {rules.UTKAST: rules.SKICKAD},
    "forward": {rules.SKICKAD: rules.SKICKAD},
    "answer": {rules.SKICKAD: rules.BESVARAD},
    "withdraw": {rules.UTKAST: rules.ATERKALLAD, rules.SKICKAD: rules.ATERKALLAD},
    "put_on_agenda": {rules.SKICKAD: rules.BEHANDLAD, rules.BESVARAD: rules.BEHANDLAD},
    "close": {
        rules.SKICKAD: rules.AVSLUTAD,
        rules.BESVARAD: rules.AVSLUTAD,
        rules.BEHANDLAD: rules.AVSLUTAD,
    },
}
PAIRS = [(event, state) for event in EXPECTED for state in STATES]

DEADLINE = date(2026, 11, 30)
DAYS_BEFORE = 7


def test_every_event_of_the_routine_is_known():
    assert set(rules.TRANSITIONS) == set(EXPECTED)
    assert set(rules.STATE_LABELS) == set(STATES)


@pytest.mark.parametrize(("event", "state"), PAIRS)
def test_transition_table(event, state):
    target = EXPECTED[event].get(state)
    assert rules.can(state, event) is (target is not None)
    if target is None:
        with pytest.raises(rules.TransitionError) as caught:
            rules.next_state(state, event)
        assert (caught.value.state, caught.value.event) == (state, event)
    else:
        assert rules.next_state(state, event) == target


@pytest.mark.parametrize("state", [rules.AVSLUTAD, rules.ATERKALLAD])
def test_final_states_allow_no_event(state):
    assert not any(rules.can(state, event) for event in rules.TRANSITIONS)


def test_unknown_event_is_not_silently_allowed():
    with pytest.raises(KeyError):
        rules.next_state(rules.SKICKAD, "delete")


@pytest.mark.parametrize(
    ("year", "number", "expected"),
    [
        (2026, 1, "BUS-2026-0001"),
        (2026, 42, "BUS-2026-0042"),
        (2027, 9999, "BUS-2027-9999"),
        (2027, 10000, "BUS-2027-10000"),
    ],
)
def test_format_case_number(year, number, expected):
    assert rules.format_case_number(year, number) == expected


def test_answer_deadline_counts_calendar_days():
    assert answer_deadline(date(2026, 11, 22), 30) == date(2026, 12, 22)
    assert answer_deadline(date(2026, 12, 15), 30) == date(2027, 1, 14)
    assert answer_deadline(date(2028, 2, 1), 28) == date(2028, 2, 29)


def state(before=False, due=False, escalated=False, deadline=DEADLINE) -> ReminderState:
    return ReminderState(deadline, before, due, escalated)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-30, []), (-8, []), (-7, ["before"]), (-1, ["before"]), (0, ["due"]), (1, ["escalate"])],
)
def test_due_reminders_on_each_edge_day_when_nothing_was_sent(offset, expected):
    today = DEADLINE + timedelta(days=offset)
    assert due_reminders(state(), today, DAYS_BEFORE) == expected


@pytest.mark.parametrize(
    ("offset", "sent", "expected"),
    [
        (-7, state(before=True), []),
        (-1, state(before=True), []),
        (0, state(before=True), ["due"]),
        (0, state(before=True, due=True), []),
        (1, state(before=True, due=True), ["escalate"]),
        (1, state(before=True, due=True, escalated=True), []),
        (60, state(before=True, due=True, escalated=True), []),
    ],
)
def test_due_reminders_never_repeats_a_step(offset, sent, expected):
    assert due_reminders(sent, DEADLINE + timedelta(days=offset), DAYS_BEFORE) == expected


@pytest.mark.parametrize(
    ("offset", "expected"), [(-3, ["before"]), (0, ["due"]), (1, ["escalate"]), (20, ["escalate"])]
)
def test_report_found_late_gets_only_the_most_advanced_step(offset, expected):
    """The job did not run for days: no burst of stale reminders, just the step that applies."""
    assert due_reminders(state(), DEADLINE + timedelta(days=offset), DAYS_BEFORE) == expected


def test_days_before_is_a_setting():
    assert due_reminders(state(), DEADLINE - timedelta(days=10), 10) == ["before"]
    assert due_reminders(state(), DEADLINE - timedelta(days=10), 7) == []


@pytest.mark.parametrize(
    ("deadline", "today", "answered", "expected"),
    [
        (DEADLINE, DEADLINE, False, False),
        (DEADLINE, DEADLINE + timedelta(days=1), False, True),
        (DEADLINE, DEADLINE + timedelta(days=1), True, False),
        (None, DEADLINE, False, False),
    ],
)
def test_is_overdue_starts_the_day_after_the_deadline(deadline, today, answered, expected):
    assert is_overdue(deadline, today, answered) is expected


STOCKHOLM = "Europe/Stockholm"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Winter time (UTC+1): midnight in Stockholm is 23:00 UTC the day before.
        (datetime(2026, 1, 14, 22, 59, tzinfo=UTC), date(2026, 1, 14)),
        (datetime(2026, 1, 14, 23, 0, tzinfo=UTC), date(2026, 1, 15)),
        # Summer time (UTC+2): midnight is 22:00 UTC.
        (datetime(2026, 6, 30, 21, 59, tzinfo=UTC), date(2026, 6, 30)),
        (datetime(2026, 6, 30, 22, 0, tzinfo=UTC), date(2026, 7, 1)),
        # Clocks go forward at 01:00 UTC on 2026-03-29.
        (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), date(2026, 3, 28)),
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), date(2026, 3, 30)),
        # Clocks go back at 01:00 UTC on 2026-10-25.
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), date(2026, 10, 26)),
    ],
)
def test_local_date_in_stockholm(moment, expected):
    assert local_date(moment, STOCKHOLM) == expected


def test_local_date_of_a_moment_given_in_another_zone():
    from zoneinfo import ZoneInfo

    new_york = datetime(2026, 10, 25, 19, 30, tzinfo=ZoneInfo("America/New_York"))
    assert local_date(new_york, STOCKHOLM) == date(2026, 10, 26)


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
FLAGS = {"before": "reminded_before", "due": "reminded_due", "escalate": "escalated"}


@given(
    deadline=dates,
    today=dates,
    before=st.booleans(),
    due=st.booleans(),
    escalated=st.booleans(),
    days_before=st.integers(min_value=1, max_value=60),
)
def test_at_most_one_step_and_never_one_already_sent(
    deadline, today, before, due, escalated, days_before
):
    current = ReminderState(deadline, before, due, escalated)
    steps = due_reminders(current, today, days_before)
    assert len(steps) <= 1
    assert all(not getattr(current, FLAGS[step]) for step in steps)


@given(deadline=dates, days_before=st.integers(min_value=1, max_value=30))
def test_daily_run_produces_each_step_exactly_once(deadline, days_before):
    current = ReminderState(deadline, False, False, False)
    produced: list[tuple[str, int]] = []
    for offset in range(-30, 11):
        for step in due_reminders(current, deadline + timedelta(days=offset), days_before):
            produced.append((step, offset))
            current = replace(current, **{FLAGS[step]: True})
    assert produced == [("before", -days_before), ("due", 0), ("escalate", 1)]
