"""BUS-individ use cases: record the minutes, notify, build the documents (SPEC §5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import ColumnElement, Select, String, cast, or_, select

from .. import access, clock, queue
from ..domain import sip as sip_rules
from ..domain.inputs import BusIndividInput
from ..domain.sip import MEETING_TYPES
from ..extensions import db
from ..models import BusGroup, BusIndivid, SipMeeting, Unit, User
from . import audit, calendar, directory, outbox, record_documents

GENOMFORD = "genomford"
MESSAGE_KIND = "bus_individ_minutes"


@dataclass(frozen=True)
class Outcome:
    record: BusIndivid
    queued: bool


@dataclass(frozen=True)
class GroupRoles:
    """The local BUS group of a unit and who convenes and chairs BUS-individ there."""

    group: BusGroup | None
    convener: Unit | None
    chair: Unit | None


def roles_for(unit_id: str, choice: str | None = None) -> GroupRoles:
    """The group of a record the unit raises (`choice` among the unit's groups, see
    `directory.group_of`, which raises `GroupNotChosen`) with its convener and chair units."""
    group_id = directory.group_of(unit_id, choice)
    return _roles(db.session.get(BusGroup, group_id) if group_id else None)


def roles_by_group(unit_id: str) -> list[GroupRoles]:
    """The roles in each of the unit's groups, by group name, for the form to show."""
    unit = db.session.get_one(Unit, unit_id)
    groups = sorted((g for g in unit.groups if g.active), key=lambda g: (g.name, g.id))
    return [_roles(group) for group in groups] or [_roles(None)]


def _roles(group: BusGroup | None) -> GroupRoles:
    if group is None:
        return GroupRoles(None, None, None)
    return GroupRoles(
        group,
        _unit(group.bus_individ_convener_unit_id),
        _unit(group.bus_individ_chair_unit_id),
    )


def _unit(unit_id: str | None) -> Unit | None:
    unit = db.session.get(Unit, unit_id) if unit_id else None
    return unit if unit is not None and unit.active else None  # a removed unit has no role


def record_minutes(author: User, data: BusIndividInput) -> Outcome:
    """Store a held meeting with its minutes, audit and notify in one transaction.
    Raises `GroupNotChosen`, before storing anything, when the raising unit is in several
    groups and `data.group_id` is not one of them."""
    values = asdict(data)
    roles = roles_for(data.raised_by_unit_id, values.pop("group_id"))
    record = BusIndivid(
        state=GENOMFORD,
        group_id=roles.group.id if roles.group else None,
        created_by_id=author.id,
        convener_unit_id=roles.convener.id if roles.convener else None,
        chair_unit_id=roles.chair.id if roles.chair else None,
        held_at=clock.now(),
        **values,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(author, "bus_individ.created", "bus_individ", record.id)
    about = summary(record)
    follow_up = calendar.follow_up_event(record)
    if follow_up is not None:  # the follow-up meeting's day, for the calendar
        about["calendar"] = follow_up
    ids = outbox.write(outbox.rows(MESSAGE_KIND, recipients(record), None, **about))
    db.session.commit()
    queued = queue.enqueue_deliveries(ids)
    queued = queue.enqueue_documents("bus_individ", record.id) and queued
    return Outcome(record, queued)


def involved_unit_ids(record: BusIndivid) -> list[str]:
    """Participating units, then the convener and the chair, without repeats."""
    ids = [*record.participants, record.convener_unit_id, record.chair_unit_id]
    return list(dict.fromkeys(i for i in ids if i))


def recipients(record: BusIndivid) -> list[User]:
    """The chefs and deputies of the participating, convening and chairing units."""
    people: list[User] = []
    for unit_id in involved_unit_ids(record):
        unit = db.session.get(Unit, unit_id)
        people.extend(unit.managers() if unit else [])
    return people


def summary(record: BusIndivid) -> dict:
    """What an e-mail may say: the date, the unit names and the record id for the link."""
    names = [db.session.get_one(Unit, i).name for i in involved_unit_ids(record)]
    return {
        "bus_individ_id": record.id,
        "meeting_date": record.meeting_date.isoformat(),
        "raised_by_unit": db.session.get_one(Unit, record.raised_by_unit_id).name,
        "units": names,
    }


def visible_records(user: User) -> Select[BusIndivid]:
    """A select() of the records the user may list (same rule as access.can_view_bus_individ)."""
    units = sorted(access.managed_unit_ids(user))
    clauses: list[ColumnElement[bool]] = [
        BusIndivid.raised_by_unit_id.in_(units),
        BusIndivid.convener_unit_id.in_(units),
        BusIndivid.chair_unit_id.in_(units),
    ]
    participants = cast(BusIndivid.participants, String)
    clauses += [participants.contains(f'"{unit_id}"', autoescape=True) for unit_id in units]
    return select(BusIndivid).where(or_(*clauses))


def preceding_sip_meetings(user: User) -> list[SipMeeting]:
    """SIP meetings the user may see that have been sent or held, newest first."""
    query = access.visible_sip_meetings(user).where(
        SipMeeting.state.in_([sip_rules.SKICKAD, sip_rules.GENOMFORD])
    )
    return list(db.session.scalars(query.order_by(SipMeeting.meeting_at.desc())))


def retry_documents(author: User, record: BusIndivid) -> bool:
    """Clear a failed build of the minutes' documents and queue it again."""
    return record_documents.retry(author, "bus_individ", record)


def sip_label(meeting: SipMeeting, *, identity: bool) -> str:
    """How a preceding SIP meeting is named in a choice list and on the record: with the
    initiating unit and the child's name only when `identity` (the reader may see the SIP
    meeting, access.can_view_sip), else by its date and type alone."""
    kind = MEETING_TYPES.get(meeting.meeting_type, meeting.meeting_type)
    parts = [clock.local_date(meeting.meeting_at).isoformat(), kind]
    if identity:
        parts.append(meeting.initiator_unit.name)
        if meeting.child_name:
            parts.append(meeting.child_name)
    return " – ".join(parts)
