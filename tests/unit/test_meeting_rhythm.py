"""The default meeting rhythm: two meetings per half-year, suggested as a hint."""

from __future__ import annotations

from datetime import date

from formservice.domain.meetings import rhythm_months, slot, suggest_dates


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


def test_the_rhythm_follows_the_groups_meetings_per_term():
    """ "Möten per termin" (a setting of the group, issue 14): spread over the term."""
    assert [rhythm_months(1, n) for n in (1, 2, 3, 4)] == [(2,), (2, 4), (2, 3, 4), (2, 3, 4, 5)]
    assert rhythm_months(2, 2) == (9, 11) and rhythm_months(2, 4) == (9, 10, 11, 12)
    assert suggest_dates(date(2026, 1, 10), [], count=3, per_term=3) == [
        date(2026, 2, 16),
        date(2026, 3, 16),
        date(2026, 4, 15),
    ]
    # one meeting a term: the term that has had its meeting needs no more
    assert suggest_dates(date(2026, 3, 1), [date(2026, 2, 20)], per_term=1) == [
        date(2026, 9, 15),
        date(2027, 2, 15),
    ]
