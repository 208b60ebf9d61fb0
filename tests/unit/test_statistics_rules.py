"""Periods, suppression and answer-time figures."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from formservice.domain.statistics import (
    current_half,
    full_year,
    half_year,
    median_days,
    parse_period,
    share,
    suppress,
)


def test_half_years_meet_without_gap_or_overlap():
    h1, h2 = half_year(2026, 1), half_year(2026, 2)
    assert (h1.start, h1.end) == (date(2026, 1, 1), date(2026, 6, 30))
    assert (h2.start, h2.end) == (date(2026, 7, 1), date(2026, 12, 31))
    assert h1.days + h2.days == full_year(2026).days == 365


def test_parse_period():
    assert parse_period("2026H1") == half_year(2026, 1)
    assert parse_period("2026-h2") == half_year(2026, 2)
    assert parse_period("2024") == full_year(2024)
    assert parse_period("2026H3") is None
    assert parse_period("1999") is None
    assert parse_period("'; drop table") is None


def test_current_half():
    assert current_half(date(2026, 6, 30)) == half_year(2026, 1)
    assert current_half(date(2026, 7, 1)) == half_year(2026, 2)


def test_suppression_hides_small_cells_only():
    assert [suppress(n, 3) for n in range(5)] == ["0", "<3", "<3", "3", "4"]
    assert suppress(4, 5) == "<5"


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10))
def test_suppression_never_reveals_a_small_count(count, threshold):
    text = suppress(count, threshold)
    if 0 < count < threshold:
        assert text == f"<{threshold}"
    else:
        assert text == str(count)


def test_median_and_share():
    assert median_days([3, 10, 40]) == 10
    assert median_days([1, 2]) == 1.5
    assert median_days([]) is None
    assert share(2, 3) == 66.7
    assert share(0, 0) is None
