"""SIP rules: notice period in Stockholm days, consent, age from personnummer, retention."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formservice.domain import sip as sip_rules
from formservice.services.retention import MARGIN, _months_before

TZ = "Europe/Stockholm"
STOCKHOLM = ZoneInfo(TZ)
DAYS = 21


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


def luhn_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def make_pnr(born: date, serial: str = "238", coordination: bool = False) -> str:
    """A synthetic personnummer (or samordningsnummer) with a valid check digit."""
    day = born.day + (60 if coordination else 0)
    short = f"{born:%y%m}{day:02d}{serial}"
    return f"{born.year:04d}{born:%m}{day:02d}-{serial}{luhn_digit(short)}"


# --- notice period -------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "ok"), [(20, False), (21, True), (22, True)])
def test_notice_edge_days(days: int, ok: bool) -> None:
    sent = local(2026, 6, 1, 10)
    meeting = local(2026, 6, 1, 9) + timedelta(days=days)
    assert sip_rules.notice_ok(meeting, sent, DAYS, TZ) is ok
    assert (sip_rules.notice_error(meeting, sent, DAYS, TZ) is None) is ok


def test_refusal_names_the_earliest_date() -> None:
    error = sip_rules.notice_error(local(2026, 6, 20), local(2026, 6, 1), DAYS, TZ)
    assert error is not None
    assert error.startswith("Mötesdatum och tid:")
    assert "2026-06-22" in error


def test_sent_late_evening_counts_the_stockholm_date_not_utc() -> None:
    # 23:30 in Stockholm is still the 1st; 21 days later is the 22nd.
    sent = local(2026, 6, 1, 23, 30)
    assert sent.date() == date(2026, 6, 1)
    assert sip_rules.notice_ok(local(2026, 6, 22, 8), sent, DAYS, TZ)
    assert not sip_rules.notice_ok(local(2026, 6, 21, 23, 59), sent, DAYS, TZ)


def test_sent_after_midnight_stockholm_is_the_next_day_although_utc_says_otherwise() -> None:
    sent = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 June in Stockholm
    meeting = local(2026, 6, 22, 10)  # 21 UTC days later, but only 20 Stockholm days
    assert not sip_rules.notice_ok(meeting, sent, DAYS, TZ)
    assert "2026-06-23" in sip_rules.notice_error(meeting, sent, DAYS, TZ)


def test_meeting_early_in_the_morning_counts_its_stockholm_date() -> None:
    sent = local(2026, 6, 1, 10)
    meeting = local(2026, 6, 22, 0, 30)  # 22:30 UTC on the 21st
    assert meeting.date() == date(2026, 6, 21)
    assert sip_rules.notice_ok(meeting, sent, DAYS, TZ)


def test_across_the_end_of_summer_time_2026_10_25() -> None:
    sent = local(2026, 10, 4, 18)  # CEST, UTC+2
    assert sip_rules.notice_ok(local(2026, 10, 25, 0, 30), sent, DAYS, TZ)  # still CEST
    assert sip_rules.notice_ok(local(2026, 10, 25, 9), sent, DAYS, TZ)  # CET, UTC+1
    assert not sip_rules.notice_ok(local(2026, 10, 24, 23, 30), sent, DAYS, TZ)
    # Sent at the very moment clocks go back (01:00 UTC): already the 25th in Stockholm.
    at_switch = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert sip_rules.earliest_meeting_date(date(2026, 10, 25), DAYS) == date(2026, 11, 15)
    assert not sip_rules.notice_ok(local(2026, 11, 14, 23, 59), at_switch, DAYS, TZ)
    assert sip_rules.notice_ok(local(2026, 11, 15, 0, 1), at_switch, DAYS, TZ)


def test_local_moment_is_stored_as_utc_on_both_sides_of_dst() -> None:
    summer = sip_rules.local_moment(date(2026, 10, 24), time(9, 0), TZ)
    winter = sip_rules.local_moment(date(2026, 10, 26), time(9, 0), TZ)
    assert summer == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    assert winter == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_local_moment_refuses_a_time_in_the_spring_gap() -> None:
    with pytest.raises(ValueError):
        sip_rules.local_moment(date(2026, 3, 29), time(2, 30), TZ)
    assert sip_rules.local_moment(date(2026, 3, 29), time(3, 0), TZ) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(sent=moments, meeting=moments, days=st.integers(min_value=0, max_value=60))
def test_notice_is_whole_stockholm_days(sent: datetime, meeting: datetime, days: int) -> None:
    gap = (meeting.astimezone(STOCKHOLM).date() - sent.astimezone(STOCKHOLM).date()).days
    assert sip_rules.notice_ok(meeting, sent, days, TZ) is (gap >= days)


@given(sent=moments, meeting=moments, minutes=st.integers(min_value=0, max_value=100_000))
def test_a_later_meeting_keeps_a_kept_rule(sent: datetime, meeting: datetime, minutes: int):
    if sip_rules.notice_ok(meeting, sent, DAYS, TZ):
        assert sip_rules.notice_ok(meeting + timedelta(minutes=minutes), sent, DAYS, TZ)


# --- consent ---------------------------------------------------------------------------------

TODAY = date(2026, 11, 22)
GOOD = {"date": "2026-11-20", "given_by": ["vardnadshavare_1"], "form": "skriftligt"}


@pytest.mark.parametrize("consent", [None, {}, {"date": "2026-11-20", "given_by": []}])
def test_missing_consent_stops_sending(consent) -> None:
    problems = sip_rules.consent_problems(consent, False, TODAY)
    assert len(problems) == 1 and "Samtycke" in problems[0]


def test_consent_in_order() -> None:
    assert sip_rules.consent_problems(GOOD, False, TODAY) == []
    assert sip_rules.consent_problems({**GOOD, "date": TODAY.isoformat()}, False, TODAY) == []


def test_consent_dated_in_the_future() -> None:
    problems = sip_rules.consent_problems({**GOOD, "date": "2026-11-23"}, False, TODAY)
    assert problems == ["Samtycket kan inte ha inhämtats ett datum som ännu inte har varit."]


def test_from_15_the_young_persons_own_consent_is_required() -> None:
    problems = sip_rules.consent_problems(GOOD, True, TODAY)
    assert len(problems) == 1 and "eget samtycke" in problems[0]
    own = {**GOOD, "given_by": ["vardnadshavare_1", "barnet"]}
    assert sip_rules.consent_problems(own, True, TODAY) == []


def test_consent_needs_its_form() -> None:
    problems = sip_rules.consent_problems({**GOOD, "form": None}, False, TODAY)
    assert problems == ["Ange om samtycket är skriftligt eller muntligt."]


# --- personnummer and age --------------------------------------------------------------------


def test_personnummer_is_normalised_and_gives_the_birth_date() -> None:
    number = make_pnr(date(2011, 6, 15))
    assert sip_rules.parse_personnummer(number) == (number, date(2011, 6, 15))
    short = number[2:]  # ÅÅMMDD-NNNN
    assert sip_rules.parse_personnummer(short) == (number, date(2011, 6, 15))
    assert sip_rules.parse_personnummer(number.replace("-", "")) == (number, date(2011, 6, 15))


def test_samordningsnummer_gives_the_real_birth_date() -> None:
    number = make_pnr(date(2012, 3, 9), coordination=True)
    assert sip_rules.parse_personnummer(number)[1] == date(2012, 3, 9)


def wrong_check_digit() -> str:
    number = make_pnr(date(2011, 6, 15))
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize("text", [wrong_check_digit(), "hej", "2011-06-15", "20111315-2380", ""])
def test_invalid_personnummer_is_refused_without_the_number(text: str) -> None:
    with pytest.raises(sip_rules.InvalidPersonnummer) as info:
        sip_rules.parse_personnummer(text)
    assert str(info.value) == ""
    assert info.value.__suppress_context__


def test_fifteenth_birthday_edges() -> None:
    born = sip_rules.parse_personnummer(make_pnr(date(2011, 6, 15)))[1]
    assert not sip_rules.has_turned(born, 15, date(2026, 6, 14))
    assert sip_rules.has_turned(born, 15, date(2026, 6, 15))
    leapling = date(2012, 2, 29)
    assert not sip_rules.has_turned(leapling, 15, date(2027, 2, 28))
    assert sip_rules.has_turned(leapling, 15, date(2027, 3, 1))


def _birthday(born: date, years: int) -> date:
    year = born.year + years
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return born.replace(year=year)


@given(
    born=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
    offset=st.integers(min_value=-800, max_value=800),
)
def test_age_turns_on_the_birthday(born: date, offset: int) -> None:
    day = _birthday(born, 15) + timedelta(days=offset)
    assert sip_rules.has_turned(born, 15, day) is (offset >= 0)


@given(born=st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31)))
def test_every_valid_number_round_trips(born: date) -> None:
    number = make_pnr(born)
    assert sip_rules.parse_personnummer(number) == (number, born)


# --- retention -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "months", "due"),
    [
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2024, 3, 31), 24, date(2026, 3, 31)),
        (date(2026, 11, 22), 24, date(2028, 11, 22)),
    ],
)
def test_retention_due_clamps_to_month_end(meeting: date, months: int, due: date) -> None:
    assert not sip_rules.retention_due(meeting, months, due - timedelta(days=1))
    assert sip_rules.retention_due(meeting, months, due)


@given(
    meeting=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    months=st.integers(min_value=0, max_value=120),
    offset=st.integers(min_value=-400, max_value=400),
)
def test_retention_due_from_the_same_day_months_later(meeting: date, months: int, offset: int):
    index = meeting.month - 1 + months
    year, month = meeting.year + index // 12, index % 12 + 1
    due = date(year, month, min(meeting.day, calendar.monthrange(year, month)[1]))
    assert sip_rules.retention_due(meeting, months, due + timedelta(days=offset)) is (offset >= 0)


def due_day(meeting: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    index = meeting.month - 1 + months
    year, month = meeting.year + index // 12, index % 12 + 1
    return date(year, month, min(meeting.day, calendar.monthrange(year, month)[1]))


#: The last four days of a month, where clamping to a shorter month happens.
MONTH_ENDS = st.builds(
    lambda year, month, back: date(year, month, calendar.monthrange(year, month)[1] - back),
    st.integers(min_value=2000, max_value=2090),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=3),
)


@given(meeting=MONTH_ENDS, months=st.integers(min_value=0, max_value=120))
def test_retention_due_at_month_ends_is_the_clamped_calendar_day(meeting: date, months: int):
    due = due_day(meeting, months)
    assert not sip_rules.retention_due(meeting, months, due - timedelta(days=1))
    assert sip_rules.retention_due(meeting, months, due)


def test_every_due_meeting_is_within_the_retention_candidates():
    """The sweep fetches meetings up to `today - months + MARGIN`: clamping to a month's end
    cannot be inverted, and the margin must cover what it loses. Every meeting day of a
    common and a leap year, on the first day it is due (later days only widen the bound)."""
    for meeting in (date(2023, 1, 1) + timedelta(days=n) for n in range(731)):
        for months in range(25):
            today = due_day(meeting, months)
            assert sip_rules.retention_due(meeting, months, today)
            assert meeting <= _months_before(today, months) + MARGIN, (meeting, months)
