"""Deviation drafts pre-filled from a SIP meeting (absent unit) or a BUS-individ record."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort

from forms.deviation import DeviationForm

from .. import access, clock
from ..domain import deviation as rules
from ..domain.inputs import DeviationInput
from ..extensions import db
from ..models import BusIndivid, SipMeeting, Unit, User


def from_request(form: DeviationForm, user: User, args: Mapping[str, str]) -> None:
    """Fill the form from ?sip=ID&enhet=UNIT or ?bus_individ=ID; no personal data is copied."""
    if sip_id := _int(args.get("sip")):
        _from_sip(form, user, sip_id, args.get("enhet", ""))
    elif record_id := _int(args.get("bus_individ")):
        _from_bus_individ(form, user, record_id)


def check_links(user: User, data: DeviationInput) -> None:
    """A posted link to a SIP or BUS-individ record must be one the user may see."""
    if data.sip_id is not None:
        meeting = db.session.get(SipMeeting, data.sip_id) or abort(400)
        if not access.can_manage_sip(user, meeting):
            abort(403)
    if data.bus_individ_id is not None:
        record = db.session.get(BusIndivid, data.bus_individ_id) or abort(400)
        if not access.can_view_bus_individ(user, record):
            abort(403)


def _from_sip(form: DeviationForm, user: User, sip_id: int, unit_id: str) -> None:
    meeting = db.session.get(SipMeeting, sip_id) or abort(404)
    if not access.can_manage_sip(user, meeting):
        abort(403)
    called = {c.unit_id for c in meeting.called}
    unit = db.session.get(Unit, unit_id) if unit_id in called else None
    held_on = clock.local_date(meeting.meeting_at)
    form.sip_id.data = str(meeting.id)
    form.reporting_unit.data = meeting.initiator_unit_id
    form.bus_group.data = meeting.group_id or ""
    form.categories.data = [rules.ABSENT_FROM_SIP]
    form.event_date.data = held_on
    if unit is not None:
        form.receiving_unit.data = unit.id
        form.description.data = (
            f"{unit.name} var kallad till SIP-möte {held_on.isoformat()} men deltog inte."
        )


def _from_bus_individ(form: DeviationForm, user: User, record_id: int) -> None:
    record = db.session.get(BusIndivid, record_id) or abort(404)
    if not access.can_view_bus_individ(user, record):
        abort(403)
    form.bus_individ_id.data = str(record.id)
    form.reporting_unit.data = record.raised_by_unit_id
    form.bus_group.data = record.group_id or ""
    form.categories.data = [rules.NO_AGREEMENT]
    form.event_date.data = record.meeting_date
    form.bus_individ.data = "ja"
    form.bus_individ_date.data = record.meeting_date
    form.description.data = (
        f"Ingen överenskommelse nåddes vid BUS-individ {record.meeting_date.isoformat()}."
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
