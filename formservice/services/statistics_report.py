"""The steering group's statistics and the yearly follow-up (SPEC §6, seed 003).

`group_report` gives one period's figures for one group (None = all groups): held SIP and
BUS-individ meetings by the child's gender (`services.statistics.meeting_counts`) and the
deviations sent in the period by category, unit pair and state, with their answer times.
`yearly_report` adds the half-years and the process for individual cases; `compilation` is the
BUS-sekretariat's yearly table across the groups. `suppressed` turns every count into text and
shows small counts as "<3", for anything that leaves the local group.

Every figure comes from a grouped query or a query of a few columns: no report, meeting or
record is loaded as an object, so the cost does not grow with per-row ORM work. Dates are
local (FORMSERVICE_TIMEZONE) calendar dates; a deviation belongs to the period it was sent in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from ..domain import deviation as rules
from ..domain.deadlines import local_date
from ..domain.deviation import GENDERS
from ..domain.sip import MEETING_TYPES
from ..domain.statistics import (
    Period,
    answer_days,
    full_year,
    half_year,
    in_time,
    median_days,
    share,
    suppress,
)
from ..extensions import db
from ..models import BusGroup, BusIndivid, Deviation, SipMeeting, Unit
from .deviation_statistics import category_counts, category_rows, rows, utc_bounds
from .statistics import HELD, local_day_bounds, meeting_counts

#: Keys whose values are counts of people or cases: `suppressed` turns them into text.
COUNT_KEYS = frozenset({"count", "total", "answered", "in_time", "overdue", "short_notice"})
#: Figures derived from counts, hidden when a count they rest on is small (1 … threshold-1).
DERIVED = {
    "median_days": ("answered",),
    "share_in_time": ("answered", "in_time"),
    "short_notice_share": ("total", "short_notice"),
}
SENT_STATES = tuple(s for s in rules.STATE_LABELS if s != rules.UTKAST)
AGREEMENT = (
    (True, "Överenskommelse nåddes"),
    (False, "Ingen överenskommelse"),
    (None, "Uppgift saknas"),
)


def timezone() -> str:
    return current_app.config["FORMSERVICE_TIMEZONE"]


def threshold() -> int:
    return current_app.config["FORMSERVICE_SMALL_CELL_THRESHOLD"]


def local_today(tz: str) -> date:
    return local_date(datetime.now(UTC), tz)


# --- one period ---------------------------------------------------------------------------


def group_report(
    group_id: str | None, period: Period, tz: str | None = None, today: date | None = None
) -> dict:
    """One period's statistics for one group, or every group when `group_id` is None."""
    tz = tz or timezone()
    counts = meeting_counts(group_id, period.start, period.end)
    return {
        "group_id": group_id,
        "period": period_info(period),
        "suppressed_below": None,
        "sip": sip_section(counts["sip"]),
        "bus_individ": bus_individ_section(counts["bus_individ"]),
        "deviations": deviation_section(group_id, period, tz, today or local_today(tz)),
    }


def period_info(period: Period) -> dict:
    return {"label": period.label, "start": period.start, "end": period.end}


def sip_section(counts: dict) -> dict:
    """meeting_counts' SIP figures as labelled rows, in the vocabularies' order."""
    return {
        "total": counts["total"],
        "by_gender": _labelled(counts["by_gender"], GENDERS),
        "by_type": _labelled(counts["by_type"], MEETING_TYPES),
        "by_gender_and_type": [
            {"key": g, "label": GENDERS.get(g, g), "cells": _labelled(cells, MEETING_TYPES)}
            for g, cells in counts["by_gender_and_type"].items()
        ],
    }


def bus_individ_section(counts: dict) -> dict:
    return {"total": counts["total"], "by_gender": _labelled(counts["by_gender"], GENDERS)}


def _labelled(counts: dict[str, int], labels: dict[str, str]) -> list[dict]:
    return [{"key": k, "label": labels.get(k, k), "count": n} for k, n in counts.items()]


def deviation_section(group_id: str | None, period: Period, tz: str, today: date) -> dict:
    """Deviations sent in the period: by state, category and unit pair, with answer times."""
    where = _sent_in(group_id, period, tz)
    states = _states(where)
    categories = category_counts(group_id, period, tz)
    return {
        "total": sum(states.values()),
        "by_state": rows(states, _keys(rules.STATE_LABELS, SENT_STATES, states)),
        "by_category": category_rows(categories, zeros=True),
        "by_pair": _pairs(where),
        "answers": _answers(where, tz, today),
    }


def _sent_in(group_id: str | None, period: Period, tz: str) -> list:
    start, end = utc_bounds(period, tz)
    where = [Deviation.sent_at >= start, Deviation.sent_at < end]
    if group_id is not None:
        where.append(Deviation.group_id == group_id)
    return where


def _states(where: list) -> Counter:
    query = select(Deviation.state, func.count()).where(*where).group_by(Deviation.state)
    return Counter({rules.STATE_LABELS.get(s, s): n for s, n in db.session.execute(query)})


def _keys(labels: dict[str, str], known: Iterable[str], found: Counter) -> list[str]:
    """The known states' labels in order, then any unexpected label found in the data."""
    ordered = [labels[k] for k in known]
    return [*ordered, *sorted(set(found) - set(ordered))]


def _pairs(where: list) -> list[dict]:
    """Reporting → receiving unit (names), most frequent first."""
    reporting, receiving = aliased(Unit), aliased(Unit)
    n = func.count().label("n")
    query = (
        select(reporting.name, receiving.name, n)
        .select_from(Deviation)
        .join(reporting, Deviation.reporting_unit_id == reporting.id)
        .join(receiving, Deviation.receiving_unit_id == receiving.id)
        .where(*where)
        .group_by(reporting.id, reporting.name, receiving.id, receiving.name)
        .order_by(n.desc(), reporting.name, receiving.name)
    )
    return [
        {"label": f"{a} → {b}", "reporting": a, "receiving": b, "count": count}
        for a, b, count in db.session.execute(query)
    ]


def _answers(where: list, tz: str, today: date) -> dict:
    """Answered count, median days, share in time, and the unanswered past their deadline."""
    query = select(Deviation.sent_at, Deviation.answered_at, Deviation.deadline).where(
        *where, Deviation.answered_at.is_not(None)
    )
    figures = answer_figures(db.session.execute(query), tz)
    overdue = select(func.count()).select_from(Deviation).where(*where, *_overdue(today))
    return {**figures, "overdue": db.session.scalar(overdue)}


def answer_figures(answered: Iterable[tuple[datetime, datetime, date | None]], tz: str) -> dict:
    days, timely = [], 0
    for sent_at, answered_at, deadline in answered:
        sent_on, answered_on = local_date(sent_at, tz), local_date(answered_at, tz)
        days.append(answer_days(sent_on, answered_on))
        timely += bool(deadline and in_time(answered_on, deadline))
    return {
        "answered": len(days),
        "in_time": timely,
        "median_days": median_days(days),
        "share_in_time": share(timely, len(days)),
    }


def _overdue(today: date) -> list:
    """Not answered, not withdrawn, and today is after the deadline (as domain.is_overdue)."""
    return [
        Deviation.answered_at.is_(None),
        Deviation.state != rules.ATERKALLAD,
        Deviation.deadline < today,
    ]


# --- the year -----------------------------------------------------------------------------


def yearly_report(
    group_id: str | None, year: int, tz: str | None = None, today: date | None = None
) -> dict:
    """The yearly follow-up of the agreement (seed 003, "Uppföljning av överenskommelsen")."""
    tz, whole = tz or timezone(), full_year(year)
    today = today or local_today(tz)
    counts = meeting_counts(group_id, whole.start, whole.end)
    periods = [("H1", half_year(year, 1)), ("H2", half_year(year, 2)), ("year", whole)]
    return {
        "group_id": group_id,
        "year": year,
        "period": period_info(whole),
        "suppressed_below": None,
        "sip": sip_section(counts["sip"]),
        "bus_individ": bus_individ_section(counts["bus_individ"]),
        "deviations": [
            {"key": key, "label": p.label, **deviation_section(group_id, p, tz, today)}
            for key, p in periods
        ],
        "process": {
            "sip": _sip_process(group_id, whole, counts["sip"]),
            "bus_individ": _agreements(group_id, whole),
        },
    }


def _sip_process(group_id: str | None, period: Period, counts: dict) -> dict:
    """First meetings against follow-ups, and how many were called at short notice
    (held as in services.statistics: genomförd, or attendance recorded)."""
    first, after = local_day_bounds(period.start, period.end, timezone())
    query = select(func.count()).where(
        or_(SipMeeting.state == HELD, SipMeeting.held_at.is_not(None)),
        SipMeeting.meeting_at >= first,
        SipMeeting.meeting_at < after,
        SipMeeting.short_notice.is_(True),
    )
    if group_id is not None:
        query = query.where(SipMeeting.group_id == group_id)
    short = db.session.scalar(query) or 0
    return {
        "total": counts["total"],
        "by_type": _labelled(counts["by_type"], MEETING_TYPES),
        "short_notice": short,
        "short_notice_share": share(short, counts["total"]),
    }


def _agreements(group_id: str | None, period: Period) -> dict:
    """Held BUS-individ meetings with and without an agreement."""
    query = (
        select(BusIndivid.agreement_reached, func.count())
        .where(
            BusIndivid.state == HELD,
            BusIndivid.meeting_date >= period.start,
            BusIndivid.meeting_date <= period.end,
        )
        .group_by(BusIndivid.agreement_reached)
    )
    if group_id is not None:
        query = query.where(BusIndivid.group_id == group_id)
    found = dict(db.session.execute(query).all())
    return {
        "total": sum(found.values()),
        "agreement": [
            {"key": str(key).lower(), "label": label, "count": found.get(key, 0)}
            for key, label in AGREEMENT
        ],
    }


# --- the BUS-sekretariat's compilation ----------------------------------------------------


def compilation(year: int, tz: str | None = None, today: date | None = None) -> dict:
    """One row per BUS group and a total row (every group, also reports without a group)."""
    tz, whole = tz or timezone(), full_year(year)
    today = today or local_today(tz)
    groups = db.session.execute(select(BusGroup.id, BusGroup.name).order_by(BusGroup.name)).all()
    deviations = _deviations_by_group(whole, tz, today)
    return {
        "year": year,
        "period": period_info(whole),
        "suppressed_below": None,
        "rows": [_compiled(gid, name, whole, deviations) for gid, name in groups],
        "total": _compiled(None, "Totalt, alla grupper", whole, deviations),
    }


def _compiled(group_id: str | None, name: str, period: Period, deviations: dict) -> dict:
    counts = meeting_counts(group_id, period.start, period.end)
    return {
        "group_id": group_id,
        "label": name,
        "sip": sip_section(counts["sip"]),
        "bus_individ": bus_individ_section(counts["bus_individ"]),
        "deviations": deviations.get(group_id) or _deviation_totals(0, [], 0, "UTC"),
    }


def _deviations_by_group(period: Period, tz: str, today: date) -> dict[str | None, dict]:
    """Deviation totals and answer times per group id, and for all of them under None."""
    where = _sent_in(None, period, tz)
    totals = dict(db.session.execute(_by_group(where)).all())
    overdue = dict(db.session.execute(_by_group([*where, *_overdue(today)])).all())
    answered: dict[str | None, list] = defaultdict(list)
    query = select(
        Deviation.group_id, Deviation.sent_at, Deviation.answered_at, Deviation.deadline
    ).where(*where, Deviation.answered_at.is_not(None))
    for group_id, *times in db.session.execute(query):
        answered[group_id].append(times)
    result = {
        gid: _deviation_totals(n, answered[gid], overdue.get(gid, 0), tz)
        for gid, n in totals.items()
        if gid is not None
    }
    every = [t for times in answered.values() for t in times]
    result[None] = _deviation_totals(sum(totals.values()), every, sum(overdue.values()), tz)
    return result


def _by_group(where: list):
    return select(Deviation.group_id, func.count()).where(*where).group_by(Deviation.group_id)


def _deviation_totals(total: int, answered: list, overdue: int, tz: str) -> dict:
    return {"total": total, **answer_figures(answered, tz), "overdue": overdue}


# --- small-cell suppression ---------------------------------------------------------------


def suppressed(report: Any, threshold: int) -> Any:
    """The same report with every count as text, 1 … threshold-1 as "<threshold"; figures
    derived from such a small count (median, share) become None."""
    result = _suppress(report, threshold)
    if isinstance(result, dict) and "suppressed_below" in result:
        result["suppressed_below"] = threshold
    return result


def _suppress(value: Any, limit: int) -> Any:
    if isinstance(value, list):
        return [_suppress(v, limit) for v in value]
    if not isinstance(value, dict):
        return value
    result = {
        key: suppress(v, limit) if key in COUNT_KEYS and _is_count(v) else _suppress(v, limit)
        for key, v in value.items()
    }
    for key, bases in DERIVED.items():
        if key in value and any(_small(value.get(b), limit) for b in bases):
            result[key] = None
    return result


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _small(value: Any, limit: int) -> bool:
    return _is_count(value) and 0 < value < limit
