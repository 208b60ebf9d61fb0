"""The default meeting rhythm: two meetings per half-year, suggested as a hint."""

from __future__ import annotations

from datetime import date

from formservice.domain.meetings import slot, suggest_dates


def test_slot_is_the_fifteenth_or_the_next_weekday():
    assert slot(2026, 4) == date(2026, 4, 15)  # a Wednesday
    assert slot(2026, 2) == date(2026, 2, 16)  # the 15th is a Sunday
    assert slot(2026, 11) == date(2026, 11, 16)


def test_nothing_planned_suggests_february_and_april():
    assert suggest_dates(date(2026, 1, 10), []) == [date(2026, 2, 16), date(2026, 4, 15)]


def test_past_slots_are_not_suggested():
    assert suggest_dates(date(2026, 11, 22), []) == [date(2027, 2, 15), date(2027, 4, 15)]
    assert suggest_dates(date(2026, 3, 1), [], count=3) == [
        date(2026, 4, 15),
        date(2026, 9, 15),
        date(2026, 11, 16),
    ]


def test_a_half_year_with_two_meetings_needs_no_more():
    planned = [date(2026, 9, 3), date(2026, 10, 20)]
    assert suggest_dates(date(2026, 8, 1), planned) == [date(2027, 2, 15), date(2027, 4, 15)]


def test_a_month_with_a_meeting_is_skipped():
    assert suggest_dates(date(2026, 8, 1), [date(2026, 9, 30)]) == [
        date(2026, 11, 16),
        date(2027, 2, 15),
    ]
