"""Steering-group meetings: planning, the cases a meeting covers, the agenda (SPEC §6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, and_, func, or_, select
from sqlalchemy.sql.base import ExecutableOption

from .. import clock, queue
from ..domain import deviation as rules
from ..domain.calendar import next_sequence
from ..domain.deadlines import is_overdue
from ..domain.meetings import MEETINGS_PER_HALF, half_of, suggest_dates
from ..extensions import db
from ..models import BusGroup, Deviation, DeviationClosing, GroupMeeting, User
from . import audit, calendar, directory, outbox

OPEN_STATES = (rules.SKICKAD, rules.BESVARAD, rules.BEHANDLAD)
STATE_ORDER = {state: n for n, state in enumerate((*OPEN_STATES, rules.AVSLUTAD))}


@dataclass(frozen=True)
class GroupMeetings:
    """A group's meetings split around today, with the next dates the rhythm suggests."""

    upcoming: list[GroupMeeting]
    past: list[GroupMeeting]  # the latest PAST_SHOWN, latest first
    suggestions: list[date]
    more_past: bool = False  # more held meetings than `past` shows


def day_start(day: date) -> datetime:
    """Local midnight at the start of `day`, in UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(clock.zone())).astimezone(UTC)


class MeetingExists(ValueError):
    """The group already has a meeting on that date; nothing was stored."""


def plan(
    actor: User, group_id: str, meeting_date: date, place: str, start_time: time | None = None
) -> GroupMeeting:
    """A new meeting of the group; one transaction with its audit event and a notice with
    the calendar event to the group's convener and secretary. Raises `MeetingExists` when the
    group already meets that day."""
    if has_meeting_on(group_id, meeting_date):
        raise MeetingExists(f"group {group_id} already meets on {meeting_date.isoformat()}")
    meeting = GroupMeeting(
        group_id=group_id,
        meeting_date=meeting_date,
        start_time=start_time,
        place=place,
        created_by_id=actor.id,
        calendar_sequence=0,
    )
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "meeting.planned", "meeting", meeting.id, group=group_id)
    _notify(meeting, "meeting_notice")
    return meeting


class NotChangeable(ValueError):
    """A withdrawn meeting, or one already held, is not changed or withdrawn."""


def can_change(meeting: GroupMeeting, on: date | None = None) -> bool:
    """Date, time and place can be changed, and the meeting withdrawn, until its day has
    passed, unless it is already withdrawn."""
    return meeting.cancelled_at is None and meeting.meeting_date >= (on or clock.today())


def change(
    actor: User, meeting: GroupMeeting, meeting_date: date, start_time: time | None, place: str
) -> bool:
    """ "Ändra mötet": new date, start time or place. When any of them changed, the calendar
    event's SEQUENCE rises and the convener and secretary get the new time; one transaction.
    Whether anything changed. Raises `MeetingExists` for a day the group already meets."""
    db.session.refresh(meeting, with_for_update=True)
    if not can_change(meeting):
        db.session.rollback()
        raise NotChangeable(f"meeting {meeting.id} cannot be changed")
    if meeting_date != meeting.meeting_date and has_meeting_on(meeting.group_id, meeting_date):
        db.session.rollback()
        raise MeetingExists(f"group {meeting.group_id} already meets on {meeting_date}")
    before = (meeting.meeting_date, meeting.start_time, meeting.place)
    after = (meeting_date, start_time, place)
    if before == after:
        db.session.rollback()
        return False
    meeting.meeting_date, meeting.start_time, meeting.place = after
    meeting.calendar_sequence = next_sequence(meeting.calendar_sequence, before, after)
    fields = [name for name, old, new in zip(_WHAT, before, after, strict=True) if old != new]
    audit.record(actor, "meeting.changed", "meeting", meeting.id, fields=fields)
    _notify(meeting, "meeting_changed")
    return True


def cancel(actor: User, meeting: GroupMeeting) -> None:
    """ "Ställ in mötet": the meeting is withdrawn (kept, marked), its calendar event
    cancelled (METHOD:CANCEL, SEQUENCE raised) in a notice; one transaction."""
    db.session.refresh(meeting, with_for_update=True)
    if not can_change(meeting):
        db.session.rollback()
        raise NotChangeable(f"meeting {meeting.id} cannot be withdrawn")
    meeting.cancelled_at = clock.now()
    meeting.calendar_sequence += 1
    audit.record(actor, "meeting.cancelled", "meeting", meeting.id)
    _notify(meeting, "meeting_cancelled")


_WHAT = ("meeting_date", "start_time", "place")


def _notify(meeting: GroupMeeting, kind: str) -> None:
    """Write the notice with the calendar event to the group's convener and secretary (who
    can open the meeting page), commit, then queue it (else the sweep sends it)."""
    people = [
        *directory.group_people(meeting.group_id, "convener"),
        *directory.group_people(meeting.group_id, "secretary"),
    ]
    about = {
        "meeting_id": meeting.id,
        "meeting_date": meeting.meeting_date.isoformat(),
        "start_time": meeting.start_time.strftime("%H:%M") if meeting.start_time else None,
        "group_name": db.session.get_one(BusGroup, meeting.group_id).name,
        "calendar": calendar.steering_event(meeting),
    }
    ids = outbox.write(outbox.rows(kind, people, None, **about))
    db.session.commit()
    queue.enqueue_deliveries(ids)


def meetings_of(group_id: str) -> list[GroupMeeting]:
    """The group's meetings, earliest first."""
    query = (
        select(GroupMeeting)
        .where(GroupMeeting.group_id == group_id)
        .order_by(GroupMeeting.meeting_date, GroupMeeting.id)
    )
    return list(db.session.scalars(query))


#: Past meetings the steering group's page shows per group; the rest are a page of their own.
PAST_SHOWN = 5


def overview(group_id: str, on: date | None = None) -> GroupMeetings:
    """The group's meetings around `on` (every coming one, the latest PAST_SHOWN held), and
    the next dates of its rhythm ("Möten per termin", a setting of the group). Two bounded
    queries: a decade of meetings is never loaded for the page."""
    group = db.session.get(BusGroup, group_id)
    per_term = group.meetings_per_term if group is not None else MEETINGS_PER_HALF
    return overviews({group_id: per_term}, on)[group_id]


def overviews(per_term: dict[str, int], on: date | None = None) -> dict[str, GroupMeetings]:
    """`overview` of each group (id: its meetings per term), in two queries for all of them
    (the steering group's page shows ten groups): this term's meetings, and the latest
    PAST_SHOWN + 1 held ones of each group (a window over the index on (group_id,
    meeting_date, id))."""
    on = on or clock.today()
    year, half = half_of(on)
    term_start = date(year, 1 if half == 1 else 7, 1)
    ids = sorted(per_term)
    recent: dict[str, list[GroupMeeting]] = {group_id: [] for group_id in ids}
    query = (
        select(GroupMeeting)
        .where(GroupMeeting.group_id.in_(ids), GroupMeeting.meeting_date >= term_start)
        .order_by(GroupMeeting.meeting_date, GroupMeeting.id)
    )
    for meeting in db.session.scalars(query):
        recent[meeting.group_id].append(meeting)
    latest_first = (GroupMeeting.meeting_date.desc(), GroupMeeting.id.desc())
    rank = func.row_number().over(partition_by=GroupMeeting.group_id, order_by=latest_first)
    ranked = (
        select(GroupMeeting.id, rank.label("rank"))
        .where(GroupMeeting.group_id.in_(ids), GroupMeeting.meeting_date < on)
        .subquery()
    )
    query = (
        select(GroupMeeting)
        .join(ranked, ranked.c.id == GroupMeeting.id)
        .where(ranked.c.rank <= PAST_SHOWN + 1)
        .order_by(*latest_first)
    )
    past: dict[str, list[GroupMeeting]] = {group_id: [] for group_id in ids}
    for meeting in db.session.scalars(query):
        past[meeting.group_id].append(meeting)
    found = {}
    for group_id in ids:
        planned = [m.meeting_date for m in recent[group_id]]
        count = per_term[group_id]
        found[group_id] = GroupMeetings(
            upcoming=[m for m in recent[group_id] if m.meeting_date >= on],
            past=past[group_id][:PAST_SHOWN],
            suggestions=suggest_dates(on, planned, count=max(2, count), per_term=count),
            more_past=len(past[group_id]) > PAST_SHOWN,
        )
    return found


def held_meetings(group_id: str, on: date | None = None) -> list[GroupMeeting]:
    """Meetings on or before `on` (a decision is recorded after the meeting), latest first;
    withdrawn meetings are not among them."""
    on = on or clock.today()
    meetings = reversed(meetings_of(group_id))
    return [m for m in meetings if m.meeting_date <= on and m.cancelled_at is None]


def has_meeting_on(group_id: str, meeting_date: date) -> bool:
    """Whether the group has a meeting that day that is not withdrawn."""
    query = select(GroupMeeting.id).where(
        GroupMeeting.group_id == group_id,
        GroupMeeting.meeting_date == meeting_date,
        GroupMeeting.cancelled_at.is_(None),
    )
    return db.session.scalar(query.limit(1)) is not None


def previous_meeting(meeting: GroupMeeting) -> GroupMeeting | None:
    """The group's meeting just before this one (a withdrawn one does not count)."""
    earlier = or_(
        GroupMeeting.meeting_date < meeting.meeting_date,
        and_(GroupMeeting.meeting_date == meeting.meeting_date, GroupMeeting.id < meeting.id),
    )
    query = (
        select(GroupMeeting)
        .where(
            GroupMeeting.group_id == meeting.group_id,
            earlier,
            GroupMeeting.cancelled_at.is_(None),
        )
        .order_by(GroupMeeting.meeting_date.desc(), GroupMeeting.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def cases_for_meeting(meeting: GroupMeeting, *options: ExecutableOption) -> list[Deviation]:
    """The group's open reports (skickad, besvarad, behandlad) plus those closed since the
    previous meeting (or decided at this one), ordered by state, then case number.
    `options`: loader options for what the caller will read of each report."""
    cases = db.session.scalars(select(Deviation).where(_covered(meeting)).options(*options))
    return sorted(cases, key=_digest_order)


def count_cases(meeting: GroupMeeting) -> int:
    """How many cases `cases_for_meeting` gives, counted by the database."""
    return db.session.scalars(
        select(func.count()).select_from(Deviation).where(_covered(meeting))
    ).one()


#: What the digest's summary reads of each case (`case_rows_for_meeting`).
CASE_COLUMNS = (
    Deviation.id,
    Deviation.state,
    Deviation.case_number,
    Deviation.reporting_unit_id,
    Deviation.receiving_unit_id,
    Deviation.categories,
    Deviation.sent_at,
    Deviation.answered_at,
    Deviation.deadline,
)


def case_rows_for_meeting(meeting: GroupMeeting) -> list:
    """`cases_for_meeting` as rows of `CASE_COLUMNS`: a meeting with thousands of cases is
    listed without loading their texts."""
    rows = db.session.execute(select(*CASE_COLUMNS).where(_covered(meeting))).all()
    return sorted(rows, key=_digest_order)


def _covered(meeting: GroupMeeting) -> ColumnElement[bool]:
    closed = Deviation.state == rules.AVSLUTAD
    previous = previous_meeting(meeting)
    since = Deviation.closed_at >= day_start(previous.meeting_date) if previous else closed
    decided_here = select(DeviationClosing.deviation_id).where(
        DeviationClosing.meeting_id == meeting.id
    )
    return and_(
        Deviation.group_id == meeting.group_id,
        or_(
            Deviation.state.in_(OPEN_STATES),
            and_(closed, since),
            and_(closed, Deviation.id.in_(decided_here)),
            and_(closed, Deviation.agenda_meeting_id == meeting.id),
        ),
    )


def _digest_order(case: Deviation | Row[Any]) -> tuple[int, str]:
    return STATE_ORDER[case.state], case.case_number or ""


def is_case_overdue(deviation: Deviation, on: date | None = None) -> bool:
    """Unanswered after the deadline: shown as "obesvarad"."""
    return is_overdue(deviation.deadline, on or clock.today(), deviation.answered_at is not None)


def put_on_agenda(
    meeting: GroupMeeting, deviations: Iterable[Deviation], actor: User | str | None = None
) -> list[Deviation]:
    """Mark the reports as on the meeting's agenda: besvarad → behandlad.

    A report still unanswered stays `skickad` (chef B may still answer; SPEC §3 step 5 does not
    wait for B) but is linked to the meeting too. Closed or withdrawn reports are left alone.
    Added to the current transaction: the caller commits (the digest job, with the digest).
    """
    changed = []
    for deviation in deviations:
        if deviation.group_id != meeting.group_id or deviation.state not in OPEN_STATES:
            continue
        if deviation.state == rules.BESVARAD:
            deviation.state = rules.next_state(deviation.state, "put_on_agenda")
        deviation.agenda_meeting_id = meeting.id
        audit.record(actor, "deviation.on_agenda", "deviation", deviation.id, meeting=meeting.id)
        changed.append(deviation)
    db.session.flush()
    return changed
