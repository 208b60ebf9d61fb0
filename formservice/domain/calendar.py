"""Calendar events of meetings (issue 17, item 5): what an .ics file may say, pure.

An event says when, and which kind of meeting ("SIP-möte", "BUS-individ", "BUS-styrgrupp"),
nothing else: no child, no question, no place and no video link (they are behind login).
Its UID is stable per meeting; SEQUENCE rises each time the time or place changes and when
the meeting is withdrawn, so calendars replace the earlier version.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SIP, BUS_INDIVID, STEERING_GROUP = "sip", "bus_individ", "styrgrupp"
TITLES = {SIP: "SIP-möte", BUS_INDIVID: "BUS-individ", STEERING_GROUP: "BUS-styrgrupp"}
#: How long a meeting with a start time is shown in the calendar (the forms ask no end).
DURATIONS = {
    SIP: timedelta(hours=1, minutes=30),
    BUS_INDIVID: timedelta(hours=1, minutes=30),
    STEERING_GROUP: timedelta(hours=2),
}
REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"


def event(
    kind: str, record_id: int, start: datetime | date, sequence: int, *, cancelled: bool = False
) -> dict:
    """The event as plain values (kept in an outbox row's context): an aware start gets
    the kind's duration; a date alone is an all-day event."""
    if isinstance(start, datetime):
        begin = start.astimezone(UTC)
        span = {"start": begin.isoformat(), "end": (begin + DURATIONS[kind]).isoformat()}
    else:
        span = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}
    return {
        "uid": f"{kind}-{record_id}",
        "title": TITLES[kind],
        **span,
        "sequence": sequence,
        "method": CANCEL if cancelled else REQUEST,
    }


def local_start(day: date, at: time | None, tz: str) -> datetime | date:
    """A meeting's start: the local time on that day as an aware moment, or the day alone."""
    if at is None:
        return day
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz))


def next_sequence(sequence: int, before: tuple, after: tuple) -> int:
    """SEQUENCE after a change: one higher when the time or place changed, else the same."""
    return sequence + 1 if before != after else sequence
