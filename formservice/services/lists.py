"""The long lists (deviations, SIP meetings, BUS-individ records, a steering group's meetings),
50 rows a page: filtered, counted, sorted and cut by the database, never loaded whole.

Offset pagination (`?sida=N`): the pages show "Sida N av M" and the users jump between pages
and sorts, which keyset pagination cannot give; every sort ends in the id, so a page is
stable, and the indexes of migration 0012 let the database read a page off an index in the
sort's order. The count stops at `COUNT_CAP` rows, so a page's cost does not grow with the
total (docs/performance.md). Who may see what is `access`'s rule, applied in the query.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased, selectinload

from .. import access, clock
from ..documents import statistics_csv
from ..domain import deviation as rules
from ..domain.deadlines import is_overdue
from ..domain.lists import DATE_SORTS, DEFAULT_SORT, DEVIATION_SORTS, DeviationFilter, RecordFilter
from ..extensions import db
from ..models import (
    BusGroup,
    BusIndivid,
    Deviation,
    GroupMeeting,
    SipCalledUnit,
    SipMeeting,
    Unit,
    User,
)
from . import audit, categories

PAGE_SIZE = 50
#: Rows counted at most: beyond it a page says "av fler än 200" (the count is the one part of
#: a page that would otherwise grow with the whole list).
COUNT_CAP = 10_000
CSV_BATCH = 1000


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number and how many rows the list has."""

    rows: list[Any]
    number: int
    total: int  # rows counted, at most COUNT_CAP
    capped: bool  # more than COUNT_CAP rows match
    more: bool  # a next page exists
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.more else None


def paginate(rows: Select, where: Sequence[ColumnElement[bool]], count_from, number: int) -> Page:
    """Page `number` (a page past the end is the last) of `rows`, counting `count_from` rows
    that meet `where` (at most COUNT_CAP + 1 of them); three statements at most."""
    counted = select(count_from.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(counted)) or 0
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    number = max(number, 1)
    if not capped:
        number = min(number, max(1, math.ceil(total / PAGE_SIZE)))
    fetched = db.session.execute(rows.limit(PAGE_SIZE + 1).offset((number - 1) * PAGE_SIZE)).all()
    if not fetched and number > 1:  # past the end of a capped list: its last page
        return paginate(rows, where, count_from, number - 1)
    return Page(fetched[:PAGE_SIZE], number, total, capped, len(fetched) > PAGE_SIZE)


def _ordered(column, descending: bool) -> list:
    """`column` then the id, both one way; no value (a draft) first when descending, last
    when ascending: PostgreSQL's own default, so a plain index serves both directions."""
    if descending:
        return [column.desc().nulls_first()]
    return [column.asc().nulls_last()]


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """The local days `start`..`end` (both included) as instants: [from, until)."""
    zone = ZoneInfo(clock.zone())
    low = datetime.combine(start, time(), zone) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), zone) if end else None
    return low, high


# --- deviations -----------------------------------------------------------------------------


_REPORTING, _RECEIVING = aliased(Unit), aliased(Unit)

DEVIATION_COLUMNS = (
    Deviation.id,
    Deviation.case_number,
    Deviation.state,
    Deviation.created_at,
    Deviation.sent_at,
    Deviation.deadline,
    Deviation.answered_at,
    Deviation.categories,
    Deviation.form_version,
    Deviation.group_id,
    _REPORTING.name.label("reporting_name"),
    _RECEIVING.name.label("receiving_name"),
    BusGroup.name.label("group_name"),
)


def to_answer_clause(units: set[str]) -> ColumnElement[bool]:
    """A chef's "Att besvara": sent to one of the chef's units and not yet answered."""
    if not units:
        return false()
    return and_(Deviation.state == rules.SKICKAD, Deviation.receiving_unit_id.in_(sorted(units)))


def deviation_conditions(user: User, f: DeviationFilter) -> list[ColumnElement[bool]]:
    """What the user may list (access.visible_deviations, unchanged) and the filters."""
    where: list[ColumnElement[bool]] = [access.visible_deviations(user).whereclause]
    if f.case_number:
        where.append(Deviation.case_number.contains(f.case_number, autoescape=True))
    if f.state:
        where.append(Deviation.state == f.state)
    if f.unit_id:
        where.append(
            or_(Deviation.reporting_unit_id == f.unit_id, Deviation.receiving_unit_id == f.unit_id)
        )
    if f.group_id:
        where.append(Deviation.group_id == f.group_id)
    low, high = day_bounds(f.sent_from, f.sent_to)
    if low is not None:
        where.append(Deviation.sent_at >= low)
    if high is not None:
        where.append(Deviation.sent_at < high)
    if f.category:
        text = cast(Deviation.categories, String)
        where.append(text.contains(f'"{f.category}"', autoescape=True))
    if f.unanswered:  # as the list's "Obesvarad" badge (meetings.is_case_overdue)
        where += [
            Deviation.deadline.is_not(None),
            Deviation.answered_at.is_(None),
            Deviation.deadline < clock.today(),
        ]
    return where


def _deviation_rows(where: Sequence[ColumnElement[bool]], sort: str) -> Select:
    name, descending = DEVIATION_SORTS.get(sort, DEVIATION_SORTS[DEFAULT_SORT])
    order = _ordered(getattr(Deviation, name), descending) + _ordered(Deviation.id, descending)
    return (
        select(*DEVIATION_COLUMNS)
        .join(_REPORTING, _REPORTING.id == Deviation.reporting_unit_id)
        .join(_RECEIVING, _RECEIVING.id == Deviation.receiving_unit_id)
        .outerjoin(BusGroup, BusGroup.id == Deviation.group_id)
        .where(*where)
        .order_by(*order)
    )


@dataclass(frozen=True)
class DeviationList:
    page: Page
    to_answer: list[Any]  # a chef's "Att besvara" (page 1 only), at most PAGE_SIZE
    more_to_answer: bool


def deviation_page(user: User, f: DeviationFilter, number: int) -> DeviationList:
    """A page of the deviations the user may list, after the filters; a chef's reports to
    answer come first, in a list of their own (on the first page), soonest deadline first."""
    where = deviation_conditions(user, f)
    units = access.managed_unit_ids(user)
    to_answer: list[Any] = []
    more = False
    if units:
        mine = to_answer_clause(units)
        if number <= 1:
            query = _deviation_rows([*where, mine], "svarsfrist-stigande")
            found = db.session.execute(query.limit(PAGE_SIZE + 1)).all()
            to_answer, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        where = [*where, ~mine]
    page = paginate(_deviation_rows(where, f.sort), where, Deviation, number)
    return DeviationList(page, to_answer, more)


CSV_HEADER = [
    "Ärendenummer",
    "Status",
    "Skickad",
    "Svara senast",
    "Besvarad",
    "Rapporterande verksamhet",
    "Mottagande verksamhet",
    "BUS-grupp",
    "Kategorier",
    "Obesvarad efter svarsfristen",
]


def export_deviations(user: User, f: DeviationFilter) -> Iterator[bytes]:
    """ "Ladda ner som CSV": every deviation of the filtered list in its order, as the
    statistics CSV is written (statistics_csv: BOM, semicolons, formula-safe cells), read
    CSV_BATCH rows at a time. No personal data: codes, dates, unit and group names only, never
    the text of a report. The export is audited and committed before the first row is read."""
    where = deviation_conditions(user, f)
    audit.record(user, "deviations.exported", "deviation", None, **f.as_detail())
    db.session.commit()
    return statistics_csv.stream_csv(CSV_HEADER, (_csv_row(r) for r in _stream(where, f.sort)))


def _stream(where: Sequence[ColumnElement[bool]], sort: str) -> Iterator[Any]:
    query = _deviation_rows(where, sort).execution_options(yield_per=CSV_BATCH)
    for part in db.session.execute(query).partitions():
        yield from part


def _csv_row(row: Any) -> list[str]:
    today = clock.today()
    overdue = is_overdue(row.deadline, today, row.answered_at is not None)
    return [
        row.case_number or "",
        rules.STATE_LABELS.get(row.state, row.state),
        _local_day(row.sent_at),
        row.deadline.isoformat() if row.deadline else "",
        _local_day(row.answered_at),
        row.reporting_name,
        row.receiving_name,
        row.group_name or "",
        ", ".join(categories.labels_of(row.categories or [], row.form_version)),
        "Ja" if overdue else "Nej",
    ]


def _local_day(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(clock.zone())).date().isoformat() if moment else ""


def readable_groups(user: User) -> list[tuple[str, str]]:
    """The groups whose cases the user lists as (id, name) by name: every active group for
    the secretariat, else those the user is secretary or convener of."""
    query = select(BusGroup.id, BusGroup.name).where(BusGroup.active).order_by(BusGroup.name)
    if not access.is_secretariat(user):
        ids = access.secretary_group_ids(user) | access.convener_group_ids(user)
        query = query.where(BusGroup.id.in_(sorted(ids)))
    return [(r.id, r.name) for r in db.session.execute(query)]


def unit_choices() -> list[tuple[str, str]]:
    """Every unit by name (an inactive one still has cases in the list)."""
    query = select(Unit.id, Unit.name).order_by(Unit.name, Unit.id)
    return [(r.id, r.name) for r in db.session.execute(query)]


# --- SIP meetings and BUS-individ -----------------------------------------------------------


def sip_page(user: User, f: RecordFilter, number: int) -> Page:
    """A page of the SIP meetings the user may list (access.visible_sip_meetings)."""
    where: list[ColumnElement[bool]] = [access.visible_sip_meetings(user).whereclause]
    if f.state:
        where.append(SipMeeting.state == f.state)
    if f.unit_id:
        where.append(SipMeeting.initiator_unit_id == f.unit_id)
    low, high = day_bounds(f.date_from, f.date_to)
    if low is not None:
        where.append(SipMeeting.meeting_at >= low)
    if high is not None:
        where.append(SipMeeting.meeting_at < high)
    descending = DATE_SORTS.get(f.sort, True)
    rows = (
        select(SipMeeting)
        .options(
            selectinload(SipMeeting.initiator_unit),
            selectinload(SipMeeting.called).selectinload(SipCalledUnit.unit),
        )
        .where(*where)
        .order_by(
            *_ordered(SipMeeting.meeting_at, descending), *_ordered(SipMeeting.id, descending)
        )
    )
    page = paginate(rows, where, SipMeeting, number)
    return Page([r[0] for r in page.rows], page.number, page.total, page.capped, page.more)


def bus_individ_page(user: User, f: RecordFilter, number: int) -> Page:
    """A page of the BUS-individ records the user may list (bus_individ.visible_records)."""
    from .bus_individ import visible_records

    where: list[ColumnElement[bool]] = [visible_records(user).whereclause]
    if f.state:
        where.append(BusIndivid.state == f.state)
    if f.unit_id:
        where.append(BusIndivid.raised_by_unit_id == f.unit_id)
    if f.date_from:
        where.append(BusIndivid.meeting_date >= f.date_from)
    if f.date_to:
        where.append(BusIndivid.meeting_date <= f.date_to)
    descending = DATE_SORTS.get(f.sort, True)
    rows = (
        select(BusIndivid, _REPORTING.name.label("raised_by_name"))
        .join(_REPORTING, _REPORTING.id == BusIndivid.raised_by_unit_id)
        .where(*where)
        .order_by(
            *_ordered(BusIndivid.meeting_date, descending), *_ordered(BusIndivid.id, descending)
        )
    )
    return paginate(rows, where, BusIndivid, number)


# --- a steering group's meetings ------------------------------------------------------------


def meetings_page(group_id: str, f: RecordFilter, number: int) -> Page:
    """A page of the group's meetings, latest first, each with its latest digest's id and
    state (one query for the page, not one per meeting)."""
    from ..models import Digest

    where: list[ColumnElement[bool]] = [GroupMeeting.group_id == group_id]
    if f.date_from:
        where.append(GroupMeeting.meeting_date >= f.date_from)
    if f.date_to:
        where.append(GroupMeeting.meeting_date <= f.date_to)
    latest = (
        select(Digest.meeting_id, func.max(Digest.id).label("digest_id"))
        .group_by(Digest.meeting_id)
        .subquery()
    )
    descending = DATE_SORTS.get(f.sort, True)
    rows = (
        select(GroupMeeting, Digest.id.label("digest_id"), Digest.state.label("digest_state"))
        .outerjoin(latest, latest.c.meeting_id == GroupMeeting.id)
        .outerjoin(Digest, Digest.id == latest.c.digest_id)
        .where(*where)
        .order_by(
            *_ordered(GroupMeeting.meeting_date, descending),
            *_ordered(GroupMeeting.id, descending),
        )
    )
    return paginate(rows, where, GroupMeeting, number)


def page_number(text: str | None) -> int:
    """`?sida=`: a page number; anything else is the first page."""
    text = (text or "1").strip()
    return int(text) if text.isdigit() and len(text) < 7 else 1
