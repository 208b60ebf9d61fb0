"""Calendar files of meetings (issue 17, item 5): the event of a SIP meeting, a BUS-individ
follow-up or a steering-group meeting, and its .ics for the meeting page's download. The
e-mails carry the event in their outbox context; the worker renders it (`mail.render`)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app

from .. import clock
from ..documents import calendar as ics_file
from ..domain import calendar as calendar_rules
from ..models import BusIndivid, GroupMeeting, SipMeeting


def sip_event(meeting: SipMeeting) -> dict:
    """The SIP meeting's event: its time, "SIP-möte"; CANCEL once it is withdrawn."""
    cancelled = meeting.cancelled_at is not None
    return calendar_rules.event(
        calendar_rules.SIP,
        meeting.id,
        meeting.meeting_at,
        meeting.calendar_sequence,
        cancelled=cancelled,
    )


def steering_event(meeting: GroupMeeting) -> dict:
    """The steering-group meeting's event: its day and start time, "BUS-styrgrupp"."""
    start = calendar_rules.local_start(meeting.meeting_date, meeting.start_time, clock.zone())
    cancelled = meeting.cancelled_at is not None
    return calendar_rules.event(
        calendar_rules.STEERING_GROUP,
        meeting.id,
        start,
        meeting.calendar_sequence,
        cancelled=cancelled,
    )


def follow_up_event(record: BusIndivid) -> dict | None:
    """The BUS-individ follow-up meeting decided in the minutes, as an all-day event."""
    if not record.follow_up or record.follow_up_date is None:
        return None
    return calendar_rules.event(calendar_rules.BUS_INDIVID, record.id, record.follow_up_date, 0)


def render(event: dict, stamp: datetime, method: str | None = None) -> bytes:
    """The .ics bytes of an event, under the service's address, zone and sender."""
    config = current_app.config
    return ics_file.ics(
        event,
        tz=config["FORMSERVICE_TIMEZONE"],
        domain=urlsplit(config["FORMSERVICE_BASE_URL"]).hostname or "formservice",
        organizer=parseaddr(config["FORMSERVICE_MAIL_FROM"])[1],
        stamp=stamp,
        method=method,
    )


def download(event: dict) -> bytes:
    """The file "Lägg till i kalendern" gives: the same UID and SEQUENCE as the e-mails,
    published (METHOD:PUBLISH) for importing rather than answering."""
    return render(event, clock.now(), calendar_rules.PUBLISH)
