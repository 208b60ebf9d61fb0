"""Counts for the steering group's statistics and the yearly follow-up (SPEC §6).

Meetings: held SIP meetings by the child's gender and meeting type, BUS-individ meetings by
gender. Every count is one grouped SQL query; dates are local (Europe/Stockholm) calendar
dates and ranges are inclusive.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from .. import clock
from ..domain.deviation import GENDERS
from ..domain.sip import MEETING_TYPES
from ..extensions import db
from ..models import BusIndivid, SipMeeting

HELD = "genomford"


def meeting_counts(group_id: str | None, start: date, end: date) -> dict:
    """Held SIP and BUS-individ meetings from `start` to `end` (inclusive); None = all groups.

    {"sip": {"total", "by_gender", "by_type", "by_gender_and_type"},
     "bus_individ": {"total", "by_gender"}} with every known gender and type present.
    """
    sip = _sip_cells(start, end, group_id)
    bus_individ = _bus_individ_cells(start, end, group_id)
    return {"sip": _sip_counts(sip), "bus_individ": _bus_individ_counts(bus_individ)}


def meeting_counts_by_group(start: date, end: date) -> dict[str | None, dict]:
    """`meeting_counts` of every group (and of the meetings without a group, under None)
    that has any, in two queries for all of them (the yearly compilation's rows); a group
    missing here has `meeting_counts_of_none()`."""
    sip = _sip_cells(start, end, by_group=True)
    bus_individ = _bus_individ_cells(start, end, by_group=True)
    found: dict[str | None, dict] = {}
    for group_id in {g for g, *_ in sip} | {g for g, *_ in bus_individ}:
        found[group_id] = {
            "sip": _sip_counts([(*rest,) for g, *rest in sip if g == group_id]),
            "bus_individ": _bus_individ_counts(
                [(*rest,) for g, *rest in bus_individ if g == group_id]
            ),
        }
    return found


def meeting_counts_of_none() -> dict:
    """`meeting_counts` where there are no meetings."""
    return {"sip": _sip_counts([]), "bus_individ": _bus_individ_counts([])}


def local_day_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """The first local midnight of `start` and the local midnight after `end`, in UTC."""
    zone = ZoneInfo(tz)
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return first.astimezone(UTC), after.astimezone(UTC)


def _sip_cells(
    start: date, end: date, group_id: str | None = None, *, by_group: bool = False
) -> list[tuple]:
    """(gender, type, n) of the held SIP meetings; (group id, gender, type, n) by group."""
    first, after = local_day_bounds(start, end, clock.zone())
    keys: tuple[Any, ...] = (SipMeeting.child_gender, SipMeeting.meeting_type)
    if by_group:
        keys = (SipMeeting.group_id, *keys)
    query = (
        select(*keys, func.count())
        .where(
            or_(SipMeeting.state == HELD, SipMeeting.held_at.is_not(None)),
            SipMeeting.meeting_at >= first,
            SipMeeting.meeting_at < after,
        )
        .group_by(*keys)
    )
    if group_id is not None:
        query = query.where(SipMeeting.group_id == group_id)
    return [tuple(row) for row in db.session.execute(query)]


def _sip_counts(rows: list[tuple]) -> dict:
    cells = {(gender, kind): n for gender, kind, n in rows}
    genders = _keys(GENDERS, {g for g, _ in cells})
    kinds = _keys(MEETING_TYPES, {k for _, k in cells})
    return {
        "total": sum(cells.values()),
        "by_gender": {g: sum(n for (cg, _), n in cells.items() if cg == g) for g in genders},
        "by_type": {k: sum(n for (_, ck), n in cells.items() if ck == k) for k in kinds},
        "by_gender_and_type": {g: {k: cells.get((g, k), 0) for k in kinds} for g in genders},
    }


def _bus_individ_cells(
    start: date, end: date, group_id: str | None = None, *, by_group: bool = False
) -> list[tuple]:
    """(gender, n) of the held BUS-individ meetings; (group id, gender, n) by group."""
    keys = (
        (BusIndivid.group_id, BusIndivid.child_gender) if by_group else (BusIndivid.child_gender,)
    )
    query = (
        select(*keys, func.count())
        .where(
            BusIndivid.state == HELD,
            BusIndivid.meeting_date >= start,
            BusIndivid.meeting_date <= end,
        )
        .group_by(*keys)
    )
    if group_id is not None:
        query = query.where(BusIndivid.group_id == group_id)
    return [tuple(row) for row in db.session.execute(query)]


def _bus_individ_counts(rows: list[tuple]) -> dict:
    counts = dict(rows)
    return {
        "total": sum(counts.values()),
        "by_gender": {g: counts.get(g, 0) for g in _keys(GENDERS, set(counts))},
    }


def _keys(known: dict[str, str], found: set[str]) -> list[str]:
    """The known codes in their order, then any unexpected code found in the data."""
    return [*known, *sorted(found - set(known))]
