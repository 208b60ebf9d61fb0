"""Calendar files of meetings (issue 17, item 5): what an .ics says, parsed back with
`icalendar`: the time in Europe/Stockholm across daylight-saving changes, a stable UID,
SEQUENCE and CANCEL, and nothing but the time and the kind of meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from formservice.documents.calendar import ics
from formservice.domain.calendar import (
    BUS_INDIVID,
    SIP,
    STEERING_GROUP,
    event,
    local_start,
    next_sequence,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: Every property a meeting's VEVENT may have: nothing that could name a child or a place.
ALLOWED = {"UID", "SUMMARY", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "ORGANIZER"}


def parsed(item: dict, method: str | None = None) -> tuple[Calendar, dict]:
    data = ics(
        item,
        tz="Europe/Stockholm",
        domain="kommun.example",
        organizer="bus@kommun.example",
        stamp=STAMP,
        method=method,
    )
    calendar = Calendar.from_ical(data)
    (vevent,) = calendar.walk("VEVENT")
    return calendar, vevent


@pytest.mark.parametrize(
    ("local", "utc_hour"),
    [
        (datetime(2026, 3, 27, 9, 0), 8),  # before the spring change: CET, UTC+1
        (datetime(2026, 3, 30, 9, 0), 7),  # after it: CEST, UTC+2
        (datetime(2026, 10, 23, 9, 0), 7),  # before the autumn change
        (datetime(2026, 10, 26, 9, 0), 8),  # after it
    ],
)
def test_times_are_stockholm_wall_clock_across_daylight_saving(local, utc_hour):
    moment = local.replace(tzinfo=STOCKHOLM)
    calendar, vevent = parsed(event(SIP, 12, moment, 0))
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Stockholm"
    assert (start.hour, start.minute) == (9, 0)
    assert start.astimezone(UTC).hour == utc_hour
    assert end - start == timedelta(hours=1, minutes=30)
    assert vevent["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert calendar.walk("VTIMEZONE")  # the zone travels with the file


def test_a_request_names_only_the_time_and_the_kind_of_meeting():
    calendar, vevent = parsed(event(SIP, 12, datetime(2026, 5, 4, 8, 0, tzinfo=UTC), 0))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(vevent["UID"]) == "sip-12@kommun.example"
    assert str(vevent["SUMMARY"]) == "SIP-möte"
    assert int(vevent["SEQUENCE"]) == 0 and str(vevent["STATUS"]) == "CONFIRMED"
    assert set(vevent.keys()) <= ALLOWED
    assert "LOCATION" not in vevent and "DESCRIPTION" not in vevent and "URL" not in vevent


def test_a_withdrawn_meeting_is_a_cancel_with_the_same_uid_and_a_higher_sequence():
    moment = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    _, first = parsed(event(SIP, 12, moment, 0))
    calendar, cancelled = parsed(event(SIP, 12, moment, 1, cancelled=True))
    assert str(calendar["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["UID"] == first["UID"]
    assert int(cancelled["SEQUENCE"]) == 1


def test_a_meeting_without_a_time_is_an_all_day_event():
    _, vevent = parsed(event(STEERING_GROUP, 3, date(2026, 6, 17), 2))
    assert vevent.decoded("DTSTART") == date(2026, 6, 17)
    assert vevent.decoded("DTEND") == date(2026, 6, 18)
    assert str(vevent["SUMMARY"]) == "BUS-styrgrupp" and int(vevent["SEQUENCE"]) == 2
    _, follow_up = parsed(event(BUS_INDIVID, 5, date(2026, 9, 1), 0))
    assert str(follow_up["SUMMARY"]) == "BUS-individ"
    assert str(follow_up["UID"]) == "bus_individ-5@kommun.example"


def test_a_download_is_published_with_the_same_uid_and_sequence():
    item = event(
        STEERING_GROUP, 3, local_start(date(2026, 6, 17), time(13, 0), "Europe/Stockholm"), 4
    )
    calendar, vevent = parsed(item, method="PUBLISH")
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(vevent["UID"]) == "styrgrupp-3@kommun.example" and int(vevent["SEQUENCE"]) == 4
    assert vevent.decoded("DTSTART").hour == 13


def test_local_start_without_a_time_is_the_day():
    assert local_start(date(2026, 6, 17), None, "Europe/Stockholm") == date(2026, 6, 17)


@given(
    st.integers(0, 50),
    st.tuples(st.dates(), st.none() | st.times(), st.text(max_size=5)),
    st.tuples(st.dates(), st.none() | st.times(), st.text(max_size=5)),
)
def test_sequence_rises_exactly_when_time_or_place_changes(sequence, before, after):
    expected = sequence + (1 if before != after else 0)
    assert next_sequence(sequence, before, after) == expected
    assert next_sequence(sequence, before, before) == sequence
