"""Periods, small-cell suppression and answer-time figures (SPEC §6)."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction


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


#: How many half-years back a period chooser offers.
PAST_HALF_YEARS = 6


def period_code(period: Period) -> str | None:
    """2026H1, 2026H2 or 2026 for a half-year or a year; None for any other range."""
    start, end = period.start, period.end
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return str(start.year)
    if period in (half_year(start.year, 1), half_year(start.year, 2)):
        return f"{start.year}H{1 if start.month == 1 else 2}"
    return None


def period_choices(today: date, chosen: Period | None = None) -> list[tuple[str, str]]:
    """A period chooser's (code, label) pairs: the latest half-years, this year and last
    year, and `chosen` first when it is a half-year or year not among them."""
    year, half = today.year, 1 if today.month <= 6 else 2
    periods = []
    for _ in range(PAST_HALF_YEARS):
        periods.append(half_year(year, half))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    periods += [full_year(today.year), full_year(today.year - 1)]
    if chosen is not None and chosen not in periods:
        periods.insert(0, chosen)
    return [(code, p.label) for p in periods if (code := period_code(p)) is not None]


def suppress(count: int, threshold: int) -> str:
    """A count as text; 1 … threshold-1 become "<threshold" so no small group is singled out."""
    if 0 < count < threshold:
        return f"<{threshold}"
    return str(count)


# --- complementary suppression ------------------------------------------------------------
#
# "<3" alone can be undone by subtraction: a total beside one hidden count gives it away, and
# so do two "<3" beside a total of 4 (both must be 2). `protect` hides counts until none of
# them can be worked out from what is published. The attacker it protects against knows
# every published figure, how the figures add up (`Sum`), that "<3" means 1 … threshold-1
# (SMALL) and that any other hidden count (COMPLEMENT) is at least the threshold, unless no
# count of its table is shown as "<3" (then it may be any count from 1). The attacker solves
# the sums exactly (linear algebra) and narrows every hidden count by the sums and those
# ranges (interval propagation); a count is safe when neither pins it to one value.
#
# Rules, for each table (counts joined by sums) with a small count: hide the counts of
# 1 … threshold-1. Then, quickly, no sum may hold exactly one hidden count; then, while a
# hidden count can still be pinned, hide one more count of the shortest sum holding it.
# The count chosen is a part before a subtotal before a grand total (the figure readers
# want most), the smallest first. A 0 is never hidden nor chosen: it singles nobody out, and
# a hidden 0 would add little (the attacker, knowing these rules, would count on every
# hidden count being at least 1). Sometimes "<3" says too much whatever else is hidden (one
# boy at a first meeting, one at a follow-up, "<3" boys in all: each is 1); so each table
# is also done with its small counts hidden like the complements, without saying which
# are small (COMPLEMENT, "at least 1" to the attacker), and the way that hides fewer counts
# is kept ("<3" when both hide as many).

SMALL = "small"
COMPLEMENT = "complement"
_INF = math.inf

Counts = Mapping[Hashable, int]
Bounds = dict[Hashable, float]  # the lowest or highest value each count may have
Rank = Callable[[Hashable], tuple[int, int, int]]  # which count to hide first: the least


@dataclass(frozen=True)
class Sum:
    """A relation the published figures obey: `whole` is the sum of `parts`."""

    whole: Hashable
    parts: tuple[Hashable, ...]


def table_sums(
    cells: Sequence[Sequence[Hashable]],
    row_totals: Sequence[Hashable] | None = None,
    column_totals: Sequence[Hashable] | None = None,
    total: Hashable | None = None,
) -> list[Sum]:
    """The sums of a table as published (cell keys by row): each row adds up to its row total,
    each column to its column total, and the totals to the grand total. Leave out the
    margins that are not published: they give no relation between published figures."""
    sums = []
    if row_totals is not None:
        sums += [Sum(t, tuple(row)) for t, row in zip(row_totals, cells, strict=True)]
    if column_totals is not None:
        columns = list(zip(*cells, strict=True)) or [()] * len(column_totals)
        sums += [Sum(t, tuple(col)) for t, col in zip(column_totals, columns, strict=True)]
    if total is not None:
        if row_totals is not None:
            sums.append(Sum(total, tuple(row_totals)))
        if column_totals is not None:
            sums.append(Sum(total, tuple(column_totals)))
        if row_totals is None and column_totals is None:
            sums.append(Sum(total, tuple(k for row in cells for k in row)))
    return sums


def protect(
    counts: Mapping[Hashable, int],
    sums: Iterable[Sum],
    threshold: int,
    known: Mapping[Hashable, int] | None = None,
) -> dict[Hashable, str]:
    """Which of the published `counts` to hide, and why (SMALL or COMPLEMENT), so that no
    hidden count can be worked out from the others and the `sums` they obey. `known` are
    figures the attacker may know although they are not shown (never hidden)."""
    sums = [s for s in sums if s.parts]
    values = {**counts, **(known or {})}
    hidden: dict[Hashable, str] = {}
    for table in dict.fromkeys(_tables(values, sums).values()):
        shown = {k: counts[k] for k in table if k in counts}
        if any(0 < n < threshold for n in shown.values()):
            own = [s for s in sums if s.whole in table]
            hidden |= _protect_table(shown, values, own, threshold)
    return hidden


def _protect_table(
    counts: Counts, values: Counts, sums: list[Sum], threshold: int
) -> dict[Hashable, str]:
    """One table: with its small counts shown as "<3" if that can be made safe, else (or
    when that hides fewer counts) with them hidden like the complements."""
    unmarked = _hide(counts, values, sums, threshold, COMPLEMENT)
    assert unmarked is not None, "with no budget, hiding complements always ends"
    marked = _hide(counts, values, sums, threshold, SMALL, budget=len(unmarked))
    return unmarked if marked is None else marked


def _hide(
    counts: Counts,
    values: Counts,
    sums: list[Sum],
    threshold: int,
    small_as: str,
    budget: float = _INF,
) -> dict[Hashable, str] | None:
    """Hide the small counts (as `small_as`) and complements until nothing is pinned; None
    when that needs more than `budget` counts, or when "<3" (small_as SMALL) says too much
    for it to be possible at all."""
    hidden = {k: small_as for k, n in counts.items() if 0 < n < threshold}
    rank = _ranking(counts, sums)
    _pair_up(hidden, counts, sums, rank)
    known_anyway: set[Hashable] = set()
    while len(hidden) <= budget:
        exposed = _exposed(values, sums, hidden, threshold) - known_anyway
        if not exposed:
            return hidden
        extra = _complements(exposed, counts, sums, hidden, rank)
        if not extra:
            if small_as == SMALL:
                return None
            known_anyway |= exposed  # fixed by `known` figures alone: hiding cannot help
            continue
        hidden |= dict.fromkeys(extra, COMPLEMENT)
    return None


def _pair_up(hidden: dict[Hashable, str], counts: Counts, sums: list[Sum], rank: Rank) -> None:
    """The quick rule first, which settles most tables: no sum may hold exactly one hidden
    count (a calculator finds it), so such a sum gets its best-ranked shown count hidden."""
    changed = True
    while changed:
        changed = False
        for s in sums:
            members = (s.whole, *s.parts)
            if sum(k in hidden for k in members) != 1:
                continue
            shown = [k for k in members if k in counts and k not in hidden and counts[k] > 0]
            if shown:
                hidden[min(shown, key=rank)] = COMPLEMENT
                changed = True


def _ranking(counts: Counts, sums: list[Sum]) -> Rank:
    """Parts before subtotals before grand totals (a hidden total needs a partner among the
    totals too, and a grand total is the figure readers want most), the smallest first,
    then in the order of `counts`."""
    order = {key: i for i, key in enumerate(counts)}
    wholes = {s.whole for s in sums}
    parts = {p for s in sums for p in s.parts}
    return lambda k: ((k in wholes) + (k not in parts), counts[k], order[k])


def _complements(
    exposed: set[Hashable],
    counts: Counts,
    sums: list[Sum],
    hidden: dict[Hashable, str],
    rank: Rank,
) -> set[Hashable]:
    """For each exposed count, the best-ranked shown nonzero count of the shortest sum that
    holds it and has one (one for all exposed counts of that sum); else the best of the
    whole table."""

    def shown(keys: Iterable[Hashable]) -> list[Hashable]:
        return [k for k in keys if k in counts and k not in hidden and counts[k] > 0]

    chosen: set[Hashable] = set()
    settled: set[Hashable] = set()
    for key in sorted(exposed, key=rank):
        if key in settled:
            continue
        for s in sorted(
            (s for s in sums if key in (s.whole, *s.parts)), key=lambda s: len(s.parts)
        ):
            if options := shown((s.whole, *s.parts)):
                chosen.add(min(options, key=rank))
                settled |= {s.whole, *s.parts}
                break
    if not chosen and (options := shown(counts)):
        chosen.add(min(options, key=rank))
    return chosen


def _tables(values: Mapping[Hashable, int], sums: list[Sum]) -> dict[Hashable, frozenset]:
    """Each count's table: the counts joined to it through sums."""
    parent = {k: k for k in values}

    def root(k: Hashable) -> Hashable:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for s in sums:
        for part in s.parts:
            parent[root(part)] = root(s.whole)
    members: dict[Hashable, set] = {}
    for k in values:
        members.setdefault(root(k), set()).add(k)
    return {k: frozenset(members[root(k)]) for k in values}


def _attacker_range(
    mark: str | None, value: int, threshold: int, marked: bool
) -> tuple[float, float]:
    """What the attacker knows of one count of a table from how it is shown: a hidden count
    beside a "<3" (`marked`) is not small, in a table without one it may be any count."""
    if mark is None:
        return value, value
    if mark == SMALL:
        return 1, threshold - 1
    return (threshold if marked else 1), _INF


def _exposed(
    values: Counts, sums: list[Sum], hidden: dict[Hashable, str], threshold: int
) -> set[Hashable]:
    """Hidden counts the attacker pins to one value: by intervals first, else by algebra."""
    marked = SMALL in hidden.values()
    keys = {k for s in sums for k in (s.whole, *s.parts)} | set(hidden)
    ranges = {k: _attacker_range(hidden.get(k), values[k], threshold, marked) for k in keys}
    lo, hi, unsettled = _narrowed(ranges, sums)
    wide = {k for k in hidden if ranges[k][0] < ranges[k][1]}
    pinned = {k for k in wide if lo[k] >= hi[k] or k in unsettled}
    return pinned or (_solved(sums, set(hidden)) & wide)


def _narrowed(
    ranges: Mapping[Hashable, tuple[float, float]], sums: list[Sum]
) -> tuple[Bounds, Bounds, set[Hashable]]:
    """Interval propagation: each count's range narrowed by every sum until nothing changes;
    also the counts still narrowing after many rounds (to be treated as pinned)."""
    lo = {k: r[0] for k, r in ranges.items()}
    hi = {k: r[1] for k, r in ranges.items()}
    for _ in range(100 + 10 * len(sums)):
        if not any([_narrow(s, lo, hi) for s in sums]):
            return lo, hi, set()
    before = (dict(lo), dict(hi))
    for s in sums:
        _narrow(s, lo, hi)
    return lo, hi, {k for k in lo if (lo[k], hi[k]) != (before[0][k], before[1][k])}


def _narrow(s: Sum, lo: dict, hi: dict) -> bool:
    """One sum: the whole lies within the parts' range, each part within the whole's less
    the others'. True when a bound moved."""
    parts_lo = sum(lo[p] for p in s.parts)
    finite = [hi[p] for p in s.parts if hi[p] != _INF]
    unbounded = len(s.parts) - len(finite)
    parts_hi = sum(finite) if not unbounded else _INF
    moved = _tighten(s.whole, parts_lo, parts_hi, lo, hi)
    for p in s.parts:
        if hi[p] == _INF:
            others_hi = sum(finite) if unbounded == 1 else _INF
        else:
            others_hi = sum(finite) - hi[p] if not unbounded else _INF
        low = lo[s.whole] - others_hi if others_hi != _INF else 0
        high = hi[s.whole] - (parts_lo - lo[p]) if hi[s.whole] != _INF else _INF
        moved |= _tighten(p, low, high, lo, hi)
    return moved


def _tighten(key: Hashable, low: float, high: float, lo: Bounds, hi: Bounds) -> bool:
    moved = False
    if low > lo[key]:
        lo[key], moved = low, True
    if high < hi[key]:
        hi[key], moved = high, True
    return moved


def _solved(sums: list[Sum], unknown: set) -> set:
    """The unknowns the sums fix exactly, whatever the ranges: Gauss-Jordan elimination of the
    sums over the unknowns (Σ parts - whole = what the published figures leave)."""
    pivots: list[tuple[Hashable, dict]] = []
    for s in sums:
        row = {p: Fraction(1) for p in s.parts if p in unknown}
        if s.whole in unknown:
            row[s.whole] = Fraction(-1)
        for col, pivot in pivots:
            if col in row:
                row = _minus(row, pivot, row[col])
        if not row:
            continue
        col = next(iter(row))
        row = {k: v / row[col] for k, v in row.items()}
        pivots = [(c, _minus(r, row, r[col]) if col in r else r) for c, r in pivots]
        pivots.append((col, row))
    return {col for col, row in pivots if len(row) == 1}


def _minus(row: dict, other: dict, factor: Fraction) -> dict:
    result = dict(row)
    for k, v in other.items():
        result[k] = result.get(k, 0) - factor * v
        if result[k] == 0:
            del result[k]
    return result


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


def format_value(value: int | float | str | None) -> str:
    """Swedish number text: decimal comma; None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)
