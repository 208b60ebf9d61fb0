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
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import access, clock
from ..documents import statistics_csv
from ..domain import deviation as rules
from ..domain.deadlines import is_overdue
from ..domain.lists import (
    DATE_SORTS,
    DEFAULT_SORT,
    DEVIATION_SORTS,
    SORT_KINDS,
    DeviationFilter,
    Position,
    RecordFilter,
    case_numbers,
    format_cursor,
    parse_cursor,
)
from ..extensions import db
from ..models import (
    AnswerFeedback,
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
#: Rows counted at most: beyond it a page says "fler än 2 000", "Sida 1 av fler än 40" (the
#: count is the one part of a page that would otherwise grow with the whole list).
COUNT_CAP = 2_000
CSV_BATCH = 1000


@dataclass(frozen=True)
class Key:
    """A list's order: its sort column, then the id, both one way."""

    column: Any
    id_column: Any
    descending: bool

    @property
    def kind(self) -> str:
        return SORT_KINDS[self.column.key]

    def order(self) -> list:
        """No value (a draft) first when descending, last when ascending: PostgreSQL's own
        default, so one plain index on (column, id) serves both directions."""
        if self.descending:
            return [self.column.desc().nulls_first(), self.id_column.desc()]
        return [self.column.asc().nulls_last(), self.id_column.asc()]

    def after(self, position: Position) -> ColumnElement[bool]:
        """The rows that come after `position` in this order (a row-value comparison: the
        index on (column, id) is read from that point on)."""
        value, row_id = position
        column, ids = self.column, self.id_column
        if value is None:
            if self.descending:
                return or_(and_(column.is_(None), ids < row_id), column.is_not(None))
            return and_(column.is_(None), ids > row_id)
        bound = tuple_(bindparam(None, value, type_=column.type), literal(row_id))
        if self.descending:
            return tuple_(column, ids) < bound
        return or_(tuple_(column, ids) > bound, column.is_(None))


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number, how many rows the list has and where the
    next page begins (`cursor`, the URL's `efter`)."""

    rows: list[Any]
    number: int
    total: int  # rows counted, at most COUNT_CAP
    capped: bool  # more than COUNT_CAP rows match
    more: bool  # a next page exists
    size: int = PAGE_SIZE
    cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.more else None


def paginate(
    rows: Select,
    where: Sequence[ColumnElement[bool]],
    key: Key,
    number: int,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """Page `number` of `rows` in `key`'s order, `size` rows a page, counting the rows that
    meet `where` (at most COUNT_CAP + 1 of them). With `after` (a cursor this function
    made) the page is the rows after that row, so walking "Nästa sida" shows every row once
    even while rows are added; without, the page number's offset (a page past the end is
    the last)."""
    counted = select(key.id_column).where(*where).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(counted)) or 0
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    number = max(number, 1)
    query = rows.add_columns(key.column.label("sort_value"), key.id_column.label("sort_id"))
    query = query.order_by(*key.order()).limit(size + 1)
    position = parse_cursor(after, key.kind) if number > 1 else None
    if position is not None:
        fetched = db.session.execute(query.where(key.after(position))).all()
    else:
        if not capped:
            number = min(number, max(1, math.ceil(total / size)))
        fetched = db.session.execute(query.offset((number - 1) * size)).all()
        if not fetched and number > 1:  # past the end of a capped list: its last page
            return paginate(rows, where, key, number - 1, None, size)
    shown = fetched[:size]
    cursor = format_cursor(shown[-1].sort_value, shown[-1].sort_id) if shown else None
    return Page(list(shown), number, total, capped, len(fetched) > size, size, cursor)


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
    AnswerFeedback.verdict.label("feedback_verdict"),
)


def to_answer_clause(units: set[str]) -> ColumnElement[bool]:
    """A chef's "Att besvara": sent to one of the chef's units and not yet answered."""
    if not units:
        return false()
    return and_(Deviation.state == rules.SKICKAD, Deviation.receiving_unit_id.in_(sorted(units)))


def _condition(visible: Select[Any]) -> ColumnElement[bool]:
    """The WHERE of an access query (`access.visible_*`, each of which has one)."""
    clause = visible.whereclause
    assert clause is not None, "an access query says who may see what"
    return clause


def deviation_conditions(user: User, f: DeviationFilter) -> list[ColumnElement[bool]]:
    """What the user may list (access.visible_deviations, unchanged) and the filters."""
    where: list[ColumnElement[bool]] = [_condition(access.visible_deviations(user))]
    if f.case_number:
        numbers = case_numbers(f.case_number, clock.today().year) or []
        where.append(Deviation.case_number.in_(numbers) if numbers else false())
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


def _deviation_key(sort: str) -> Key:
    name, descending = DEVIATION_SORTS.get(sort, DEVIATION_SORTS[DEFAULT_SORT])
    return Key(getattr(Deviation, name), Deviation.id, descending)


def _deviation_rows(where: Sequence[ColumnElement[bool]]) -> Select:
    return (
        select(*DEVIATION_COLUMNS)
        .join(_REPORTING, _REPORTING.id == Deviation.reporting_unit_id)
        .join(_RECEIVING, _RECEIVING.id == Deviation.receiving_unit_id)
        .outerjoin(BusGroup, BusGroup.id == Deviation.group_id)
        .outerjoin(AnswerFeedback, AnswerFeedback.deviation_id == Deviation.id)
        .where(*where)
    )


@dataclass(frozen=True)
class DeviationList:
    page: Page
    to_answer: list[Any]  # a chef's "Att besvara" (page 1 only), at most PAGE_SIZE
    more_to_answer: bool


def deviation_page(
    user: User, f: DeviationFilter, number: int, after: str | None = None
) -> DeviationList:
    """A page of the deviations the user may list, after the filters; a chef's reports to
    answer come first, in a list of their own (on the first page), soonest deadline first."""
    where = deviation_conditions(user, f)
    units = access.managed_unit_ids(user)
    to_answer: list[Any] = []
    more = False
    if units:
        mine = to_answer_clause(units)
        if number <= 1:
            soonest = _deviation_key("svarsfrist-stigande").order()
            query = _deviation_rows([*where, mine]).order_by(*soonest).limit(PAGE_SIZE + 1)
            found = list(db.session.execute(query).all())
            to_answer, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        where = [*where, ~mine]
    page = paginate(_deviation_rows(where), where, _deviation_key(f.sort), number, after)
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
    query = _deviation_rows(where).order_by(*_deviation_key(sort).order())
    query = query.execution_options(yield_per=CSV_BATCH)
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
        query = query.where(BusGroup.id.in_(access.led_groups(user)))
    return [(r.id, r.name) for r in db.session.execute(query)]


def unit_choices() -> list[tuple[str, str]]:
    """Every unit by name (an inactive one still has cases in the list)."""
    query = select(Unit.id, Unit.name).order_by(Unit.name, Unit.id)
    return [(r.id, r.name) for r in db.session.execute(query)]


# --- SIP meetings and BUS-individ -----------------------------------------------------------


def sip_page(user: User, f: RecordFilter, number: int, after: str | None = None) -> Page:
    """A page of the SIP meetings the user may list (access.visible_sip_meetings)."""
    where: list[ColumnElement[bool]] = [_condition(access.visible_sip_meetings(user))]
    if f.state:
        where.append(SipMeeting.state == f.state)
    if f.unit_id:
        where.append(SipMeeting.initiator_unit_id == f.unit_id)
    low, high = day_bounds(f.date_from, f.date_to)
    if low is not None:
        where.append(SipMeeting.meeting_at >= low)
    if high is not None:
        where.append(SipMeeting.meeting_at < high)
    rows = (
        select(SipMeeting)
        .options(  # the initiating unit in the page's query, the called units in one more
            joinedload(SipMeeting.initiator_unit),
            selectinload(SipMeeting.called).joinedload(SipCalledUnit.unit),
        )
        .where(*where)
    )
    key = Key(SipMeeting.meeting_at, SipMeeting.id, DATE_SORTS.get(f.sort, True))
    page = paginate(rows, where, key, number, after)
    return replace(page, rows=[r[0] for r in page.rows])


def bus_individ_page(user: User, f: RecordFilter, number: int, after: str | None = None) -> Page:
    """A page of the BUS-individ records the user may list (bus_individ.visible_records)."""
    from .bus_individ import visible_records

    where: list[ColumnElement[bool]] = [_condition(visible_records(user))]
    if f.state:
        where.append(BusIndivid.state == f.state)
    if f.unit_id:
        where.append(BusIndivid.raised_by_unit_id == f.unit_id)
    if f.date_from:
        where.append(BusIndivid.meeting_date >= f.date_from)
    if f.date_to:
        where.append(BusIndivid.meeting_date <= f.date_to)
    rows = (
        select(BusIndivid, _REPORTING.name.label("raised_by_name"))
        .join(_REPORTING, _REPORTING.id == BusIndivid.raised_by_unit_id)
        .where(*where)
    )
    key = Key(BusIndivid.meeting_date, BusIndivid.id, DATE_SORTS.get(f.sort, True))
    return paginate(rows, where, key, number, after)


# --- a steering group's meetings ------------------------------------------------------------


def meetings_page(group_id: str, f: RecordFilter, number: int, after: str | None = None) -> Page:
    """A page of the group's meetings, latest first, each with its latest digest's id and
    state (one query for the page, not one per meeting: the latest digest of each meeting
    shown is looked up in the index on digests.meeting_id, never every meeting's digests)."""
    from ..models import Digest

    where: list[ColumnElement[bool]] = [GroupMeeting.group_id == group_id]
    if f.date_from:
        where.append(GroupMeeting.meeting_date >= f.date_from)
    if f.date_to:
        where.append(GroupMeeting.meeting_date <= f.date_to)
    latest = select(Digest).where(Digest.meeting_id == GroupMeeting.id)
    latest = latest.order_by(Digest.id.desc()).limit(1)
    rows = select(
        GroupMeeting,
        latest.with_only_columns(Digest.id).scalar_subquery().label("digest_id"),
        latest.with_only_columns(Digest.state).scalar_subquery().label("digest_state"),
    ).where(*where)
    key = Key(GroupMeeting.meeting_date, GroupMeeting.id, DATE_SORTS.get(f.sort, True))
    return paginate(rows, where, key, number, after)


GROUPS_PER_PAGE = 10


def groups_page(groups: Sequence[BusGroup], group_id: str, number: int) -> Page:
    """The steering group's page for a reader of many groups: GROUPS_PER_PAGE groups a page
    by name, or the one chosen under "BUS-grupp". `groups` are the reader's groups by name
    and id, already loaded for the filter (a reader has tens of groups, not thousands), so
    the page is cut from them without a query; a page past the end is the last."""
    chosen = [g for g in groups if g.id == group_id] if group_id else list(groups)
    size = GROUPS_PER_PAGE
    pages = max(1, math.ceil(len(chosen) / size))
    number = min(max(number, 1), pages)
    shown = chosen[(number - 1) * size : number * size]
    return Page(shown, number, len(chosen), False, number < pages, size)


def page_number(text: str | None) -> int:
    """`?sida=`: a page number; anything else is the first page."""
    text = (text or "1").strip()
    return int(text) if text.isdigit() and len(text) < 7 else 1
