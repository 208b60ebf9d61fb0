"""The long lists' pure parts: case-number search and page cursors (domain.lists)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from formservice.domain.lists import case_numbers, format_cursor, parse_cursor


def test_a_case_number_search_is_whole_case_numbers():
    assert case_numbers("BUS-2026-0042", 2026) == ["BUS-2026-0042"]
    assert case_numbers(" bus-2026-42 ", 2026) == ["BUS-2026-0042"]
    assert case_numbers("2026-42", 2026) == ["BUS-2026-0042"]
    assert case_numbers("2026-12345", 2026) == ["BUS-2026-12345"]
    every_year = case_numbers("42", 2026)
    assert every_year[0] == "BUS-2000-0042" and every_year[-1] == "BUS-2027-0042"
    for fragment in ("BUS-20", "2026-", "42a", "'; DROP TABLE", "", "-42"):
        assert case_numbers(fragment, 2026) is None, fragment


def test_cursors_round_trip_and_refuse_anything_else():
    moment = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    assert parse_cursor(format_cursor(moment, 81), "datetime") == (moment, 81)
    assert parse_cursor(format_cursor(date(2026, 4, 1), 7), "date") == (date(2026, 4, 1), 7)
    assert parse_cursor(format_cursor("BUS-2026-0001", 3), "str") == ("BUS-2026-0001", 3)
    assert parse_cursor(format_cursor(None, 12), "datetime") == (None, 12)
    for bad in (
        "",
        "x",
        "2026-03-04T18:00:00~",
        "2026-03-04T18:00:00~81",
        "nonsense~1",
        "2026-02-30~5",
        "~-1",
        "a" * 50 + "~1",
    ):
        kind = "date" if bad.startswith("2026-02") else "datetime"
        assert parse_cursor(bad, kind) is None, bad
