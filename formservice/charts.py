"""The figures of the statistics pages: bar-chart geometry and number text (SPEC §6).

Pure functions. The markup is in templates/html/statistics/_chart.html: a chart is an SVG
`role="img"` named by its `<title>`, and `figure` puts the same figures beside it as an HTML
table, the chart's text alternative. This module works out what the macros draw: where each
bar goes and how long it is, and the text of every label and value. A value that is not a
number (a suppressed "<3") gets no bar, only its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeGuard

from .domain.statistics import format_value

WIDTH = 480
PAD = 4
LABEL_LINE = 18
BAR_HEIGHT = 16
ROW_GAP = 12
ROW = LABEL_LINE + BAR_HEIGHT + ROW_GAP
VALUE_SPACE = 64
MAX_LABEL = 60
#: From a row's top to the baseline of its text.
BASELINE = 13

Value = int | float | str | None
Bar = tuple[str, Value]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ChartRow:
    """One bar: its label above it, its value after it (coordinates in user units)."""

    label: str
    value: str
    label_y: int
    bar_y: int
    length: str
    value_x: str
    value_y: int


@dataclass(frozen=True)
class Chart:
    """What the `bar_chart` macro draws; every text is free of characters XML forbids."""

    ident: str
    title: str
    width: int
    height: int
    bar_height: int
    rows: list[ChartRow]
    empty_y: int  # the baseline of the "nothing to show" text of a chart without bars


def chart_layout(chart_id: str, title: str, bars: Sequence[Bar]) -> Chart:
    """One labelled bar per (label, value), the longest for the largest value."""
    top = max((v for _, v in bars if is_number(v)), default=0)
    rows = [_row(i, label, value, top) for i, (label, value) in enumerate(bars)]
    height = PAD * 2 + (ROW * len(bars) - ROW_GAP if bars else LABEL_LINE)
    return Chart(
        ident=chart_ident(chart_id),
        title=plain(title),
        width=WIDTH,
        height=height,
        bar_height=BAR_HEIGHT,
        rows=rows,
        empty_y=PAD + 14,
    )


def _row(index: int, label: str, value: Value, top: float) -> ChartRow:
    y = PAD + index * ROW
    length = bar_length(value, top)
    bar_y = y + LABEL_LINE
    return ChartRow(
        label=plain(_shorten(label)),
        value=plain(format_value(value)),
        label_y=y + BASELINE,
        bar_y=bar_y,
        length=f"{length:.1f}",
        value_x=f"{length + 6:.1f}",
        value_y=bar_y + BASELINE,
    )


def table_rows(bars: Sequence[Bar]) -> list[tuple[str, str]]:
    """The figures beside a chart: (label, value text)."""
    return [(plain(label), plain(format_value(value))) for label, value in bars]


def bars_of(rows: Sequence[dict], value: str = "count") -> list[Bar]:
    """[(label, value)] from report rows such as {"label": …, "count": …}."""
    return [(row["label"], row[value]) for row in rows]


def rows_by_part(parts: list[dict], key: str) -> list[tuple[str, list]]:
    """The full year's rows (the last part) with every part's value for the same label."""
    values = [{row["label"]: row["count"] for row in part[key]} for part in parts]
    return [(row["label"], [v.get(row["label"], 0) for v in values]) for row in parts[-1][key]]


def bar_length(value: Value, top: float) -> float:
    """The bar's length in user units: proportional to the largest value; 0 for no number."""
    if not is_number(value) or top <= 0 or value <= 0:
        return 0.0
    return (WIDTH - VALUE_SPACE) * value / top


def is_number(value: Value) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def chart_ident(chart_id: str) -> str:
    """A safe HTML id from the caller's id."""
    cleaned = _NOT_ID.sub("-", chart_id).strip("-")
    return f"chart-{cleaned or 'x'}"


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def plain(value: object) -> str:
    """The text without the characters XML does not allow (the template escapes it)."""
    return _CONTROL.sub("", str(value))
