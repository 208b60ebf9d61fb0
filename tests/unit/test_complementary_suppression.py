"""Complementary suppression: no hidden count can be worked out from the published figures.

The attackers here are written independently of `domain.statistics`: one solves every sum
that has a single unknown (what a reader with a calculator does), one narrows ranges
through the sums using what "<3" says, one does the linear algebra (rank test).
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from formservice.domain.statistics import COMPLEMENT, SMALL, Sum, protect, table_sums

INF = math.inf


# --- the table as published -----------------------------------------------------------------


def grid(name: str, values: list[list[int]], rows: bool, columns: bool, total: bool):
    """Counts and sums of one table with the margins asked for (keys prefixed by `name`)."""
    m, n = len(values), len(values[0])
    cells = [[(name, i, j) for j in range(n)] for i in range(m)]
    counts = {cells[i][j]: values[i][j] for i in range(m) for j in range(n)}
    row_keys = [(name, "row", i) for i in range(m)] if rows else None
    column_keys = [(name, "column", j) for j in range(n)] if columns else None
    total_key = (name, "total") if total else None
    for i in range(m) if rows else ():
        counts[row_keys[i]] = sum(values[i])
    for j in range(n) if columns else ():
        counts[column_keys[j]] = sum(values[i][j] for i in range(m))
    if total:
        counts[total_key] = sum(map(sum, values))
    return counts, table_sums(cells, row_keys, column_keys, total_key)


def tables_of(sums: list[Sum], keys) -> dict:
    """Each key's table (keys joined through sums), found by a search of our own."""
    neighbours = {k: set() for k in keys}
    for s in sums:
        members = {s.whole, *s.parts}
        for k in members:
            neighbours[k] |= members
    found = {}
    for start in keys:
        if start in found:
            continue
        seen, todo = {start}, [start]
        while todo:
            for k in neighbours[todo.pop()] - seen:
                seen.add(k)
                todo.append(k)
        for k in seen:
            found[k] = frozenset(seen)
    return found


def reader_ranges(counts, sums, hidden, threshold) -> dict:
    """What a reader knows of each count: a figure, "<3" (1 … threshold-1), or hidden
    beside a "<3" in its table (then not small: at least the threshold) or not (at least 1)."""
    tables = tables_of(sums, counts)
    ranges = {}
    for key, value in counts.items():
        mark = hidden.get(key)
        if mark is None:
            ranges[key] = (value, value)
        elif mark == SMALL:
            ranges[key] = (1, threshold - 1)
        else:
            beside_small = any(hidden.get(k) == SMALL for k in tables[key])
            ranges[key] = (threshold if beside_small else 1, INF)
    return ranges


# --- three attackers ------------------------------------------------------------------------


def by_calculator(counts, sums, hidden) -> set:
    """Solve every sum with exactly one unknown, again and again."""
    known = {k: v for k, v in counts.items() if k not in hidden}
    progress = True
    while progress:
        progress = False
        for s in sums:
            unknown = [k for k in (s.whole, *s.parts) if k not in known]
            if len(unknown) != 1:
                continue
            (key,) = unknown
            if key == s.whole:
                known[key] = sum(known[p] for p in s.parts)
            else:
                known[key] = known[s.whole] - sum(known[p] for p in s.parts if p != key)
            assert known[key] == counts[key]
            progress = True
    return {k for k in hidden if k in known}


def by_ranges(ranges, sums) -> dict:
    """Interval arithmetic on Σ c·x = 0 (parts +1, whole -1) until nothing changes."""
    low = {k: r[0] for k, r in ranges.items()}
    high = {k: r[1] for k, r in ranges.items()}
    equations = [[(1, p) for p in s.parts] + [(-1, s.whole)] for s in sums]
    for _ in range(10_000):
        changed = False
        for terms in equations:
            for c, key in terms:
                # c·x = -Σ others: the others' interval, negated (c = ±1)
                others = [(d, k) for d, k in terms if k != key]
                rest_low = sum(-d * (high[k] if d > 0 else low[k]) for d, k in others)
                rest_high = sum(-d * (low[k] if d > 0 else high[k]) for d, k in others)
                new_low, new_high = (rest_low, rest_high) if c == 1 else (-rest_high, -rest_low)
                if new_low > low[key]:
                    low[key], changed = new_low, True
                if new_high < high[key]:
                    high[key], changed = new_high, True
        if not changed:
            return {k: (low[k], high[k]) for k in ranges}
    raise AssertionError("did not settle")


def by_algebra(sums, hidden) -> set:
    """x is fixed by the sums alone when its column is not in the span of the others."""
    keys = sorted(hidden, key=repr)
    matrix = [
        [Fraction((k in s.parts) - (k == s.whole)) for k in keys]
        for s in sums
        if hidden & {s.whole, *s.parts}
    ]
    full = _rank(matrix)
    fixed = set()
    for j, key in enumerate(keys):
        if _rank([row[:j] + row[j + 1 :] for row in matrix]) < full:
            fixed.add(key)
    return fixed


def _rank(matrix) -> int:
    rows = [list(r) for r in matrix if any(r)]
    rank, col = 0, 0
    width = len(rows[0]) if rows else 0
    while rank < len(rows) and col < width:
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            col += 1
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                f = rows[i][col] / rows[rank][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank, col = rank + 1, col + 1
    return rank


def assert_nothing_can_be_worked_out(counts, sums, threshold, known=None):
    hidden = protect(counts, sums, threshold, known)
    published = {**counts, **(known or {})}
    everything = dict(published)
    # What is hidden: every small count, never a 0; "<3" only for small counts.
    for key, value in counts.items():
        if 0 < value < threshold:
            assert key in hidden
        if value == 0:
            assert key not in hidden
        if hidden.get(key) == SMALL:
            assert 0 < value < threshold
        assert hidden.get(key) in (None, SMALL, COMPLEMENT)
    # Counts that follow from the zeros and the `known` figures alone cannot be protected.
    anyway = by_calculator(everything, sums, {k for k, v in counts.items() if v})
    assert by_calculator(everything, sums, hidden) <= anyway
    ranges = reader_ranges(everything, sums, hidden, threshold)
    for key, (low, high) in ranges.items():
        assert low <= everything[key] <= high  # the reader's knowledge is true
    narrowed = by_ranges(ranges, sums)
    for key in set(hidden) - anyway:
        low, high = narrowed[key]
        assert low < high, (key, narrowed[key], hidden)
    assert by_algebra(sums, set(hidden)) <= anyway
    return hidden


# --- properties -------------------------------------------------------------------------------

#: Tables tried by the first property (the others try fewer).
EXAMPLES = 300
counts_ = st.one_of(st.integers(0, 3), st.integers(0, 12))
thresholds = st.integers(3, 5)


@st.composite
def tables(draw, max_rows=4, max_columns=4):
    m = draw(st.integers(1, max_rows))
    n = draw(st.integers(1, max_columns))
    return [[draw(counts_) for _ in range(n)] for _ in range(m)]


@settings(max_examples=EXAMPLES, deadline=None)
@given(tables(), st.booleans(), st.booleans(), st.booleans(), thresholds)
def test_no_hidden_count_can_be_worked_out_from_a_table(values, rows, columns, total, t):
    counts, sums = grid("t", values, rows, columns, total)
    assert_nothing_can_be_worked_out(counts, sums, t)


cases = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 1)), max_size=14)


def by_half(name: str, cases: list[tuple[int, int]], labels: int):
    """Counts of (label, half) as a table of labels × (H1, H2): row totals are the year."""
    values = [[sum(1 for c in cases if c == (i, h)) for h in (0, 1)] for i in range(labels)]
    return grid(name, values, rows=True, columns=True, total=True)


@settings(max_examples=EXAMPLES * 3 // 4, deadline=None)
@given(cases, tables(max_columns=2), thresholds)
def test_halves_and_the_year_in_tables_sharing_their_totals(cases, categories, t):
    """As on the yearly page: deviations by state and by unit pair, per half-year and the
    year (H1 + H2 = year), share the halves' totals and the year's; categories (a case may
    have several) add up over the year only."""
    states, state_sums = by_half("states", [(s, h) for s, _, h in cases], 3)
    pairs, pair_sums = by_half("pairs", [(p, h) for _, p, h in cases], 4)
    same = {("pairs", "column", h): ("states", "column", h) for h in (0, 1)}
    same[("pairs", "total")] = ("states", "total")
    pairs = {k: v for k, v in pairs.items() if k not in same}
    pair_sums = [
        Sum(same.get(s.whole, s.whole), tuple(same.get(p, p) for p in s.parts)) for s in pair_sums
    ]
    rows = [[*row, 0][:2] for row in categories]
    labels, label_sums = grid("categories", rows, rows=True, columns=False, total=False)
    counts = states | pairs | labels
    assert_nothing_can_be_worked_out(counts, state_sums + pair_sums + label_sums, t)


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(tables(max_rows=5, max_columns=3), st.integers(0, 3), thresholds)
def test_a_total_row_that_also_counts_what_no_row_shows(values, ungrouped, t):
    """As in the compilation across groups: the total row also counts records of no group,
    which the reader is assumed to know although no row shows them."""
    last = len(values)
    counts, sums = grid("g", [*values, [ungrouped] * len(values[0])], True, True, True)
    unshown = [k for k in counts if k[1] == last or k == ("g", "row", last)]
    known = {k: counts.pop(k) for k in unshown}
    assert_nothing_can_be_worked_out(counts, sums, t, known)


# --- examples ---------------------------------------------------------------------------------


def one_row(*values: int, total: bool = True):
    return grid("r", [list(values)], rows=total, columns=False, total=False)


def test_a_total_beside_one_small_count_is_the_leak():
    counts, sums = one_row(1, 5, 0)
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert hidden == {("r", 0, 0): SMALL, ("r", 0, 1): COMPLEMENT}  # the 0 stays


def test_two_small_counts_beside_their_total_are_not_shown_as_small():
    counts, sums = one_row(2, 2)  # "<3" + "<3" = 4 would say both are 2
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert hidden == {("r", 0, 0): COMPLEMENT, ("r", 0, 1): COMPLEMENT}  # the total stays


def test_a_small_count_beside_the_threshold_and_their_total():
    counts, sums = one_row(1, 3)  # "<3" + hidden = 4, and hidden is at least 3: the 1 is a 1
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert hidden == {("r", 0, 0): COMPLEMENT, ("r", 0, 1): COMPLEMENT}  # the total stays


def test_one_small_count_with_a_large_total():
    counts, sums = one_row(1, 40, 0)
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert hidden == {("r", 0, 0): SMALL, ("r", 0, 1): COMPLEMENT}


def test_a_tiny_table_is_hidden_whole_without_saying_what_is_small():
    counts, sums = grid("t", [[1, 0], [0, 1]], True, True, True)
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert {k for k, v in counts.items() if v} == set(hidden)
    assert set(hidden.values()) == {COMPLEMENT}


def test_nothing_small_nothing_hidden_and_zeros_are_shown():
    counts, sums = grid("t", [[0, 4], [3, 0]], True, True, True)
    assert protect(counts, sums, 3) == {}


def test_smallest_parts_are_hidden_before_totals():
    counts, sums = grid("t", [[1, 7], [5, 9]], True, True, True)
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert set(hidden) == {("t", 0, 0), ("t", 0, 1), ("t", 1, 0), ("t", 1, 1)}
    assert hidden[("t", 0, 0)] == SMALL


def test_the_grand_total_of_a_small_table_can_stay():
    """One girl at a first meeting and one at a follow-up, as many boys: "<3" boys in all
    would pin both boys' counts. Hidden without "<3", the total of 5 can still be shown."""
    counts, sums = grid("t", [[2, 1], [1, 1], [0, 0]], True, True, True)
    hidden = assert_nothing_can_be_worked_out(counts, sums, 3)
    assert ("t", "total") not in hidden and set(hidden.values()) == {COMPLEMENT}
