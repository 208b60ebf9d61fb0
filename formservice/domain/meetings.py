"""The steering group's meeting rhythm and the vocabulary of the closing (SPEC §3, §6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

#: The default rhythm, twice a term: two meetings per half-year (a hint, not a rule).
RHYTHM_MONTHS: dict[int, tuple[int, int]] = {1: (2, 4), 2: (9, 11)}
MEETINGS_PER_HALF = 2
SLOT_DAY = 15

#: "Styrgruppens bedömning"
ASSESSMENTS = {
    "bekraftad": "Avvikelse bekräftad",
    "delvis": "Delvis",
    "ej": "Ej avvikelse",
}


def half_of(day: date) -> tuple[int, int]:
    return day.year, 1 if day.month <= 6 else 2


def slot(year: int, month: int) -> date:
    """The suggested day in a rhythm month: the 15th, or the first weekday after it."""
    day = date(year, month, SLOT_DAY)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def suggest_dates(today: date, planned: Iterable[date], count: int = 2) -> list[date]:
    """The next dates in the default rhythm that the group has not planned yet.

    A half-year with two meetings already needs no more; a month that already has a meeting is
    skipped; days before `today` are never suggested.
    """
    planned = list(planned)
    taken_months = {(d.year, d.month) for d in planned}
    suggestions: list[date] = []
    year, half = half_of(today)
    for _ in range(4):  # this half-year and the next three
        missing = MEETINGS_PER_HALF - sum(1 for d in planned if half_of(d) == (year, half))
        for month in RHYTHM_MONTHS[half]:
            day = slot(year, month)
            if missing > 0 and day >= today and (year, month) not in taken_months:
                suggestions.append(day)
                missing -= 1
            if len(suggestions) == count:
                return suggestions
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return suggestions
