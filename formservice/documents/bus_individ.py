"""The minutes of a BUS-individ meeting ("Protokoll från BUS-individ") as DOCX (SPEC §5).

`bus_individ_context` is the contract with templates/docx/bus_individ.docx, which
scripts/make_docx_templates.py generates; tests/unit/test_bus_individ_document.py checks both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from ..domain.deviation import GENDERS
from ..domain.sip import CONSENT_FORMS, CONSENT_FROM, MEETING_TYPES
from .docx import day, render, yes_no

if TYPE_CHECKING:
    from ..models import BusIndivid, SipMeeting

TEMPLATE = "bus_individ.docx"


def render_bus_individ(record: BusIndivid, *, tz: str, unit_name: Callable[[str], str]) -> bytes:
    return render(TEMPLATE, bus_individ_context(record, tz=tz, unit_name=unit_name))


def bus_individ_context(
    record: BusIndivid, *, tz: str, unit_name: Callable[[str], str]
) -> dict[str, Any]:
    """Every variable of bus_individ.docx; `unit_name` names the record's unit ids. Reads the
    preceding SIP meeting (`record.sip`)."""
    consent = record.consent or {}
    return {
        "meeting_date": day(record.meeting_date, tz),
        "raised_by_unit": unit_name(record.raised_by_unit_id),
        "convener_unit": unit_name(record.convener_unit_id) if record.convener_unit_id else "",
        "chair_unit": unit_name(record.chair_unit_id) if record.chair_unit_id else "",
        "preceding_sip": preceding_sip(record.sip, record.sip_date, tz),
        "child_name": record.child_name or "",
        "child_gender": GENDERS.get(record.child_gender, record.child_gender),
        "consent_date": consent.get("date") or "",
        "consent_from": [CONSENT_FROM.get(g, g) for g in consent.get("given_by") or []],
        "consent_form": CONSENT_FORMS.get(consent.get("form") or "", ""),
        "participants": [unit_name(unit_id) for unit_id in record.participants or []],
        "question": record.question or "",
        "agreement_reached": yes_no(record.agreement_reached),
        "agreements": [_agreement(a) for a in record.agreements or []],
        "follow_up": yes_no(record.follow_up),
        "follow_up_convener": _optional_unit(record.follow_up_convener_unit_id, unit_name),
        "follow_up_date": day(record.follow_up_date, tz),
        "written_at": day(record.held_at, tz),
    }


def preceding_sip(meeting: SipMeeting | None, sip_date: date | None, tz: str) -> str:
    """The SIP meeting the case follows: a meeting in the service, or a date given by hand."""
    if meeting is not None:
        kind = MEETING_TYPES.get(meeting.meeting_type, meeting.meeting_type)
        return f"{kind} {day(meeting.meeting_at, tz)}"
    return f"SIP-möte {day(sip_date, tz)}" if sip_date else ""


def _agreement(agreement: dict[str, Any]) -> dict[str, str]:
    """One row of "Överenskommelser": vad, vem, när."""
    return {key: str(agreement.get(key) or "") for key in ("what", "who", "by_when")}


def _optional_unit(unit_id: str | None, name: Callable[[str], str]) -> str:
    return name(unit_id) if unit_id else ""
