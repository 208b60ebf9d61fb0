"""SIP and BUS-individ rules: notice period, consent, retention (SPEC §4, §5, §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from .deadlines import local_date

MEETING_TYPES = {"forsta": "Första SIP-möte", "uppfoljning": "Uppföljning"}
ATTENDANCE = {"narvarande": "Närvarande", "franvarande": "Frånvarande", "ersattare": "Ersättare"}
CONSENT_FROM = {
    "vardnadshavare_1": "Vårdnadshavare 1",
    "vardnadshavare_2": "Vårdnadshavare 2",
    "barnet": "Barnet/ungdomen",
}
CONSENT_FORMS = {"skriftligt": "Skriftligt", "muntligt": "Muntligt"}
OWN_CONSENT_AGE = 15


def earliest_meeting_date(sent_on: date, notice_days: int) -> date:
    """The first day a meeting may be held when the invitation goes out on `sent_on`."""
    return sent_on + timedelta(days=notice_days)


def notice_ok(meeting_at: datetime, sent_at: datetime, notice_days: int, tz: str) -> bool:
    """Whole local days count: sent on the 1st, 21 days' notice, the 22nd is the first allowed."""
    earliest = earliest_meeting_date(local_date(sent_at, tz), notice_days)
    return local_date(meeting_at, tz) >= earliest


def consent_problems(consent: dict | None, child_over_15: bool, today: date) -> list[str]:
    """What is missing before an invitation may be sent; empty when consent is in order."""
    if not consent or not consent.get("date") or not consent.get("given_by"):
        return ["Samtycke måste vara inhämtat och registrerat innan kallelsen skickas."]
    problems = []
    given = date.fromisoformat(consent["date"])
    if given > today:
        problems.append("Samtycket kan inte ha inhämtats ett datum som ännu inte har varit.")
    if child_over_15 and "barnet" not in consent["given_by"]:
        problems.append(
            f"Ungdomen har fyllt {OWN_CONSENT_AGE} år: ungdomens eget samtycke ska också finnas."
        )
    if consent.get("form") not in CONSENT_FORMS:
        problems.append("Ange om samtycket är skriftligt eller muntligt.")
    return problems


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def retention_due(meeting_on: date, months: int, today: date) -> bool:
    """True from the day `months` calendar months after the meeting (clamped to month end)."""
    return today >= meeting_on + relativedelta(months=months)


UTKAST, SKICKAD, GENOMFORD, INSTALLT = "utkast", "skickad", "genomford", "installt"
STATE_LABELS = {UTKAST: "Utkast", SKICKAD: "Skickad", GENOMFORD: "Genomförd", INSTALLT: "Inställt"}


class InvalidPersonnummer(ValueError):
    """Not a valid personnummer or samordningsnummer; deliberately without the number."""


def parse_personnummer(text: str) -> tuple[str, date]:
    """The number as ÅÅÅÅMMDD-NNNN and the birth date (samordningsnummer: day − 60)."""
    from personnummer.personnummer import Personnummer, PersonnummerException

    try:
        number = Personnummer(text.strip().replace(" ", ""))
        born = number.get_date()
    except (PersonnummerException, ValueError):
        raise InvalidPersonnummer() from None  # the library's message holds the number
    digits = number.format(long_format=True)
    return f"{digits[:8]}-{digits[8:]}", born


def has_turned(birth_date: date, age: int, day: date) -> bool:
    return age_on(birth_date, day) >= age


def local_moment(day: date, clock: time, tz: str) -> datetime:
    """A wall-clock date and time in `tz` as an aware UTC moment.

    Raises ValueError for a time that does not exist that day (the spring DST gap).
    """
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(tz))
    moment = local.astimezone(UTC)
    if moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError("nonexistent local time")
    return moment


class Sendable(Protocol):
    """What the sending rules read of an invitation (a form's input or a stored meeting)."""

    consent: dict
    child_over_15: bool
    meeting_at: datetime
    short_notice: bool


def send_problems(
    meeting: Sendable, now: datetime, tz: str, notice_days: int
) -> dict[str, list[str]]:
    """What stops sending: "consent" and "meeting_at" → messages; empty when it may go."""
    problems: dict[str, list[str]] = {}
    consent = consent_problems(meeting.consent, meeting.child_over_15, local_date(now, tz))
    if consent:
        problems["consent"] = consent
    if meeting.meeting_at <= now:
        problems["meeting_at"] = ["Mötesdatum och tid: mötet måste ligga efter nu."]
    elif not meeting.short_notice:
        refusal = notice_error(meeting.meeting_at, now, notice_days, tz)
        if refusal:
            problems["meeting_at"] = [refusal]
    return problems


def notice_error(meeting_at: datetime, sent_at: datetime, notice_days: int, tz: str) -> str | None:
    """The refusal for a meeting that breaks the notice rule, naming the earliest date."""
    if notice_ok(meeting_at, sent_at, notice_days, tz):
        return None
    earliest = earliest_meeting_date(local_date(sent_at, tz), notice_days)
    return (
        f"Mötesdatum och tid: kallelsen ska skickas minst {notice_days} dagar före mötet. "
        f"Tidigaste tillåtna mötesdatum är {earliest.isoformat()}. Välj ett senare datum, "
        "eller kryssa i Kortare kallelsetid och ange skälet."
    )
