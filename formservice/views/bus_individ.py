"""BUS-individ records: minutes of a held meeting, list, view, downloads (SPEC §5)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from forms.bus_individ import BusIndividForm
from forms.lists import BUS_INDIVID_STATES, RecordFilterForm

from .. import access, clock
from ..auth import current
from ..domain.groups import GroupNotChosen
from ..extensions import db
from ..models import BusIndivid
from ..services import audit, calendar, directory, lists, outbox
from ..services import bus_individ as bus_individ_service
from . import get_allowed, ics_response
from .files import send_audited

bp = Blueprint("bus_individ", __name__, url_prefix="/bus-individ")


@bp.route("/")
@login_required
def list_records() -> tuple[str, int]:
    """The records the user may see, 50 a page, filtered as the URL says."""
    form = RecordFilterForm(request.args, states=BUS_INDIVID_STATES, units=lists.unit_choices())
    number = lists.page_number(request.args.get("sida"))
    page = lists.bus_individ_page(current(), form.to_filter(), number, request.args.get("efter"))
    args = form.query_args()
    html = render_template(
        "html/bus_individ/list.html",
        page=page,
        form=form,
        page_url=lambda n, after=None: url_for(
            "bus_individ.list_records", **args, sida=n, efter=after
        ),
        is_chef=access.is_chef(current()),
    )
    return html, 200 if form.valid else 422


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    own = directory.active_units(access.managed_unit_ids(current()))
    if not own:
        abort(403)
    form = BusIndividForm(
        own_units=own, all_units=directory.active_units(), sip_meetings=_sip_meetings()
    )
    if form.validate_on_submit():
        try:
            outcome = bus_individ_service.record_minutes(current(), form.to_input())
        except GroupNotChosen as refused:
            db.session.rollback()
            _offer_groups(form)
            form.bus_group.refuse(refused.needs)
        else:
            _flash_saved(outcome)
            return redirect(url_for("bus_individ.show", record_id=outcome.record.id))
    else:
        _offer_groups(form, check=form.is_submitted())
    roles = [(unit, bus_individ_service.roles_by_group(unit.id)) for unit in own]
    return render_template("html/bus_individ/form.html", form=form, roles=roles), (
        422 if form.errors else 200
    )


def _offer_groups(form: BusIndividForm, *, check: bool = False) -> None:
    """Offer the raising unit's groups under "BUS-grupp" (asked when there are several); a
    valid form needs no lookup here: `bus_individ_service.record_minutes` decides the group."""
    form.bus_group.offer(directory.group_choices(*form.group_units()))
    if check:
        form.bus_group.check()


def _sip_meetings() -> list[tuple[int, str, date]]:
    return [
        (m.id, bus_individ_service.sip_label(m, identity=True), clock.local_date(m.meeting_at))
        for m in bus_individ_service.preceding_sip_meetings(
            current()
        )  # only meetings the user may see
    ]


def _flash_saved(outcome: bus_individ_service.Outcome) -> None:
    if outcome.queued:
        flash("Protokollet är sparat och de berörda cheferna får ett meddelande.", "success")
    else:
        flash(
            "Protokollet är sparat. Meddelandena till cheferna och protokollets PDF skapas "
            "automatiskt så snart kön är tillgänglig igen.",
            "success",
        )


@bp.route("/<int:record_id>")
@login_required
def show(record_id: int) -> str:
    record = get_allowed(BusIndivid, record_id, access.can_view_bus_individ)
    audit.record_now(current(), "bus_individ.viewed", "bus_individ", record.id)
    manage = access.can_manage_bus_individ(current(), record)
    return render_template(
        "html/bus_individ/show.html",
        record=record,
        can_manage=manage,
        failed=outbox.failed_for_record("bus_individ_minutes", record.id) if manage else [],
        units={u.id: u.name for u in directory.active_units()},
        sip_label=_sip_label(record),
    )


def _sip_label(record: BusIndivid) -> str | None:
    """The preceding SIP meeting; the child's name only for those who may see that meeting."""
    if record.sip is None:
        return None
    identity = access.can_view_sip(current(), record.sip)
    return bus_individ_service.sip_label(record.sip, identity=identity)


@bp.route("/<int:record_id>/kalender.ics")
@login_required
def calendar_file(record_id: int) -> ResponseReturnValue:
    record = get_allowed(BusIndivid, record_id, access.can_view_bus_individ)
    event = calendar.follow_up_event(record)
    if event is None:
        abort(404)  # no follow-up meeting was decided
    return ics_response(calendar.download(event))


@bp.route("/<int:record_id>/protokoll.<any(pdf, docx):kind>")
@login_required
def download(record_id: int, kind: str) -> ResponseReturnValue:
    record = get_allowed(BusIndivid, record_id, access.can_view_bus_individ)
    file_id = record.pdf_file_id if kind == "pdf" else record.docx_file_id
    return send_audited(file_id, "bus_individ.downloaded", "bus_individ", record.id, format=kind)


@bp.route("/<int:record_id>/skapa-dokument", methods=["POST"])
@login_required
def rebuild(record_id: int) -> WerkzeugResponse:
    """Queue the minutes' documents again (after a LibreOffice failure or a queue outage)."""
    record = get_allowed(BusIndivid, record_id, access.can_manage_bus_individ)
    if record.pdf_file_id is None and record.identity_removed_at is None:
        if bus_individ_service.retry_documents(current(), record):
            flash("Protokollets dokument skapas. Ladda om sidan om en stund.", "success")
        else:
            flash(
                "Protokollets dokument skapas automatiskt så snart kön är tillgänglig igen.",
                "success",
            )
    return redirect(url_for("bus_individ.show", record_id=record.id))
