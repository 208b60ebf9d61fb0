"""The rule for recurring deviations (issue 17, item 3): found within twelve months, by
reporting unit or by category, told once and again only when the pattern grows."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from formservice.domain.patterns import CATEGORY, FROM_UNIT, Case, find, to_notify, window_start

TODAY = date(2026, 12, 3)


def case(n: int, sent_on: date, reporting: str = "skola", receiving: str = "bup", cats=("a",)):
    return Case(n, f"2026-{n:04}", "g", reporting, receiving, tuple(cats), sent_on)


def test_three_from_the_same_unit_within_twelve_months():
    cases = [case(n, TODAY - timedelta(days=100 * n), cats=(f"c{n}",)) for n in (1, 2, 3)]
    (pattern,) = find(cases, TODAY, 3)
    assert (pattern.kind, pattern.key, pattern.receiving_unit_id) == (FROM_UNIT, "skola", "bup")
    assert pattern.case_ids == (3, 2, 1)  # oldest first
    assert pattern.case_numbers == ("2026-0003", "2026-0002", "2026-0001")


def test_three_in_the_same_category_from_different_units():
    cases = [case(n, TODAY, reporting=f"enhet{n}", cats=("vantetid", f"x{n}")) for n in (1, 2, 3)]
    (pattern,) = find(cases, TODAY, 3)
    assert (pattern.kind, pattern.key) == (CATEGORY, "vantetid")


def test_the_window_is_twelve_months_up_to_today():
    assert window_start(TODAY) == date(2025, 12, 4)
    old = case(1, date(2025, 12, 3))
    cases = [old, case(2, date(2025, 12, 4)), case(3, TODAY)]
    assert find(cases, TODAY, 3) == []
    assert len(find(cases, TODAY - timedelta(days=1), 2)) == 2  # the case of today is ahead


def test_other_receivers_and_groups_do_not_add_up():
    cases = [case(1, TODAY), case(2, TODAY, receiving="hab"), case(3, TODAY)]
    other_group = Case(4, "2026-0004", "h", "skola", "bup", ("a",), TODAY)
    assert find([*cases, other_group], TODAY, 3) == []


def test_told_once_and_again_when_it_grows():
    cases = [case(n, TODAY - timedelta(days=n)) for n in (1, 2, 3)]
    first = find(cases, TODAY, 3)
    assert {p.kind for p in to_notify(first, {})} == {FROM_UNIT, CATEGORY}
    told = {p.identity: p.case_ids for p in first}
    assert to_notify(find(cases, TODAY, 3), told) == []
    grown = find([*cases, case(4, TODAY)], TODAY, 3)
    assert [len(p.case_ids) for p in to_notify(grown, told)] == [4, 4]


cases_strategy = st.lists(
    st.builds(
        case,
        st.integers(1, 10_000),
        st.dates(TODAY - timedelta(days=500), TODAY),
        st.sampled_from(["skola", "bvc", "soc"]),
        st.sampled_from(["bup", "hab"]),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2),
    ),
    max_size=25,
    unique_by=lambda c: c.id,
)


@given(cases_strategy, st.integers(1, 5))
def test_patterns_match_a_plain_count(cases, threshold):
    start = window_start(TODAY)
    recent = [c for c in cases if start <= c.sent_on <= TODAY]
    found = {p.identity: set(p.case_ids) for p in find(cases, TODAY, threshold)}
    for c in recent:
        same_unit = {
            d.id
            for d in recent
            if (d.receiving_unit_id, d.reporting_unit_id)
            == (c.receiving_unit_id, c.reporting_unit_id)
        }
        key = ("g", c.receiving_unit_id, FROM_UNIT, c.reporting_unit_id)
        assert (key in found) == (len(same_unit) >= threshold)
        if key in found:
            assert found[key] == same_unit


@given(cases_strategy, st.integers(2, 4))
def test_each_pattern_is_told_once_until_it_grows(cases, threshold):
    """Replaying the cases in the order they were sent, a day at a time: a pattern is told
    the day it appears and again only on a day a case joins it."""
    told: dict = {}
    notices: list = []
    for day in sorted({c.sent_on for c in cases}):
        so_far = [c for c in cases if c.sent_on <= day]
        due = to_notify(find(so_far, day, threshold), told)
        for pattern in due:
            assert not set(pattern.case_ids) <= set(told.get(pattern.identity, ()))
            told[pattern.identity] = pattern.case_ids
            notices.append((day, pattern.identity))
        again = to_notify(find(so_far, day, threshold), told)
        assert again == []  # the same day's run twice tells nothing new
    assert len(notices) == len(set(notices))
