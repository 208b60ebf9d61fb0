"""Reading the audit log: the log follow-up (granskningslogg) a data protection officer needs.

Every reading is itself written to the log, in a transaction of its own: the page
(`read_page`) and the CSV export (`export`) commit their own audit event before the rows are
handed out. Each filter is one indexed condition (migration 0010): a person is matched on the
people in the directory whose name or e-mail address contains the text (a small table) and
then by `actor`/`user_id`; a case number is turned into the ids of the deviation, its
attachments, its e-mails and the digests that hold it; a SIP/BUS-individ record is its
object type and id.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from .. import clock
from ..domain.audit import READS, READS_CHOICE, LogFilter, normal_case_number
from ..extensions import db
from ..models import Attachment, AuditEvent, Deviation, Digest, Measure, OutboxMessage, User
from . import audit

PAGE_SIZE = 50
EXPORT_BATCH = 1000


class LogRow(NamedTuple):
    """One event as the page and the CSV show it (a tuple: an export makes many)."""

    at: datetime
    actor: str
    name: str | None  # the person's name in the directory, when the actor is one
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict
    case_number: str | None  # the deviation the event concerns, if any


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    total: int
    page: int
    pages: int

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def read_page(reader: User, filters: LogFilter, page: int) -> LogPage:
    """The `page`th 50 events that match, newest first (a page past the end is the last);
    the reading is audited and committed."""
    where = _conditions(filters)
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 1), pages)
    query = _rows(where).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    rows = _with_case_numbers(db.session.execute(query).all())
    audit.record(reader, "audit_log.viewed", "audit_log", None, page=page, **filters.as_detail())
    db.session.commit()
    return LogPage(rows, total, page, pages)


def export(reader: User, filters: LogFilter) -> Iterator[LogRow]:
    """Every event that matches, newest first, read a thousand at a time as the caller
    iterates; the export is audited and committed before the first row is read."""
    where = _conditions(filters)
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    audit.record(reader, "audit_log.exported", "audit_log", None, rows=total, **filters.as_detail())
    db.session.commit()
    return _stream(where)


def _stream(where: list[ColumnElement[bool]]) -> Iterator[LogRow]:
    result = db.session.execute(_rows(where).execution_options(yield_per=EXPORT_BATCH))
    for part in result.partitions():
        yield from _with_case_numbers(part)


def actions() -> list[str]:
    """Every event code in the log (for the event filter: codes no label knows yet)."""
    return list(db.session.scalars(select(AuditEvent.action).distinct()))


# --- the query ------------------------------------------------------------------------------


def _rows(where: Sequence[ColumnElement[bool]]) -> Select:
    return (
        select(
            AuditEvent.at,
            AuditEvent.actor,
            User.name,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.detail,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(*where)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def _conditions(filters: LogFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.person.strip():
        where.append(_person(filters.person))
    if filters.case_number.strip():
        where.append(_case(filters.case_number))
    if filters.record_type:
        where.append(AuditEvent.object_type == filters.record_type)
        if filters.record_id is not None:
            where.append(AuditEvent.object_id == str(filters.record_id))
    if filters.action == READS_CHOICE:
        where.append(AuditEvent.action.in_(sorted(READS)))
    elif filters.action:
        where.append(AuditEvent.action == filters.action)
    if filters.start is not None:
        where.append(AuditEvent.at >= _midnight(filters.start))
    if filters.end is not None:
        where.append(AuditEvent.at < _midnight(filters.end + timedelta(days=1)))
    return where


def _person(text: str) -> ColumnElement[bool]:
    """Events by a person in the directory whose name or e-mail address contains the text
    (also under an address they had before), or by exactly that actor (a link's recipient,
    "system"). The people are looked up first, so that the log is searched with two lists
    of values that its indexes answer (a subquery made PostgreSQL read the whole log)."""
    needle = text.strip().lower()
    people = db.session.execute(
        select(User.id, User.email).where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                func.lower(User.email).contains(needle, autoescape=True),
            )
        )
    ).all()
    by_actor = AuditEvent.actor.in_(sorted({needle, *(email for _, email in people)}))
    if not people:
        return by_actor
    return or_(by_actor, AuditEvent.user_id.in_(sorted(user_id for user_id, _ in people)))


def _case(text: str) -> ColumnElement[bool]:
    """Events on the deviation with this case number, its attachments, its e-mails, its
    decided measures and the digests that hold it (the log keeps ids, not case numbers)."""
    number = normal_case_number(text)
    deviation_id = db.session.scalar(select(Deviation.id).where(Deviation.case_number == number))
    if deviation_id is None:
        return false()
    attachments = db.session.scalars(
        select(Attachment.id).where(Attachment.deviation_id == deviation_id)
    )
    messages = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.deviation_id == deviation_id)
    )
    measures = db.session.scalars(select(Measure.id).where(Measure.deviation_id == deviation_id))
    digests = [
        digest_id
        for digest_id, case_ids in db.session.execute(select(Digest.id, Digest.case_ids))
        if deviation_id in (case_ids or [])
    ]
    return or_(
        _objects("deviation", [deviation_id]),
        _objects("attachment", attachments),
        _objects("outbox", messages),
        _objects("measure", measures),
        _objects("digest", digests),
        *(  # a download is logged as "<id>:<file name>"
            and_(AuditEvent.object_type == "digest", AuditEvent.object_id.startswith(f"{d}:"))
            for d in digests
        ),
    )


def _objects(object_type: str, ids: Any) -> ColumnElement[bool]:
    values = sorted({str(i) for i in ids})
    if not values:
        return false()
    return and_(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(values))


def _midnight(day: Any) -> datetime:
    """The start of a local day (the service's time zone) as a moment."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(clock.zone()))


# --- case numbers for the rows shown ---------------------------------------------------------


def _with_case_numbers(rows: Sequence[Any]) -> list[LogRow]:
    """The rows, each with the case number of the deviation it concerns (small queries
    for the rows at hand, not a join on every event)."""
    wanted: dict[str, set[int]] = {"deviation": set(), "attachment": set(), "measure": set()}
    for row in rows:
        if row.object_type in wanted and (row.object_id or "").isdigit():
            wanted[row.object_type].add(int(row.object_id))
    numbers: dict[tuple[str, str], str] = {}
    if wanted["deviation"]:
        query = select(Deviation.id, Deviation.case_number).where(
            Deviation.id.in_(wanted["deviation"])
        )
        numbers |= {("deviation", str(i)): n for i, n in db.session.execute(query) if n}
    if wanted["attachment"]:
        query = (
            select(Attachment.id, Deviation.case_number)
            .join(Deviation, Deviation.id == Attachment.deviation_id)
            .where(Attachment.id.in_(wanted["attachment"]))
        )
        numbers |= {("attachment", str(i)): n for i, n in db.session.execute(query) if n}
    if wanted["measure"]:
        query = (
            select(Measure.id, Deviation.case_number)
            .join(Deviation, Deviation.id == Measure.deviation_id)
            .where(Measure.id.in_(wanted["measure"]))
        )
        numbers |= {("measure", str(i)): n for i, n in db.session.execute(query) if n}
    return [
        LogRow(
            at=row.at,
            actor=row.actor,
            name=row.name,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            detail=row.detail or {},
            case_number=numbers.get((row.object_type or "", row.object_id or "")),
        )
        for row in rows
    ]
