"""Periods, small-cell suppression and answer-time figures (SPEC §6)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


_PERIOD = re.compile(r"^(\d{4})(?:-?(H1|H2))?$", re.IGNORECASE)


def half_year(year: int, half: int) -> Period:
    """H1 = January–June, H2 = July–December."""
    if half == 1:
        return Period(date(year, 1, 1), date(year, 6, 30), f"{year} H1 (jan–jun)")
    return Period(date(year, 7, 1), date(year, 12, 31), f"{year} H2 (jul–dec)")


def full_year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), f"Helår {year}")


def parse_period(text: str) -> Period | None:
    """'2026', '2026H1', '2026-H2' → a Period; anything else → None."""
    match = _PERIOD.match(text.strip())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        return None
    year, half = int(match.group(1)), match.group(2)
    return full_year(year) if half is None else half_year(year, int(half[1]))


def custom_period(start: date, end: date) -> Period:
    return Period(start, end, f"{start.isoformat()}–{end.isoformat()}")


def current_half(today: date) -> Period:
    return half_year(today.year, 1 if today.month <= 6 else 2)


def suppress(count: int, threshold: int) -> str:
    """A count as text; 1 … threshold-1 become "<threshold" so no small group is singled out."""
    if 0 < count < threshold:
        return f"<{threshold}"
    return str(count)


def median_days(durations: Iterable[float]) -> float | None:
    values = list(durations)
    return round(statistics.median(values), 1) if values else None


def share(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


def answer_days(sent: date, answered: date) -> int:
    return (answered - sent).days


def in_time(answered: date, deadline: date) -> bool:
    return answered <= deadline
