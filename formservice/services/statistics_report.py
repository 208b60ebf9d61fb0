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
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Date, Select, and_, case, cast, func, or_, select
from sqlalchemy.orm import aliased

from .. import clock
from ..domain import deviation as rules
from ..domain.deadlines import local_date
from ..domain.deviation import GENDERS
from ..domain.sip import MEETING_TYPES
from ..domain.statistics import (
    SMALL,
    Period,
    Sum,
    answer_days,
    full_year,
    half_year,
    in_time,
    median_days,
    protect,
    share,
    table_sums,
)
from ..extensions import db
from ..models import BusGroup, BusIndivid, Deviation, SipMeeting, Unit
from .deviation_statistics import categories_by, category_rows, rows, utc_bounds
from .statistics import (
    HELD,
    local_day_bounds,
    meeting_counts,
    meeting_counts_by_group,
    meeting_counts_of_none,
)

#: Keys whose values are counts of people or cases: `suppressed` turns them into text.
COUNT_KEYS = frozenset({"count", "total", "answered", "in_time", "overdue", "short_notice"})
#: How a count hidden so that a small count cannot be worked out is shown (a small one: "<3").
HIDDEN = "dolt"
#: Figures derived from counts, hidden when a count they rest on is hidden.
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


def threshold() -> int:
    return current_app.config["FORMSERVICE_SMALL_CELL_THRESHOLD"]


# --- one period ---------------------------------------------------------------------------


def group_report(
    group_id: str | None, period: Period, tz: str | None = None, today: date | None = None
) -> dict:
    """One period's statistics for one group, or every group when `group_id` is None."""
    tz = tz or clock.zone()
    counts = meeting_counts(group_id, period.start, period.end)
    return {
        "group_id": group_id,
        "period": period_info(period),
        "suppressed_below": None,
        "sip": sip_section(counts["sip"]),
        "bus_individ": bus_individ_section(counts["bus_individ"]),
        "deviations": deviation_section(group_id, period, tz, today or clock.today()),
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
    figures = _deviation_figures(_sent_in(group_id, period, tz), None, tz, today)
    return _section(figures.get(None, _Figures()))


def _sent_in(group_id: str | None, period: Period, tz: str) -> list:
    start, end = utc_bounds(period, tz)
    where = [Deviation.sent_at >= start, Deviation.sent_at < end]
    if group_id is not None:
        where.append(Deviation.group_id == group_id)
    return where


class _Figures:
    """One part's raw deviation figures, as read (additive: two parts add up to their sum)."""

    def __init__(self) -> None:
        self.states: Counter = Counter()
        self.categories: Counter = Counter()
        #: (reporting id, receiving id) -> [reporting name, receiving name, count], in the
        #: database's order of the names.
        self.pairs: dict[tuple, list] = {}
        self.times: list[tuple[int, bool]] = []  # (answer days, in time) of the answered
        self.overdue = 0

    def __add__(self, other: _Figures) -> _Figures:
        both = _Figures()
        both.states = self.states + other.states
        both.categories = self.categories + other.categories
        for pairs in (self.pairs, other.pairs):
            for key, (a, b, n) in pairs.items():
                both.pairs.setdefault(key, [a, b, 0])[2] += n
        both.times = self.times + other.times
        both.overdue = self.overdue + other.overdue
        return both


def _deviation_figures(
    where: list, part: ColumnElement | None, tz: str, today: date
) -> dict[Any, _Figures]:
    """The deviations' figures per value of `part` (None: one part, under None), each
    read once by five grouped or compact queries."""
    found: dict[Any, _Figures] = defaultdict(_Figures)
    parted = [] if part is None else [part]

    def key(row: Any) -> Any:
        return row[0] if part is not None else None

    skip = len(parted)
    states = select(*parted, Deviation.state, func.count()).where(*where)
    for row in db.session.execute(states.group_by(*parted, Deviation.state)):
        state, n = row[skip:]
        found[key(row)].states[rules.STATE_LABELS.get(state, state)] += n
    for row in db.session.execute(categories_by(where, part)):
        found[key(row)].categories[row[skip]] += row[skip + 1]
    for row in db.session.execute(_pairs_query(where, parted)):
        a_id, b_id, a, b, n = row[skip:]
        found[key(row)].pairs[(a_id, b_id)] = [a, b, n]
    for answer in answer_times(where, parted, tz):
        found[key(answer)].times.append((answer[skip], answer[skip + 1]))
    overdue = select(*parted, func.count()).where(*where, *_overdue(today))
    for row in db.session.execute(overdue.group_by(*parted)):
        found[key(row)].overdue = row[skip]
    return found


def _section(figures: _Figures) -> dict:
    states = figures.states
    return {
        "total": sum(states.values()),
        "by_state": rows(states, _keys(rules.STATE_LABELS, SENT_STATES, states)),
        "by_category": category_rows(figures.categories, zeros=True),
        "by_pair": _pair_rows(figures.pairs),
        "answers": {**answer_figures(figures.times), "overdue": figures.overdue},
    }


def _keys(labels: dict[str, str], known: Iterable[str], found: Counter) -> list[str]:
    """The known states' labels in order, then any unexpected label found in the data."""
    ordered = [labels[k] for k in known]
    return [*ordered, *sorted(set(found) - set(ordered))]


def _pairs_query(where: list, parted: list) -> Select:
    """Reporting → receiving unit (ids and names) with their count, in the names' order."""
    reporting, receiving = aliased(Unit), aliased(Unit)
    return (
        select(*parted, reporting.id, receiving.id, reporting.name, receiving.name, func.count())
        .select_from(Deviation)
        .join(reporting, Deviation.reporting_unit_id == reporting.id)
        .join(receiving, Deviation.receiving_unit_id == receiving.id)
        .where(*where)
        .group_by(*parted, reporting.id, reporting.name, receiving.id, receiving.name)
        .order_by(reporting.name, receiving.name)
    )


def _pair_rows(pairs: dict[tuple, list]) -> list[dict]:
    """Most frequent first, ties in the database's order of the names (a stable sort)."""
    ordered = sorted(pairs.values(), key=lambda pair: -pair[2])
    return [
        {"label": f"{a} → {b}", "reporting": a, "receiving": b, "count": count}
        for a, b, count in ordered
    ]


def answer_times(where: list, parted: list, tz: str) -> Iterable[tuple]:
    """(*parted, answer days, in time) of every answered deviation: local dates worked out
    by PostgreSQL (`AT TIME ZONE`), on SQLite here (`local_date`, as the domain does)."""
    answered = [*where, Deviation.answered_at.is_not(None)]
    if db.session.get_bind().dialect.name == "postgresql":
        sent_on = cast(func.timezone(tz, Deviation.sent_at), Date)
        answered_on = cast(func.timezone(tz, Deviation.answered_at), Date)
        timely = and_(Deviation.deadline.is_not(None), answered_on <= Deviation.deadline)
        query = select(*parted, answered_on - sent_on, timely).where(*answered)
        return db.session.execute(query)
    query = select(*parted, Deviation.sent_at, Deviation.answered_at, Deviation.deadline)
    return [
        (*row[:-3], *_answer_time(row[-3], row[-2], row[-1], tz))
        for row in db.session.execute(query.where(*answered))
    ]


def _answer_time(sent_at: datetime, answered_at: datetime, deadline: date | None, tz: str) -> tuple:
    sent_on, answered_on = local_date(sent_at, tz), local_date(answered_at, tz)
    return answer_days(sent_on, answered_on), bool(deadline and in_time(answered_on, deadline))


def answer_figures(times: Iterable[tuple[int, bool]]) -> dict:
    """Answered count, in time, median days and share in time of (days, in time) pairs."""
    days, timely = [], 0
    for n, on_time in times:
        days.append(n)
        timely += bool(on_time)
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
    tz, whole = tz or clock.zone(), full_year(year)
    today = today or clock.today()
    counts = meeting_counts(group_id, whole.start, whole.end)
    periods = [("H1", half_year(year, 1)), ("H2", half_year(year, 2)), ("year", whole)]
    # The year's deviations read once, split by half-year; the year is the two halves.
    second, _ = utc_bounds(half_year(year, 2), tz)
    half = case((Deviation.sent_at < second, "H1"), else_="H2")
    halves = _deviation_figures(_sent_in(group_id, whole, tz), half, tz, today)
    halves["year"] = halves["H1"] + halves["H2"]
    return {
        "group_id": group_id,
        "year": year,
        "period": period_info(whole),
        "suppressed_below": None,
        "sip": sip_section(counts["sip"]),
        "bus_individ": bus_individ_section(counts["bus_individ"]),
        "deviations": [
            {"key": key, "label": p.label, **_section(halves[key])} for key, p in periods
        ],
        "process": {
            "sip": _sip_process(group_id, whole, counts["sip"]),
            "bus_individ": _agreements(group_id, whole),
        },
    }


def _sip_process(group_id: str | None, period: Period, counts: dict) -> dict:
    """First meetings against follow-ups, and how many were called at short notice
    (held as in services.statistics: genomförd, or attendance recorded)."""
    first, after = local_day_bounds(period.start, period.end, clock.zone())
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
    tz, whole = tz or clock.zone(), full_year(year)
    today = today or clock.today()
    groups = db.session.execute(select(BusGroup.id, BusGroup.name).order_by(BusGroup.name)).all()
    deviations = _deviations_by_group(whole, tz, today)
    meetings = meeting_counts_by_group(whole.start, whole.end)  # two queries, not two a group
    none = meeting_counts_of_none()
    return {
        "year": year,
        "period": period_info(whole),
        "suppressed_below": None,
        "rows": [_compiled(gid, name, meetings.get(gid, none), deviations) for gid, name in groups],
        "total": _compiled(
            None, "Totalt, alla grupper", meeting_counts(None, whole.start, whole.end), deviations
        ),
    }


def _compiled(group_id: str | None, name: str, counts: dict, deviations: dict) -> dict:
    """One row of the compilation: SIP and BUS-individ by gender, and the deviations."""
    sip = sip_section(counts["sip"])
    return {
        "group_id": group_id,
        "label": name,
        "sip": {"total": counts["sip"]["total"], "by_gender": sip["by_gender"]},
        "bus_individ": bus_individ_section(counts["bus_individ"]),
        "deviations": deviations.get(group_id) or _deviation_totals(0, [], 0),
    }


def _deviations_by_group(period: Period, tz: str, today: date) -> dict[str | None, dict]:
    """Deviation totals and answer times per group id, and for all of them under None."""
    where = _sent_in(None, period, tz)
    totals = dict(db.session.execute(_by_group(where)).all())
    overdue = dict(db.session.execute(_by_group([*where, *_overdue(today)])).all())
    answered: dict[str | None, list] = defaultdict(list)
    for group_id, *times in answer_times(where, [Deviation.group_id], tz):
        answered[group_id].append(times)
    result: dict[str | None, dict] = {
        gid: _deviation_totals(n, answered[gid], overdue.get(gid, 0))
        for gid, n in totals.items()
        if gid is not None
    }
    every = [t for times in answered.values() for t in times]
    result[None] = _deviation_totals(sum(totals.values()), every, sum(overdue.values()))
    return result


def _by_group(where: list[ColumnElement[bool]]) -> Select[str | None, int]:
    return select(Deviation.group_id, func.count()).where(*where).group_by(Deviation.group_id)


def _deviation_totals(total: int, answered: list, overdue: int) -> dict:
    return {"total": total, **answer_figures(answered), "overdue": overdue}


# --- small-cell suppression ---------------------------------------------------------------


def suppressed(report: Any, threshold: int) -> Any:
    """The same report for readers outside the local group, every count as text: counts of
    1 … threshold-1 as "<threshold", and as HIDDEN the counts hidden so that no small count
    can be worked out from the report's totals, halves and year (`domain.statistics.protect`
    on the sums the report's figures obey). Figures derived from a hidden count (median,
    share) become None."""
    counts = _counts(report, ())
    same, sums, known = _structure(report, counts)
    marks = protect({p: n for p, n in counts.items() if p not in same}, sums, threshold, known)
    marks |= {path: marks[canonical] for path, canonical in same.items() if canonical in marks}
    result = _shown(report, (), marks, threshold)
    if isinstance(result, dict) and "suppressed_below" in result:
        result["suppressed_below"] = threshold
    return result


def _counts(value: Any, path: tuple) -> dict[tuple, int]:
    """Every count of the report by its path (keys and list indices from the top)."""
    if isinstance(value, list):
        return {p: n for i, v in enumerate(value) for p, n in _counts(v, (*path, i)).items()}
    if not isinstance(value, dict):
        return {}
    found: dict[tuple, int] = {}
    for key, v in value.items():
        if key in COUNT_KEYS and _is_count(v):
            found[(*path, key)] = v
        else:
            found |= _counts(v, (*path, key))
    return found


def _shown(value: Any, path: tuple, marks: dict, threshold: int) -> Any:
    if isinstance(value, list):
        return [_shown(v, (*path, i), marks, threshold) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, v in value.items():
        if key in COUNT_KEYS and _is_count(v):
            result[key] = _mark_text(marks.get((*path, key)), v, threshold)
        else:
            result[key] = _shown(v, (*path, key), marks, threshold)
    for key, bases in DERIVED.items():
        if key in value and any((*path, base) in marks for base in bases):
            result[key] = None
    return result


def _mark_text(mark: str | None, count: int, threshold: int) -> str:
    if mark is None:
        return str(count)
    return f"<{threshold}" if mark == SMALL else HIDDEN


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The sums a report's published figures obey, by path. A report of one period: SIP meetings
# by gender × type with both margins, BUS-individ and deviations by state or by unit pair
# adding up to their totals (a case may have several categories: those add up to nothing).
# The yearly follow-up adds H1 + H2 = year for every deviation figure, and its process
# figures repeat the meeting counts (`same`). The compilation adds each column's groups up
# to the total row, which also counts records of no group (`known`: assumed known).


def _structure(report: Any, counts: dict) -> tuple[dict, list[Sum], dict]:
    """(paths that repeat another path's figure, the sums, figures known but not shown)."""
    if not isinstance(report, dict):
        return {}, [], {}
    if "rows" in report and "total" in report:
        return _compilation_structure(report, counts)
    sums = _meeting_sums((), report)
    same: dict[tuple, tuple] = {}
    deviations = report.get("deviations")
    if isinstance(deviations, dict):
        sums += _deviation_sums(("deviations",), deviations)
    elif isinstance(deviations, list):
        for i, part in enumerate(deviations):
            sums += _deviation_sums(("deviations", i), part)
        sums += _halves_sums(deviations)
    process = report.get("process")
    if isinstance(process, dict) and {"sip", "bus_individ"} <= process.keys():
        same = _repeated(report, counts)
        sums += _agreement_sums(process, same)
    return same, sums, {}


def _paths(path: tuple, rows: list[dict]) -> dict[str, tuple]:
    """The count paths of labelled rows, by their key (or label)."""
    return {row.get("key", row["label"]): (*path, i, "count") for i, row in enumerate(rows)}


def _meeting_sums(path: tuple, report: dict) -> list[Sum]:
    sums: list[Sum] = []
    sip, bus = report.get("sip"), report.get("bus_individ")
    if sip:
        genders = _paths((*path, "sip", "by_gender"), sip["by_gender"])
        if "by_gender_and_type" in sip:
            types = _paths((*path, "sip", "by_type"), sip["by_type"])
            table = (*path, "sip", "by_gender_and_type")
            cells = [
                _paths((*table, i, "cells"), row["cells"])
                for i, row in enumerate(sip["by_gender_and_type"])
            ]
            sums += table_sums(
                [[row[k] for k in types] for row in cells],
                [genders[row["key"]] for row in sip["by_gender_and_type"]],
                list(types.values()),
                (*path, "sip", "total"),
            )
        else:
            sums.append(Sum((*path, "sip", "total"), tuple(genders.values())))
    if bus:
        genders = _paths((*path, "bus_individ", "by_gender"), bus["by_gender"])
        sums.append(Sum((*path, "bus_individ", "total"), tuple(genders.values())))
    return sums


def _deviation_sums(path: tuple, section: dict) -> list[Sum]:
    """Each case has one state and one unit pair: both add up to the total."""
    total = (*path, "total")
    return [
        Sum(total, tuple(_paths((*path, key), section[key]).values()))
        for key in ("by_state", "by_pair")
        if key in section
    ]


def _halves_sums(parts: list[dict]) -> list[Sum]:
    """H1 + H2 = year for every figure of the yearly follow-up's deviations; a label missing
    from a half is a 0 there."""
    index = {part["key"]: i for i, part in enumerate(parts)}
    if set(index) != {"H1", "H2", "year"}:
        return []
    halves, year = (index["H1"], index["H2"]), index["year"]
    sums = [Sum(("deviations", year, "total"), tuple(("deviations", h, "total") for h in halves))]
    for key in ("answered", "in_time", "overdue"):
        figure = ("answers", key)
        sums.append(
            Sum(("deviations", year, *figure), tuple(("deviations", h, *figure) for h in halves))
        )
    for key in ("by_state", "by_category", "by_pair"):
        rows = [_paths(("deviations", i, key), parts[i][key]) for i in range(len(parts))]
        for label, whole in rows[year].items():
            sums.append(Sum(whole, tuple(rows[h][label] for h in halves if label in rows[h])))
    return sums


def _repeated(report: dict, counts: dict) -> dict[tuple, tuple]:
    """The yearly process figures that repeat the meeting counts, mapped to them."""
    same = {}
    pairs = [
        (("process", "sip", "total"), ("sip", "total")),
        (("process", "bus_individ", "total"), ("bus_individ", "total")),
    ]
    types = _paths(("sip", "by_type"), report["sip"]["by_type"])
    again = _paths(("process", "sip", "by_type"), report["process"]["sip"]["by_type"])
    pairs += [(path, types[key]) for key, path in again.items() if key in types]
    for path, canonical in pairs:
        if path in counts and counts[path] == counts.get(canonical):
            same[path] = canonical
    return same


def _agreement_sums(process: dict, same: dict) -> list[Sum]:
    total = ("process", "bus_individ", "total")
    agreement = _paths(("process", "bus_individ", "agreement"), process["bus_individ"]["agreement"])
    return [Sum(same.get(total, total), tuple(agreement.values()))]


def _compilation_structure(report: dict, counts: dict) -> tuple[dict, list[Sum], dict]:
    """Each group's row adds up by gender; each column's groups add up to the total row,
    with what no group shows (records of no group) assumed known to the reader."""
    lines = [("rows", i) for i in range(len(report["rows"]))]
    sums = [s for line in lines for s in _meeting_sums(line, report["rows"][line[1]])]
    sums += _meeting_sums(("total",), report["total"])
    known: dict[tuple, int] = {}
    for figure in _compilation_figures(report):
        whole = _path(report, ("total",), figure)
        if whole is None:
            continue
        parts = [p for line in lines if (p := _path(report, line, figure)) is not None]
        rest = counts[whole] - sum(counts[p] for p in parts)
        if rest:
            known[("no group", *whole[1:])] = rest
            parts.append(("no group", *whole[1:]))
        sums.append(Sum(whole, tuple(parts)))
    return {}, sums, known


def _compilation_figures(report: dict) -> list[tuple]:
    """The figures of a compilation row: (section, key), the genders by their key."""
    figures: list[tuple] = [("sip", "total"), ("bus_individ", "total"), ("deviations", "total")]
    figures += [("deviations", key) for key in ("answered", "in_time", "overdue")]
    for section in ("sip", "bus_individ"):
        lines = [*report["rows"], report["total"]]
        keys = dict.fromkeys(row["key"] for line in lines for row in line[section]["by_gender"])
        figures += [(section, "by_gender", key) for key in keys]
    return figures


def _path(report: dict, line: tuple, figure: tuple) -> tuple | None:
    """Where a row's figure is (None when the row has no such gender: a 0 there)."""
    row = report[line[0]] if len(line) == 1 else report[line[0]][line[1]]
    if figure[1:2] != ("by_gender",):
        return (*line, *figure)
    rows = row[figure[0]]["by_gender"]
    index = next((i for i, r in enumerate(rows) if r["key"] == figure[2]), None)
    return None if index is None else (*line, figure[0], "by_gender", index, "count")
