"""Which local BUS group a case belongs to when units serve several groups (SPEC §2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formservice.domain.groups import (
    GroupNotChosen,
    NeedsChoice,
    choose,
    possible_groups,
    settle,
)

GROUPS = st.frozensets(st.sampled_from(["farsta", "skarpnack", "enskede", "vantor"]), max_size=4)
CHOICES = st.none() | st.just("") | st.sampled_from(["farsta", "skarpnack", "enskede", "okand"])


@given(GROUPS, GROUPS, CHOICES)
def test_a_decided_group_is_always_one_the_units_allow(own, other, choice):
    result = choose(own, other, choice)
    if isinstance(result, str):
        assert result in own | other
        assert result in possible_groups(own, other)
        if own & other:
            assert result in own & other  # a shared group wins over the units' other groups
        if choice:
            assert result == choice  # never another group than the one chosen


@given(GROUPS, GROUPS, CHOICES)
def test_a_question_only_when_a_choice_is_really_needed(own, other, choice):
    possible = possible_groups(own, other)
    result = choose(own, other, choice)
    if isinstance(result, NeedsChoice):
        assert result.possible == possible
        assert (choice and choice not in possible) or (not choice and len(possible) > 1)
        assert result.refused == (choice or None)
    elif result is None:
        assert not own and not other and not choice
    if not choice and len(possible) == 1:
        assert result == next(iter(possible))  # exactly one candidate: no question


@given(GROUPS, GROUPS)
def test_every_possible_group_can_be_chosen(own, other):
    for group in possible_groups(own, other):
        assert choose(own, other, group) == group


@given(GROUPS, GROUPS)
def test_the_reporting_units_groups_come_before_the_receiving_units(own, other):
    possible = possible_groups(own, other)
    if own & other:
        assert possible == own & other
    elif own:
        assert possible == own
    else:
        assert possible == other


def test_examples():
    both = {"farsta", "skarpnack"}
    assert choose(both, both, None) == NeedsChoice(frozenset(both))
    assert choose(both, both, "farsta") == "farsta"
    assert choose(both, {"farsta"}, None) == "farsta"
    assert choose(both, {"farsta"}, "skarpnack") == NeedsChoice(frozenset({"farsta"}), "skarpnack")
    assert choose(both, set(), None) == NeedsChoice(frozenset(both))  # no shared group
    assert choose(set(), {"farsta"}, None) == "farsta"
    assert choose(set(), set(), None) is None
    assert choose(set(), set(), "farsta") == NeedsChoice(frozenset(), "farsta")


def test_settle_raises_for_the_services():
    assert settle({"farsta"}, set(), None) == "farsta"
    with pytest.raises(GroupNotChosen) as raised:
        settle({"farsta", "skarpnack"}, set(), None)
    assert raised.value.needs.possible == {"farsta", "skarpnack"}
