"""The kallelse "Kallelse till SIP-möte" as DOCX (templates/docx/kallelse.docx).

The context built here is the contract with the template that
scripts/make_docx_templates.py generates; it holds plain strings, lists and dicts only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..domain import deviation as rules
from ..domain import sip as sip_rules
from .docx import render

if TYPE_CHECKING:
    from ..models import SipMeeting

TEMPLATE = "kallelse.docx"
NOT_GIVEN = "Ej angivet"


def render_kallelse(meeting: SipMeeting, *, tz: str, person_name: Callable[[int], str]) -> bytes:
    return render(TEMPLATE, kallelse_context(meeting, tz=tz, person_name=person_name))


def kallelse_context(
    meeting: SipMeeting, *, tz: str, person_name: Callable[[int], str]
) -> dict[str, Any]:
    """The context of kallelse.docx; `person_name` names the initiating chef. Reads the
    meeting's `follows`, initiating, chair and secretary units and called units."""
    consent = meeting.consent or {}
    return {
        "meeting_type": sip_rules.MEETING_TYPES.get(meeting.meeting_type, meeting.meeting_type),
        "follows": moment(meeting.follows.meeting_at, tz) if meeting.follows else "",
        "meeting_date": moment(meeting.meeting_at, tz)[:10],
        "meeting_time": moment(meeting.meeting_at, tz)[11:],
        "place": meeting.place or "",
        "short_notice": "Ja" if meeting.short_notice else "Nej",
        "short_notice_reason": meeting.short_notice_reason or "",
        "child_name": meeting.child_name or "",
        "child_personnummer": meeting.child_personnummer or "",
        "child_gender": rules.GENDERS.get(meeting.child_gender, meeting.child_gender),
        "child_over_15": "Ja" if meeting.child_over_15 else "Nej",
        "guardians": [_row(g, ("name", "contact")) for g in meeting.guardians or []],
        "consent_date": consent.get("date") or "",
        "consent_from": [sip_rules.CONSENT_FROM.get(c, c) for c in consent.get("given_by") or []],
        "consent_form": sip_rules.CONSENT_FORMS.get(consent.get("form") or "", ""),
        "question": meeting.question or "",
        "initiator_unit": meeting.initiator_unit.name,
        "initiator_chef": person_name(meeting.initiator_user_id),
        "chair": _person(meeting.chair_name, meeting.chair_unit),
        "secretary": _person(meeting.secretary_name, meeting.secretary_unit),
        "called_units": [called.unit.name for called in meeting.called],
        "invitees": [_row(i, ("name", "organisation", "email")) for i in meeting.invitees or []],
        "sent_on": moment(meeting.sent_at, tz)[:10] if meeting.sent_at else "",
    }


def moment(value: datetime, tz: str) -> str:
    """ÅÅÅÅ-MM-DD TT:MM in local time."""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _row(value: dict, keys: tuple[str, ...]) -> dict[str, str]:
    return {key: str(value.get(key) or "") for key in keys}


def _person(name: str | None, unit: Any) -> str:
    parts = [part for part in (name, unit.name if unit is not None else None) if part]
    return ", ".join(parts) or NOT_GIVEN
