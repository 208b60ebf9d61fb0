"""SIP use cases: draft, send, attendance, the kallelse documents (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from .. import access, clock, queue
from ..domain import sip as sip_rules
from ..domain.inputs import AttendanceInput, SipInput
from ..extensions import db
from ..models import SipCalledUnit, SipMeeting, Unit, User
from . import audit, calendar, directory, outbox, record_documents


@dataclass(frozen=True)
class Outcome:
    meeting: SipMeeting
    queued: bool


class SendRefused(Exception):
    """The invitation breaks the consent or notice rule; `problems` says which and why."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


def _notice_days() -> int:
    return current_app.config["FORMSERVICE_SIP_NOTICE_DAYS"]


def send_problems(meeting: sip_rules.Sendable, now: datetime) -> dict[str, list[str]]:
    """What stops sending (`domain.sip.send_problems` with the settings)."""
    return sip_rules.send_problems(meeting, now, clock.zone(), _notice_days())


def save(author: User, data: SipInput, *, send: bool, draft: SipMeeting | None = None) -> Outcome:
    """Store a new invitation or update a draft, and send it when asked; one transaction.
    Raises `GroupNotChosen`, before changing anything, when the initiating unit is in several
    groups and `data.group_id` is not one of them."""
    if draft is not None:
        db.session.refresh(draft, with_for_update=True)  # two clicks on "Skicka" send once
    meeting = draft or SipMeeting(state=sip_rules.UTKAST, initiator_user_id=author.id)
    if meeting.state != sip_rules.UTKAST:
        raise ValueError(f"SIP meeting {meeting.id} is {meeting.state}, not a draft")
    group_id = directory.group_of(data.initiator_unit_id, data.group_id)
    _apply(meeting, data)
    meeting.group_id = group_id
    db.session.add(meeting)
    db.session.flush()
    audit.record(author, "sip.saved" if draft else "sip.created", "sip", meeting.id)
    ids = outbox.write(_send(author, meeting)) if send else []
    db.session.commit()
    queued = queue.enqueue_deliveries(ids)
    if send:
        queued = queue.enqueue_documents("sip", meeting.id) and queued
    return Outcome(meeting, queued)


def _apply(meeting: SipMeeting, data: SipInput) -> None:
    for name in (
        "meeting_type",
        "follows_id",
        "child_name",
        "child_personnummer",
        "child_gender",
        "child_over_15",
        "guardians",
        "consent",
        "question",
        "meeting_at",
        "place",
        "initiator_unit_id",
        "chair_name",
        "chair_unit_id",
        "secretary_name",
        "secretary_unit_id",
        "invitees",
        "short_notice",
    ):
        setattr(meeting, name, getattr(data, name))
    meeting.short_notice_reason = data.short_notice_reason if data.short_notice else None
    wanted = list(dict.fromkeys(data.called_unit_ids))
    kept = [c for c in meeting.called if c.unit_id in wanted]
    have = {c.unit_id for c in kept}
    meeting.called = kept + [SipCalledUnit(unit_id=u) for u in wanted if u not in have]


def _send(author: User, meeting: SipMeeting) -> list:
    """utkast → skickad: the rules once more, the group, the notices to the called units."""
    now = clock.now()
    problems = send_problems(meeting, now)
    if problems:
        raise SendRefused(problems)
    needed = not sip_rules.notice_ok(meeting.meeting_at, now, _notice_days(), clock.zone())
    meeting.short_notice = needed
    meeting.short_notice_reason = meeting.short_notice_reason if needed else None
    meeting.state = sip_rules.SKICKAD
    meeting.sent_at = now
    audit.record(author, "sip.sent", "sip", meeting.id, short_notice=needed)
    about = {**summary(meeting), "calendar": calendar.sip_event(meeting)}
    return outbox.rows("sip_invitation", recipients(meeting), None, **about)


class NotCancellable(ValueError):
    """Only a sent meeting that has not begun can be withdrawn."""


def can_cancel(meeting: SipMeeting) -> bool:
    """ "Ställ in mötet" is offered for a sent meeting that has not begun."""
    return meeting.state == sip_rules.SKICKAD and not is_over(meeting)


def cancel(author: User, meeting: SipMeeting) -> bool:
    """ "Ställ in mötet": skickad → installt, the calendar event withdrawn (METHOD:CANCEL,
    SEQUENCE raised) in a notice to everyone invited; one transaction. Whether the notices
    were queued (else the sweep sends them)."""
    db.session.refresh(meeting, with_for_update=True)  # two clicks withdraw once
    if not can_cancel(meeting):
        db.session.rollback()
        raise NotCancellable(f"SIP meeting {meeting.id} is {meeting.state}")
    meeting.state = sip_rules.INSTALLT
    meeting.cancelled_at = clock.now()
    meeting.calendar_sequence += 1
    audit.record(author, "sip.cancelled", "sip", meeting.id)
    about = {**summary(meeting), "calendar": calendar.sip_event(meeting)}
    ids = outbox.write(outbox.rows("sip_cancelled", recipients(meeting), None, **about))
    db.session.commit()
    return queue.enqueue_deliveries(ids)


def recipients(meeting: SipMeeting) -> list[User]:
    """The chef and deputies of every called unit; other invitees get no e-mail."""
    return [person for called in meeting.called for person in called.unit.managers()]


def summary(meeting: SipMeeting) -> dict:
    """What the e-mail may say: the date and the initiating unit. No child, no place."""
    return {
        "sip_id": meeting.id,
        "meeting_date": clock.local_date(meeting.meeting_at).isoformat(),
        "initiating_unit": db.session.get_one(Unit, meeting.initiator_unit_id).name,
    }


def record_attendance(author: User, meeting: SipMeeting, data: AttendanceInput) -> SipMeeting:
    """Who came, and the plan; the meeting counts as held from the first save."""
    if meeting.state not in (sip_rules.SKICKAD, sip_rules.GENOMFORD):
        raise ValueError(f"SIP meeting {meeting.id} is {meeting.state}")
    for called in meeting.called:
        called.attendance = data.attendance[called.unit_id]
    meeting.plan_drawn_up = data.plan_drawn_up
    meeting.plan_date = data.plan_date if data.plan_drawn_up else None
    meeting.state = sip_rules.GENOMFORD
    meeting.held_at = meeting.held_at or clock.now()
    absent = sorted(u for u, a in data.attendance.items() if a == "franvarande")
    audit.record(author, "sip.attendance_recorded", "sip", meeting.id, absent=absent)
    db.session.commit()
    return meeting


def absent_units(meeting: SipMeeting) -> list[Unit]:
    return [c.unit for c in meeting.called if c.attendance == "franvarande"]


def is_over(meeting: SipMeeting) -> bool:
    """Attendance can be recorded once the meeting has begun."""
    return meeting.meeting_at <= clock.now()


def visible(user: User) -> list[SipMeeting]:
    query = access.visible_sip_meetings(user).order_by(SipMeeting.meeting_at.desc())
    return list(db.session.scalars(query))


def earlier_choices(user: User) -> list[tuple[str, str]]:
    """Sent meetings the user may see, for "Följer SIP-möte"; labels without the child."""
    return [(str(m.id), label(m)) for m in visible(user) if m.state != sip_rules.UTKAST]


def label(meeting: SipMeeting) -> str:
    moment = meeting.meeting_at.astimezone(ZoneInfo(clock.zone()))
    kind = sip_rules.MEETING_TYPES.get(meeting.meeting_type, meeting.meeting_type)
    return f"{moment:%Y-%m-%d %H:%M}, {meeting.initiator_unit.name}, {kind} (nr {meeting.id})"


def retry_documents(author: User, meeting: SipMeeting) -> bool:
    """Clear a failed build of the kallelse and queue it again."""
    return record_documents.retry(author, "sip", meeting)
