"""Figures about deviations: the digest's summary and the statistics page (SPEC §6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ColumnElement, Integer, Select, Text, cast, func, select, true

from ..domain import deviation as rules
from ..domain.deadlines import is_overdue, local_date
from ..domain.statistics import Period, median_days, share
from ..extensions import db
from ..models import Deviation, Unit
from . import categories


def rows(counter: Counter, order: Iterable[str] | None = None) -> list[dict]:
    """[{label, count}] in the given order (zero rows included), else most common first."""
    if order is not None:
        return [{"label": label, "count": counter.get(label, 0)} for label in order]
    return [{"label": label, "count": count} for label, count in counter.most_common()]


def category_rows(counts: Counter, *, zeros: bool = False) -> list[dict]:
    """[{key, label, count}] per category code: the current form's categories in its order,
    then retired ones, each under its newest label (`categories.statistics_order`). A category
    with no report is left out, unless `zeros` and it is on the current form."""
    found = [
        {"key": code, "label": label, "count": counts.get(code, 0)}
        for code, label, current in categories.statistics_order()
        if counts.get(code) or (zeros and current)
    ]
    strays = sorted(set(counts) - set(categories.statistics_labels()))  # on no version
    return found + [{"key": code, "label": code, "count": counts[code]} for code in strays]


def summarize(deviations: list[Deviation], today: date, tz: str) -> dict:
    """Counts by state and category, recurring unit pairs, answer times, overdue count."""
    names = _unit_names(
        {d.reporting_unit_id for d in deviations} | {d.receiving_unit_id for d in deviations}
    )
    states = Counter(rules.STATE_LABELS[d.state] for d in deviations)
    categories = Counter(c for d in deviations for c in d.categories or [])
    pairs = Counter((d.reporting_unit_id, d.receiving_unit_id) for d in deviations)
    days: list[int] = []  # answer times of the answered reports
    in_time = 0
    for d in deviations:
        if d.answered_at and d.sent_at:
            answered_on = local_date(d.answered_at, tz)
            days.append((answered_on - local_date(d.sent_at, tz)).days)
            in_time += bool(d.deadline and answered_on <= d.deadline)
    median = median_days(days)
    share_in_time = share(in_time, len(days))
    return {
        "total": len(deviations),
        "overdue": sum(
            1
            for d in deviations
            if is_overdue(d.deadline, today, d.answered_at is not None) and d.state == rules.SKICKAD
        ),
        "by_state": [r for r in rows(states, rules.STATE_LABELS.values()) if r["count"]],
        "by_category": category_rows(categories),
        "pairs": [
            {"reporting": names[a], "receiving": names[b], "count": n}
            for (a, b), n in pairs.most_common()
            if n > 1
        ],
        "answered": len(days),
        "median_answer_days": median,
        "share_in_time": share_in_time,
    }


def category_counts(group_id: str | None, period: Period, tz: str) -> Counter:
    """Deviations sent in the period (local dates), counted per category.

    Counted by the database, which unnests each report's JSON list of categories: fetching
    every report's list and decoding it here took most of the statistics page's time
    (10,000 reports: about 0.2 s; docs/performance.md)."""
    start, end = utc_bounds(period, tz)
    where = [Deviation.sent_at >= start, Deviation.sent_at < end]
    if group_id is not None:
        where.append(Deviation.group_id == group_id)
    return Counter(dict(db.session.execute(categories_by(where)).all()))


def categories_by(where: list, part: ColumnElement | None = None) -> Select:
    """(part, category, count) of the deviations `where` selects; (category, count) with
    no part. The reports are first counted per list of categories (few distinct lists), and
    only those lists are unnested by the database: unnesting every report's JSON list made
    PostgreSQL expect a hundred rows a report and compile the query (JIT, about 40 ms)."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    lists = cast(Deviation.categories, Text) if postgres else Deviation.categories
    grouped = [] if part is None else [part]
    counted = (
        select(*[p.label("part") for p in grouped], lists.label("lists"), func.count().label("n"))
        .where(*where)
        .group_by(*grouped, lists)
        .subquery()
    )
    category = (
        func.json_array_elements_text(cast(counted.c.lists, JSON))
        if postgres
        else func.json_each(counted.c.lists)  # SQLite
    ).table_valued("value")
    parted = [] if part is None else [counted.c.part]
    return (
        select(*parted, category.c.value, cast(func.sum(counted.c.n), Integer))
        .select_from(counted)
        .join(category, true())
        .group_by(*parted, category.c.value)
        .order_by(*parted, category.c.value)  # ties in most_common() in a stable order
    )


def utc_bounds(period: Period, tz: str) -> tuple[datetime, datetime]:
    """The period's first local midnight and the midnight after its last day, in UTC."""
    zone = ZoneInfo(tz)
    start = datetime.combine(period.start, time.min, tzinfo=zone)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _unit_names(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
