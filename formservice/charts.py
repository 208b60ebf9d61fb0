"""Horizontal bar charts as server-rendered SVG, readable without JavaScript (SPEC §6).

Pure functions. A chart is `role="img"` named by its `<title>` through `aria-labelledby`;
`figure` puts the same figures next to it as an HTML table, the chart's text alternative.
A value that is not a number (a suppressed "<3") gets no bar, only its text. Colours come from
the style sheet (classes), with presentation attributes as a fallback: no inline style (CSP).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from .domain.statistics import format_value

WIDTH = 480
PAD = 4
LABEL_LINE = 18
BAR_HEIGHT = 16
ROW_GAP = 12
ROW = LABEL_LINE + BAR_HEIGHT + ROW_GAP
VALUE_SPACE = 64
MAX_LABEL = 60
EMPTY_TEXT = "Inga uppgifter att visa."

Value = int | float | str | None
Bar = tuple[str, Value]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """An SVG chart with one labelled bar per (label, value), longest = largest value."""
    ident = chart_ident(chart_id)
    top = max((v for _, v in bars if is_number(v)), default=0)
    body = [_row(i, label, value, top) for i, (label, value) in enumerate(bars)]
    if not bars:
        body = [f'<text class="chart-label" x="0" y="{PAD + 14}">{EMPTY_TEXT}</text>']
    height = PAD * 2 + (ROW * len(bars) - ROW_GAP if bars else LABEL_LINE)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{ident}-title" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" focusable="false">'
        f'<title id="{ident}-title">Diagram: {_text(title)}</title>'
        f"{''.join(body)}</svg>"
    )


def figure(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    label_header: str = "Uppgift",
    value_header: str = "Antal",
    limit: int | None = None,
) -> Markup:
    """The chart with a caption and the same figures as a table beside it. With `limit`, the
    chart shows the first `limit` bars and says so; the table always has them all."""
    shown, caption = bars, title
    if limit is not None and len(bars) > limit:
        shown, caption = bars[:limit], f"{title} (diagrammet visar de {limit} första)"
    return Markup(
        f'<figure class="chart-figure"><figcaption>{_text(caption)}</figcaption>'
        f'<div class="chart-pair">{bar_chart(chart_id, caption, shown)}'
        f"{data_table(bars, label_header, value_header)}</div></figure>"
    )


def bars_of(rows: Sequence[dict], value: str = "count") -> list[Bar]:
    """[(label, value)] from report rows such as {"label": …, "count": …}."""
    return [(row["label"], row[value]) for row in rows]


def data_table(bars: Sequence[Bar], label_header: str, value_header: str) -> Markup:
    head = (
        f'<thead><tr><th scope="col">{_text(label_header)}</th>'
        f'<th scope="col" class="num">{_text(value_header)}</th></tr></thead>'
    )
    cells = "".join(
        f'<tr><th scope="row">{_text(label)}</th><td class="num">{_text(format_value(value))}'
        "</td></tr>"
        for label, value in bars
    )
    if not bars:
        cells = f'<tr><td colspan="2">{EMPTY_TEXT}</td></tr>'
    return Markup(f'<table class="chart-table">{head}<tbody>{cells}</tbody></table>')


def _row(index: int, label: str, value: Value, top: float) -> str:
    y = PAD + index * ROW
    length = bar_length(value, top)
    bar_y = y + LABEL_LINE
    return (
        f'<text class="chart-label" x="0" y="{y + 13}">{_text(_shorten(label))}</text>'
        f'<rect class="chart-bar" x="0" y="{bar_y}" width="{length:.1f}" '
        f'height="{BAR_HEIGHT}" fill="#0b4f8a"/>'
        f'<text class="chart-value" x="{length + 6:.1f}" y="{bar_y + 13}">'
        f"{_text(format_value(value))}</text>"
    )


def bar_length(value: Value, top: float) -> float:
    """The bar's length in user units: proportional to the largest value; 0 for no number."""
    if not is_number(value) or top <= 0 or value <= 0:
        return 0.0
    return (WIDTH - VALUE_SPACE) * value / top


def is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def chart_ident(chart_id: str) -> str:
    """A safe HTML id from the caller's id."""
    cleaned = _NOT_ID.sub("-", chart_id).strip("-")
    return f"chart-{cleaned or 'x'}"


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _text(value: object) -> str:
    """Escaped for HTML and XML, without characters XML does not allow."""
    return escape(_CONTROL.sub("", str(value)), quote=True)
