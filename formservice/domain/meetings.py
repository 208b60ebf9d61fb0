"""The steering group's meeting rhythm and the vocabulary of the closing (SPEC §3, §6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

#: The months of a term in which meetings are suggested (spring: February to May, autumn:
#: September to December); a group sets how many meetings a term it holds ("Möten per termin",
#: default twice a term, a hint, not a rule).
TERM_MONTHS: dict[int, tuple[int, ...]] = {1: (2, 3, 4, 5), 2: (9, 10, 11, 12)}
MEETINGS_PER_HALF = 2
MAX_MEETINGS_PER_TERM = len(TERM_MONTHS[1])
SLOT_DAY = 15

#: "Styrgruppens bedömning"
ASSESSMENTS = {
    "bekraftad": "Avvikelse bekräftad",
    "delvis": "Delvis",
    "ej": "Ej avvikelse",
}


def half_of(day: date) -> tuple[int, int]:
    return day.year, 1 if day.month <= 6 else 2


def rhythm_months(half: int, per_term: int = MEETINGS_PER_HALF) -> tuple[int, ...]:
    """The months of a half-year's meetings, spread over the term: (2, 4) and (9, 11) for
    two meetings a term."""
    months = TERM_MONTHS[half]
    count = max(1, min(per_term, len(months)))
    return tuple(months[i * len(months) // count] for i in range(count))


def slot(year: int, month: int) -> date:
    """The suggested day in a rhythm month: the 15th, or the first weekday after it."""
    day = date(year, month, SLOT_DAY)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def suggest_dates(
    today: date,
    planned: Iterable[date],
    count: int = 2,
    per_term: int = MEETINGS_PER_HALF,
) -> list[date]:
    """The next dates in the group's rhythm (`per_term` meetings a term) not planned yet.

    A half-year with `per_term` meetings already needs no more; a month that already has a
    meeting is skipped; days before `today` are never suggested.
    """
    planned = list(planned)
    taken_months = {(d.year, d.month) for d in planned}
    suggestions: list[date] = []
    year, half = half_of(today)
    for _ in range(4):  # this half-year and the next three
        missing = per_term - sum(1 for d in planned if half_of(d) == (year, half))
        for month in rhythm_months(half, per_term):
            day = slot(year, month)
            if missing > 0 and day >= today and (year, month) not in taken_months:
                suggestions.append(day)
                missing -= 1
            if len(suggestions) == count:
                return suggestions
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return suggestions
