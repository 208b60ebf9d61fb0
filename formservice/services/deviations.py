"""Deviation use cases: draft, send, answer, forward, withdraw (SPEC §3 steps 2–4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from .. import clock, queue
from ..documents.docx import render_deviation
from ..domain import deviation as rules
from ..domain.deadlines import CALENDAR_DAYS, answer_deadline
from ..domain.groups import possible_groups, settle
from ..domain.inputs import AnswerInput, DeviationInput, Upload
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
from . import audit, categories, directory, outbox


@dataclass(frozen=True)
class Outcome:
    deviation: Deviation
    queued: bool
    #: Read before the commit expired the report, so the page after it needs no query.
    deviation_id: int | None = None
    case_number: str | None = None


def save(
    author: User, data: DeviationInput, *, send: bool, draft: Deviation | None = None
) -> Outcome:
    """Store a new report or update a draft, and send it when asked; one transaction.

    A sent report is written once, as sent: five statements besides the commit (what it
    needs to know, the case counter, the report, its audit events, its outbox rows), and the
    form's versions unless the request has read them already (the form page has).
    Raises `GroupNotChosen`, before changing anything, when the units allow several groups
    and `data.group_id` is not one of them."""
    if draft is not None and draft.state != rules.UTKAST:
        raise rules.TransitionError(draft.state, "edit")
    facts = _facts(data.reporting_unit_id, data.receiving_unit_id)
    group_id = _group(facts, data.reporting_unit_id, data.receiving_unit_id, data.group_id)
    deviation = draft or Deviation(state=rules.UTKAST, created_by_id=author.id)
    _apply(deviation, data, group_id)
    deviation.form_version = _form_version(data.categories)
    files = _store_files(data.uploads)  # written before the case counter is taken
    if send:
        _mark_sent(deviation, facts)
    for stored, upload in zip(files, data.uploads, strict=True):
        deviation.attachments.append(Attachment(file=stored, page_count=upload.page_count))
    db.session.add(deviation)
    db.session.flush()
    actions = ["deviation.saved" if draft else "deviation.created"]
    if send:
        actions.append("deviation.sent")
    audit.record_many(author, actions, "deviation", deviation.id)
    return _commit(deviation, _sent_messages(deviation, facts) if send else [])


def send_draft(author: User, deviation: Deviation) -> Outcome:
    """Send a saved draft; its group is checked against today's directory (`GroupNotChosen`
    when the units now allow several groups and the draft's is not one of them)."""
    reporting, receiving = deviation.reporting_unit_id, deviation.receiving_unit_id
    facts = _facts(reporting, receiving)
    group_id = _group(facts, reporting, receiving, deviation.group_id, stored=True)
    deviation.group_id = group_id
    _mark_sent(deviation, facts)
    audit.record(author, "deviation.sent", "deviation", deviation.id)
    return _commit(deviation, _sent_messages(deviation, facts))


@dataclass
class _Facts:
    """What saving and sending a report needs from the directory (`_facts`)."""

    names: dict[str, str] = field(default_factory=dict)  # unit id -> name
    groups: dict[str, set[str]] = field(default_factory=dict)  # unit id -> its active groups
    answer_days: dict[str, int | None] = field(default_factory=dict)  # group -> its own limit
    day_kinds: dict[str, str] = field(default_factory=dict)  # group -> "Svarstid räknas i"
    secretaries: dict[str, str] = field(default_factory=dict)  # group -> active secretary
    managers: list[str] = field(default_factory=list)  # receiving unit: chef, then deputies
    secretariat: list[str] = field(default_factory=list)  # the BUS-sekretariat's mailboxes


def _facts(reporting_unit_id: str, receiving_unit_id: str) -> _Facts:
    """The two units with their groups (limits, secretaries) and the addresses a sent report
    goes to, in one query: the receiving unit's chef and deputies (`Unit.managers`), the
    BUS-sekretariat (`directory.secretariat`) and every candidate group's secretary."""
    rows = db.session.execute(
        _facts_query(), {"reporting": reporting_unit_id, "receiving": receiving_unit_id}
    )
    facts = _Facts()
    for role, unit_id, name, group_id, answer_days, day_kind, email, _ in rows:
        if role == "unit":
            facts.names[unit_id] = name
            facts.groups.setdefault(unit_id, set())
            if group_id is not None:
                facts.groups[unit_id].add(group_id)
                facts.answer_days[group_id] = answer_days
                facts.day_kinds[group_id] = day_kind
                if email is not None:
                    facts.secretaries[group_id] = email
        elif role == "manager":
            facts.managers.append(email)
        else:
            facts.secretariat.append(email)
    return facts


@cache
def _facts_query() -> CompoundSelect[*tuple[Any, ...]]:
    """Built once: every sent report runs it."""
    secretary = aliased(User)
    units = (
        select(
            literal("unit").label("role"),
            Unit.id,
            Unit.name,
            BusGroup.id,
            BusGroup.answer_days,
            BusGroup.answer_day_kind,
            secretary.email,
            literal(0).label("n"),
        )
        .outerjoin(unit_groups, unit_groups.c.unit_id == Unit.id)
        .outerjoin(BusGroup, and_(BusGroup.id == unit_groups.c.group_id, BusGroup.active))
        .outerjoin(secretary, and_(secretary.id == BusGroup.secretary_id, secretary.active))
        .where(Unit.id.in_([bindparam("reporting"), bindparam("receiving")]))
    )

    def people(
        role: str, order: int, *criteria: SQLColumnExpression[bool]
    ) -> Select[*tuple[Any, ...]]:
        nothing = (null(), null(), null(), null(), null())
        columns = (literal(role), *nothing, User.email, literal(order))
        return select(*columns).select_from(User).where(User.active, *criteria)

    receiving: BindParameter[str] = bindparam("receiving")
    active = select(Unit.id).where(Unit.id == receiving, Unit.active)  # else no managers
    chef = select(Unit.chef_id).where(Unit.id == receiving, Unit.active).scalar_subquery()
    deputies = select(unit_deputies.c.user_id).where(unit_deputies.c.unit_id.in_(active))
    return union_all(
        units,
        people("manager", 1, User.id == chef),
        people("manager", 2, User.id.in_(deputies)),
        people("secretariat", 3, User.is_secretariat),
    ).order_by("n")


def _apply(deviation: Deviation, data: DeviationInput, group_id: str | None) -> None:
    """Copy the input and the report's group onto the report."""
    for name in (
        "reporting_unit_id",
        "receiving_unit_id",
        "event_date",
        "categories",
        "description",
        "actions_taken",
        "bus_individ",
        "proposal",
        "child_gender",
        "age_group",
        "sip_id",
        "bus_individ_id",
    ):
        setattr(deviation, name, getattr(data, name))
    deviation.bus_individ_date = data.bus_individ_date if data.bus_individ else None
    deviation.group_id = group_id


def _group(
    facts: _Facts, reporting: str, receiving: str, choice: str | None, *, stored: bool = False
) -> str | None:
    """The report's local BUS group from both units' groups and the choice (`domain.groups`).
    A `stored` group (a draft's) that the units no longer allow counts as no choice."""
    own, other = facts.groups.get(reporting, set()), facts.groups.get(receiving, set())
    if stored and choice not in possible_groups(own, other):
        choice = None
    return settle(own, other, choice)


def _form_version(codes: list[str]) -> int:
    """The version of the form the author filled in (the current one): the report's
    categories are codes on it."""
    version = categories.current_version()
    unknown = sorted(set(codes) - set(categories.labels(version)))
    if unknown:
        raise ValueError(f"not categories of form version {version}: {', '.join(unknown)}")
    return version


def _store_files(uploads: list[Upload]) -> list[StoredFile]:
    """The uploads' bytes as stored files, written now (the report's rows follow)."""
    files = [
        StoredFile(
            name=upload.name,
            content_type=upload.content_type,
            size=len(upload.data),
            sha256=upload.sha256,
            data=upload.data,
        )
        for upload in uploads
    ]
    if files:
        db.session.add_all(files)
        db.session.flush()
    return files


def _mark_sent(deviation: Deviation, facts: _Facts) -> None:
    """utkast → skickad: sent now, the deadline (the group's limit or the setting) and, last,
    the case number. The counter's row stays locked until the commit, so every other report
    being sent waits for it; the rest of the transaction is a few inserts. Nothing is written
    before the report's own flush."""
    with db.session.no_autoflush:
        deviation.state = rules.next_state(deviation.state, "send")
        moment = clock.now()
        today = clock.local_date(moment)
        group = deviation.group_id or ""
        days = facts.answer_days.get(group) or current_app.config["FORMSERVICE_ANSWER_DAYS"]
        deviation.sent_at = moment
        deviation.deadline = answer_deadline(today, days, facts.day_kinds.get(group, CALENDAR_DAYS))
        deviation.case_number = _next_case_number(today.year)


def _sent_messages(deviation: Deviation, facts: _Facts) -> list[dict]:
    """The messages of a sent report: B (with a link), the secretariat, the secretary."""
    about = summary(deviation, facts.names)
    respond = {**about, "link_version": deviation.link_version, "respond": True}
    secretary = facts.secretaries.get(deviation.group_id or "")
    return [
        *outbox.rows("new_report", facts.managers, deviation.id, **respond),
        *outbox.rows("copy_secretariat", facts.secretariat, deviation.id, **about),
        *outbox.rows("copy_secretary", [secretary] if secretary else [], deviation.id, **about),
    ]


def _notify_receiver(deviation: Deviation, kind: str) -> list[dict]:
    managers = db.session.get_one(Unit, deviation.receiving_unit_id).managers()
    context = {**summary(deviation), "link_version": deviation.link_version, "respond": True}
    return outbox.rows(kind, managers, deviation.id, **context)


def summary(deviation: Deviation, names: dict[str, str] | None = None) -> dict:
    """What an e-mail may say: case number, unit names, deadline. Nothing else."""
    names = names or {}

    def name(unit_id: str) -> str:
        return names[unit_id] if unit_id in names else db.session.get_one(Unit, unit_id).name

    return {
        "case_number": deviation.case_number,
        "reporting_unit": name(deviation.reporting_unit_id),
        "receiving_unit": name(deviation.receiving_unit_id),
        "deadline": deviation.deadline.isoformat() if deviation.deadline else None,
    }


def answer_time(group_id: str | None) -> tuple[int, str]:
    """The group's answer time: its days (its own limit or FORMSERVICE_ANSWER_DAYS) and how
    they are counted ("Svarstid räknas i")."""
    group = db.session.get(BusGroup, group_id) if group_id else None
    days = current_app.config["FORMSERVICE_ANSWER_DAYS"]
    if group is None:
        return days, CALENDAR_DAYS
    return group.answer_days or days, group.answer_day_kind or CALENDAR_DAYS


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


def _commit(deviation: Deviation, messages: list[dict]) -> Outcome:
    db.session.flush()
    ids = outbox.write(messages)
    # Read before the commit expires them: afterwards each would cost a query.
    deviation_id, case_number = deviation.id, deviation.case_number
    db.session.commit()
    queued = queue.enqueue_deliveries(ids)
    return Outcome(deviation, queued, deviation_id, case_number)


#: Everything the report's DOCX reads (`documents.docx.deviation_context`), loaded with it.
DOCUMENT_LOADS = (
    selectinload(Deviation.reporting_unit),
    selectinload(Deviation.receiving_unit),
    selectinload(Deviation.answer),
    selectinload(Deviation.feedback),
    selectinload(Deviation.supplement),
    selectinload(Deviation.forwardings),
    selectinload(Deviation.attachments).selectinload(Attachment.file),
)


def document(deviation: Deviation) -> bytes:
    """The report as DOCX, rendered from its current state. It is made in the request, not by
    the worker: one report, no LibreOffice, nothing stored (docs/architecture.md)."""
    query = select(Deviation).where(Deviation.id == deviation.id).options(*DOCUMENT_LOADS)
    loaded = db.session.scalars(query.execution_options(populate_existing=True)).one()
    moves = [(f.from_unit_id, f.to_unit_id) for f in loaded.forwardings]
    names = directory.unit_names(unit_id for move in moves for unit_id in move)
    return render_deviation(
        loaded,
        categories=categories.labels_for(loaded),
        tz=clock.zone(),
        unit_name=lambda unit_id: names.get(unit_id, unit_id),
    )


class StaleVersion(Exception):
    """The report was answered, forwarded or withdrawn after the caller checked its link
    version (a concurrent request won); nothing was changed."""

    def __init__(self, deviation_id: int) -> None:
        super().__init__(f"deviation {deviation_id} changed since its link version was checked")
        self.deviation_id = deviation_id


class ForwardRefused(ValueError):
    """A report can be forwarded only to a unit other than the reporting and receiving ones."""


def answer(
    deviation: Deviation,
    responder: User | str,
    data: AnswerInput,
    *,
    expected_version: int | None = None,
) -> Outcome:
    """skickad → besvarad; tell chef A, the convener and the secretariat.

    `expected_version`: the link version the caller checked the responder against; when the
    locked row has another (a forward committed in between), StaleVersion."""
    _lock(deviation, expected_version)
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
    deviation.answered_at = clock.now()
    deviation.link_version += 1
    audit.record(responder, "deviation.answered", "deviation", deviation.id)
    about = summary(deviation)
    reporters = db.session.get_one(Unit, deviation.reporting_unit_id).managers()  # not who left
    convener = directory.group_people(deviation.group_id, "convener")
    messages = [
        *outbox.rows("answered", reporters, deviation.id, **about),
        *outbox.rows("answered_copy", convener, deviation.id, **about),
        *outbox.rows("answered_copy", directory.secretariat(), deviation.id, **about),
    ]
    return _commit(deviation, messages)


def forward(
    deviation: Deviation,
    by: User | str,
    to_unit: Unit,
    reason: str,
    *,
    expected_version: int | None = None,
) -> Outcome:
    """Chef B names the right unit: new recipient, new link, the deadline restarts.
    `expected_version` as for `answer`."""
    _lock(deviation, expected_version)
    if to_unit.id in (deviation.reporting_unit_id, deviation.receiving_unit_id):
        db.session.rollback()
        raise ForwardRefused(f"deviation {deviation.id} cannot be forwarded to {to_unit.id}")
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
    deviation.deadline = answer_deadline(clock.today(), *answer_time(deviation.group_id))
    deviation.reminded_before_at = deviation.reminded_due_at = deviation.escalated_at = None
    db.session.flush()
    db.session.expire(deviation, ["receiving_unit"])
    audit.record(by, "deviation.forwarded", "deviation", deviation.id, to_unit=to_unit.id)
    reporters = db.session.get_one(Unit, deviation.reporting_unit_id).managers()
    messages = [
        *_notify_receiver(deviation, "new_report"),
        *outbox.rows("forwarded", reporters, deviation.id, **summary(deviation)),
    ]
    return _commit(deviation, messages)


def withdraw(deviation: Deviation, by: User) -> Outcome:
    """Chef A takes the report back before it is answered."""
    _lock(deviation)
    was_sent = deviation.state == rules.SKICKAD
    deviation.state = rules.next_state(deviation.state, "withdraw")
    deviation.withdrawn_at = clock.now()
    deviation.link_version += 1
    audit.record(by, "deviation.withdrawn", "deviation", deviation.id)
    messages = []
    if was_sent:
        managers = db.session.get_one(Unit, deviation.receiving_unit_id).managers()
        messages = outbox.rows("withdrawn", managers, deviation.id, **summary(deviation))
    return _commit(deviation, messages)


def _lock(deviation: Deviation, expected_version: int | None = None) -> None:
    """Reload the row under a write lock so two answers cannot both win; with
    `expected_version`, refuse (StaleVersion) if the link version moved on meanwhile."""
    db.session.refresh(deviation, with_for_update=True)
    if expected_version is not None and deviation.link_version != expected_version:
        db.session.rollback()  # releases the lock; nothing was written
        raise StaleVersion(deviation.id)
