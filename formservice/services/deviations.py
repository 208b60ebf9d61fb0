"""Deviation use cases: draft, send, answer, forward, withdraw (SPEC §3 steps 2–4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import literal, select, union_all, update
from sqlalchemy.exc import IntegrityError

from .. import queue
from ..domain import deviation as rules
from ..domain.deadlines import answer_deadline, local_date
from ..extensions import db
from ..models import (
    Attachment,
    BusGroup,
    CaseCounter,
    Deviation,
    DeviationAnswer,
    Forwarding,
    StoredFile,
    Unit,
    User,
)
from ..models.directory import unit_deputies, unit_groups
from . import audit, outbox


@dataclass
class Upload:
    """An inspected upload ready to store."""

    name: str
    content_type: str
    sha256: str
    data: bytes
    page_count: int | None = None


@dataclass
class DeviationInput:
    reporting_unit_id: str
    receiving_unit_id: str
    event_date: date
    categories: list[str]
    description: str
    actions_taken: str
    bus_individ: bool
    bus_individ_date: date | None
    proposal: str
    child_gender: str
    age_group: str | None
    uploads: list[Upload] = field(default_factory=list)
    sip_id: int | None = None
    bus_individ_id: int | None = None


@dataclass
class AnswerInput:
    responder_name: str
    assessment: str
    actions_taken: str
    planned_measures: list[dict]
    agrees: str
    raise_regional: bool | None


@dataclass(frozen=True)
class Outcome:
    deviation: Deviation
    queued: bool
    #: Read before the commit expired the report, so the page after it needs no query.
    deviation_id: int | None = None
    case_number: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def save(author: User, data: DeviationInput, *, send: bool, draft: Deviation | None = None):
    """Store a new report or update a draft, and send it when asked; one transaction."""
    deviation = draft or Deviation(state=rules.UTKAST, created_by_id=author.id)
    if deviation.state != rules.UTKAST:
        raise rules.TransitionError(deviation.state, "edit")
    names = _apply(deviation, data)
    db.session.add(deviation)
    db.session.flush()
    _store_uploads(deviation, data.uploads)
    audit.record(
        author, "deviation.saved" if draft else "deviation.created", "deviation", deviation.id
    )
    messages = _send(author, deviation, names) if send else []
    return _commit(deviation, messages)


def send_draft(author: User, deviation: Deviation) -> Outcome:
    messages = _send(author, deviation)
    return _commit(deviation, messages)


def _units_and_groups(*unit_ids: str) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The units' names and the BUS groups each belongs to, in one query of three columns."""
    query = (
        select(Unit.id, Unit.name, unit_groups.c.group_id)
        .outerjoin(unit_groups, unit_groups.c.unit_id == Unit.id)
        .where(Unit.id.in_(set(unit_ids)))
    )
    names: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    for unit_id, name, group_id in db.session.execute(query):
        names[unit_id] = name
        groups.setdefault(unit_id, set())
        if group_id is not None:
            groups[unit_id].add(group_id)
    return names, groups


def _apply(deviation: Deviation, data: DeviationInput) -> dict[str, str]:
    """Copy the input onto the report and choose its group; the units' names, for _send."""
    for name in (
        "reporting_unit_id",
        "receiving_unit_id",
        "event_date",
        "categories",
        "description",
        "actions_taken",
        "bus_individ",
        "bus_individ_date",
        "proposal",
        "child_gender",
        "age_group",
        "sip_id",
        "bus_individ_id",
    ):
        setattr(deviation, name, getattr(data, name))
    deviation.bus_individ_date = data.bus_individ_date if data.bus_individ else None
    names, groups = _units_and_groups(data.reporting_unit_id, data.receiving_unit_id)
    deviation.group_id = _group_of(groups[data.reporting_unit_id], groups[data.receiving_unit_id])
    return names


def group_for(reporting: Unit, receiving: Unit) -> str | None:
    """The local BUS group of the report: one both units share, else the reporter's."""
    return _group_of({g.id for g in reporting.groups}, {g.id for g in receiving.groups})


def _group_of(reporting: set[str], receiving: set[str]) -> str | None:
    shared = sorted(reporting & receiving)
    if shared:
        return shared[0]
    own = sorted(reporting) or sorted(receiving)
    return own[0] if own else None


def _store_uploads(deviation: Deviation, uploads: list[Upload]) -> None:
    for upload in uploads:
        stored = StoredFile(
            name=upload.name,
            content_type=upload.content_type,
            size=len(upload.data),
            sha256=upload.sha256,
            data=upload.data,
        )
        db.session.add(stored)
        db.session.flush()
        db.session.add(
            Attachment(deviation_id=deviation.id, file_id=stored.id, page_count=upload.page_count)
        )


def _send(author: User, deviation: Deviation, names: dict[str, str] | None = None) -> list:
    """utkast → skickad: case number, deadline, messages to B, secretariat and secretary.

    Four queries besides the writes: unit names (unless `names` has them), the group, every
    recipient's address at once (`_send_recipients`), and last the case counter. Its row
    stays locked until the commit, so every other report being sent waits for it: bumping
    it last keeps that wait short. The changes reach the database together at the commit:
    with autoflush, every query in between would write the report once more."""
    with db.session.no_autoflush:
        if names is None:
            names = _units_and_groups(deviation.reporting_unit_id, deviation.receiving_unit_id)[0]
        group = None
        if deviation.group_id:
            query = select(BusGroup.answer_days, BusGroup.secretary_id)
            group = db.session.execute(query.where(BusGroup.id == deviation.group_id)).first()
        days = (group and group.answer_days) or current_app.config["FORMSERVICE_ANSWER_DAYS"]
        deviation.state = rules.next_state(deviation.state, "send")
        moment = _now()
        deviation.sent_at = moment
        deviation.deadline = answer_deadline(local_date(moment, _tz()), days)
        audit.record(author, "deviation.sent", "deviation", deviation.id)
        to = _send_recipients(deviation.receiving_unit_id, group.secretary_id if group else None)
        deviation.case_number = _next_case_number(local_date(moment, _tz()).year)
        summary = _summary(deviation, names)
        respond = {**summary, "link_version": deviation.link_version, "respond": True}
        return [
            *outbox.add_unique("new_report", to["managers"], deviation.id, **respond),
            *outbox.add_unique("copy_secretariat", to["secretariat"], deviation.id, **summary),
            *outbox.add_unique("copy_secretary", to["secretary"], deviation.id, **summary),
        ]


def _send_recipients(unit_id: str, secretary_id: int | None) -> dict[str, list[str]]:
    """The active people a sent report goes to, by address, in one query: the receiving
    unit's chef and deputies (`Unit.managers`), the BUS-sekretariat (`_secretariat`) and the
    group's secretary (`_group_people`)."""

    def role(name: str, order: int, query):
        return query.add_columns(literal(name).label("role"), literal(order).label("n")).where(
            User.active
        )

    chef = select(User.email).join(Unit, Unit.chef_id == User.id).where(Unit.id == unit_id)
    deputies = (
        select(User.email)
        .join(unit_deputies, unit_deputies.c.user_id == User.id)
        .where(unit_deputies.c.unit_id == unit_id)
    )
    parts = [
        role("managers", 0, chef),
        role("managers", 1, deputies),
        role("secretariat", 2, select(User.email).where(User.is_secretariat)),
    ]
    if secretary_id is not None:
        parts.append(role("secretary", 3, select(User.email).where(User.id == secretary_id)))
    query = union_all(*parts).order_by("n")
    found: dict[str, list[str]] = {"managers": [], "secretariat": [], "secretary": []}
    for email, name, _ in db.session.execute(query):
        found[name].append(email)
    return found


def _notify_receiver(deviation: Deviation, kind: str) -> list:
    managers = db.session.get(Unit, deviation.receiving_unit_id).managers()
    context = {**_summary(deviation), "link_version": deviation.link_version, "respond": True}
    return outbox.add_unique(kind, managers, deviation.id, **context)


def _summary(deviation: Deviation, names: dict[str, str] | None = None) -> dict:
    """What an e-mail may say: case number, unit names, deadline. Nothing else."""
    names = names or {}

    def name(unit_id: str) -> str:
        return names[unit_id] if unit_id in names else db.session.get(Unit, unit_id).name

    return {
        "case_number": deviation.case_number,
        "reporting_unit": name(deviation.reporting_unit_id),
        "receiving_unit": name(deviation.receiving_unit_id),
        "deadline": deviation.deadline.isoformat() if deviation.deadline else None,
    }


def _secretariat() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_secretariat, User.active)))


def _group_people(deviation: Deviation, role: str) -> list[User]:
    group = db.session.get(BusGroup, deviation.group_id) if deviation.group_id else None
    person = getattr(group, role) if group else None
    return [person] if person is not None and person.active else []


def _answer_days(deviation: Deviation) -> int:
    group = db.session.get(BusGroup, deviation.group_id) if deviation.group_id else None
    if group is not None and group.answer_days:
        return group.answer_days
    return current_app.config["FORMSERVICE_ANSWER_DAYS"]


def _tz() -> str:
    return current_app.config["FORMSERVICE_TIMEZONE"]


def _next_case_number(year: int) -> str:
    """Bump the year's counter inside this transaction: a rollback returns the number."""
    counters = CaseCounter.__table__
    bump = (
        update(counters)
        .where(counters.c.year == year)
        .values(last=counters.c.last + 1)
        .returning(counters.c.last)
    )
    last = db.session.execute(bump).scalar()
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(year=year, last=0))
        except IntegrityError:
            pass  # another transaction created the year's row first
        last = db.session.execute(bump).scalar_one()
    return rules.format_case_number(year, last)


def _commit(deviation: Deviation, messages: list) -> Outcome:
    db.session.flush()
    # Read before the commit expires them: afterwards each would cost a query.
    ids = [m.id for m in messages]
    deviation_id, case_number = deviation.id, deviation.case_number
    db.session.commit()
    queued = queue.enqueue_deliveries(ids)
    return Outcome(deviation, queued, deviation_id, case_number)


def answer(deviation: Deviation, responder: User | str, data: AnswerInput) -> Outcome:
    """skickad → besvarad; tell chef A, the convener and the secretariat."""
    _lock(deviation)
    deviation.state = rules.next_state(deviation.state, "answer")
    email = responder.email if isinstance(responder, User) else responder
    db.session.add(
        DeviationAnswer(
            deviation_id=deviation.id,
            responder_email=email,
            responder_name=data.responder_name,
            assessment=data.assessment,
            actions_taken=data.actions_taken,
            planned_measures=data.planned_measures,
            agrees=data.agrees,
            raise_regional=data.raise_regional,
        )
    )
    deviation.answered_at = _now()
    deviation.link_version += 1
    audit.record(responder, "deviation.answered", "deviation", deviation.id)
    summary = _summary(deviation)
    reporters = db.session.get(Unit, deviation.reporting_unit_id).managers()
    author = db.session.get(User, deviation.created_by_id)
    messages = [
        *outbox.add_unique("answered", [*reporters, author], deviation.id, **summary),
        *outbox.add_unique(
            "answered_copy", _group_people(deviation, "convener"), deviation.id, **summary
        ),
        *outbox.add_unique("answered_copy", _secretariat(), deviation.id, **summary),
    ]
    return _commit(deviation, messages)


def forward(deviation: Deviation, by: User | str, to_unit: Unit, reason: str) -> Outcome:
    """Chef B names the right unit: new recipient, new link, the deadline restarts."""
    _lock(deviation)
    deviation.state = rules.next_state(deviation.state, "forward")
    email = by.email if isinstance(by, User) else by
    db.session.add(
        Forwarding(
            deviation_id=deviation.id,
            from_unit_id=deviation.receiving_unit_id,
            to_unit_id=to_unit.id,
            reason=reason,
            by_email=email,
        )
    )
    deviation.receiving_unit_id = to_unit.id
    deviation.link_version += 1
    deviation.deadline = answer_deadline(local_date(_now(), _tz()), _answer_days(deviation))
    deviation.reminded_before_at = deviation.reminded_due_at = deviation.escalated_at = None
    db.session.flush()
    db.session.expire(deviation, ["receiving_unit"])
    audit.record(by, "deviation.forwarded", "deviation", deviation.id, to_unit=to_unit.id)
    reporters = db.session.get(Unit, deviation.reporting_unit_id).managers()
    messages = [
        *_notify_receiver(deviation, "new_report"),
        *outbox.add_unique("forwarded", reporters, deviation.id, **_summary(deviation)),
    ]
    return _commit(deviation, messages)


def withdraw(deviation: Deviation, by: User) -> Outcome:
    """Chef A takes the report back before it is answered."""
    _lock(deviation)
    was_sent = deviation.state == rules.SKICKAD
    deviation.state = rules.next_state(deviation.state, "withdraw")
    deviation.withdrawn_at = _now()
    deviation.link_version += 1
    audit.record(by, "deviation.withdrawn", "deviation", deviation.id)
    messages = []
    if was_sent:
        managers = db.session.get(Unit, deviation.receiving_unit_id).managers()
        messages = outbox.add_unique("withdrawn", managers, deviation.id, **_summary(deviation))
    return _commit(deviation, messages)


def _lock(deviation: Deviation) -> None:
    """Reload the row under a write lock so two answers cannot both win."""
    db.session.refresh(deviation, with_for_update=True)
