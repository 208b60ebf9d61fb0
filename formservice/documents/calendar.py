"""iCalendar files (.ics) of meeting events (`domain.calendar.event`), with the `icalendar`
package: times in the service's zone with its VTIMEZONE, all-day events as dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from ..domain.calendar import CANCEL

PRODID = "-//BUS-formservice//Kalender//SV"


def _when(value: str, tz: str) -> datetime | date:
    """An event's stored start or end: a moment shown in the zone, or a date."""
    if "T" not in value:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value).astimezone(ZoneInfo(tz))


def ics(
    event: dict, *, tz: str, domain: str, organizer: str, stamp: datetime, method: str | None = None
) -> bytes:
    """One VCALENDAR with one VEVENT: UID `<uid>@<domain>`, SUMMARY, DTSTART/DTEND, SEQUENCE,
    STATUS, ORGANIZER (the service's sender address) and METHOD (the event's, or `method`)."""
    method = method or event["method"]
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    item = Event()
    item.add("uid", f"{event['uid']}@{domain}")
    item.add("summary", event["title"])
    item.add("dtstamp", stamp)
    item.add("dtstart", _when(event["start"], tz))
    item.add("dtend", _when(event["end"], tz))
    item.add("sequence", event["sequence"])
    item.add("status", "CANCELLED" if event["method"] == CANCEL else "CONFIRMED")
    item.add("organizer", f"mailto:{organizer}")
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()
