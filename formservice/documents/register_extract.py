"""The GDPR extract ("Registerutdrag", art. 15) of one child's SIP meetings and BUS-individ
records, as DOCX (templates/docx/register_extract.docx) and as the same data in JSON.

`extract_context` is the contract with the template that scripts/make_docx_templates.py
generates; it holds plain strings, lists and dicts only, so the JSON download is the context
itself. Deviations are never part of it: they are de-identified and hold nothing of the child.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain import sip as sip_rules
from ..domain.audit import event_label
from .bus_individ import bus_individ_context
from .docx import day, render, yes_no
from .sip import kallelse_context, moment

if TYPE_CHECKING:
    from ..models import BusIndivid, SipMeeting, StoredFile

TEMPLATE = "register_extract.docx"
NOT_RECORDED = "Ej registrerad"

#: One audit event of a record: at (aware datetime), actor, name (or None), action (code).
Event = Mapping[str, Any]


def render_extract(context: dict[str, Any]) -> bytes:
    return render(TEMPLATE, context)


def extract_json(context: dict[str, Any]) -> bytes:
    """The same content, machine-readable (UTF-8 JSON)."""
    return json.dumps(context, ensure_ascii=False, indent=2).encode("utf-8")


def extract_context(
    sip_meetings: Sequence[SipMeeting],
    records: Sequence[BusIndivid],
    events: Mapping[tuple[str, int], Sequence[Event]],
    *,
    made_at: datetime,
    made_by: str,
    retention_months: int,
    unit_name: Callable[[str], str],
    person_name: Callable[[int], str],
    tz: str,
) -> dict[str, Any]:
    """Every variable of register_extract.docx. `events` holds each record's audit events,
    oldest first, keyed by ("sip" or "bus_individ", id)."""
    return {
        "made_at": moment(made_at, tz),
        "made_by": made_by,
        "retention_months": str(retention_months),
        "sip_meetings": [
            _sip(m, events.get(("sip", m.id), []), person_name, tz) for m in sip_meetings
        ],
        "bus_individ_records": [
            _bus_individ(r, events.get(("bus_individ", r.id), []), unit_name, tz) for r in records
        ],
    }


def _sip(
    meeting: SipMeeting, events: Sequence[Event], person_name: Callable[[int], str], tz: str
) -> dict[str, Any]:
    fields = kallelse_context(meeting, tz=tz, person_name=person_name)
    del fields["called_units"]  # as "called", with attendance
    when = moment(meeting.meeting_at, tz)
    return {
        "heading": f"SIP-möte {when} (nummer {meeting.id})",
        "id": str(meeting.id),
        "state": sip_rules.STATE_LABELS.get(meeting.state, meeting.state),
        **fields,
        "called": [
            {
                "unit": called.unit.name,
                "attendance": sip_rules.ATTENDANCE.get(called.attendance or "", NOT_RECORDED),
            }
            for called in meeting.called
        ],
        "created_at": moment(meeting.created_at, tz),
        "held_at": moment(meeting.held_at, tz) if meeting.held_at else "",
        "plan_drawn_up": yes_no(meeting.plan_drawn_up),
        "plan_date": day(meeting.plan_date, tz),
        "documents": _documents(meeting.docx_file, meeting.pdf_file),
        "events": [_event(e, tz) for e in events],
    }


def _bus_individ(
    record: BusIndivid, events: Sequence[Event], unit_name: Callable[[str], str], tz: str
) -> dict[str, Any]:
    fields = bus_individ_context(record, tz=tz, unit_name=unit_name)
    return {
        "heading": f"BUS-individ {day(record.meeting_date, tz)} (nummer {record.id})",
        "id": str(record.id),
        "state": sip_rules.STATE_LABELS.get(record.state, record.state),
        **fields,
        "created_at": moment(record.created_at, tz),
        "documents": _documents(record.docx_file, record.pdf_file),
        "events": [_event(e, tz) for e in events],
    }


def _documents(*files: StoredFile | None) -> list[str]:
    return [file.name for file in files if file is not None]


def _event(event: Event, tz: str) -> dict[str, str]:
    actor, name = event["actor"], event.get("name")
    return {
        "at": moment(event["at"], tz),
        "who": f"{name} ({actor})" if name else actor,
        "event": event_label(event["action"]),
    }
