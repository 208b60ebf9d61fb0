"""BUS-individ records: minutes of a held meeting, list, view, downloads (SPEC §5)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.bus_individ import BusIndividForm

from .. import access
from ..domain.deadlines import local_date
from ..domain.groups import GroupNotChosen
from ..domain.sip import CONSENT_FORMS, CONSENT_FROM
from ..extensions import db
from ..models import BusIndivid, Unit, User
from ..services import audit, directory, outbox
from ..services import bus_individ as service
from .files import send_audited

bp = Blueprint("bus_individ", __name__, url_prefix="/bus-individ")


def _user() -> User:
    return current_user._get_current_object()


def _tz() -> str:
    return current_app.config["FORMSERVICE_TIMEZONE"]


def _units(ids=None) -> list[Unit]:
    query = select(Unit).where(Unit.active).order_by(Unit.name)
    if ids is not None:
        query = query.where(Unit.id.in_(ids))
    return list(db.session.scalars(query))


def _get(record_id: int, check=access.can_view_bus_individ) -> BusIndivid:
    record = db.session.get(BusIndivid, record_id) or abort(404)
    if not check(_user(), record):
        abort(403)
    return record


@bp.route("/")
@login_required
def list_records():
    query = service.visible_records(_user()).order_by(
        BusIndivid.meeting_date.desc(), BusIndivid.id.desc()
    )
    return render_template(
        "html/bus_individ/list.html",
        records=db.session.scalars(query).all(),
        is_chef=access.is_chef(_user()),
    )


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def new():
    own = _units(access.managed_unit_ids(_user()))
    if not own:
        abort(403)
    form = BusIndividForm(own_units=own, all_units=_units(), sip_meetings=_sip_meetings())
    if form.validate_on_submit():
        try:
            outcome = service.record_minutes(_user(), form.to_input())
        except GroupNotChosen as refused:
            db.session.rollback()
            _offer_groups(form)
            form.bus_group.refuse(refused.needs)
        else:
            _flash_saved(outcome)
            return redirect(url_for("bus_individ.show", record_id=outcome.record.id))
    else:
        _offer_groups(form, check=form.is_submitted())
    roles = [(unit, service.roles_by_group(unit.id)) for unit in own]
    return render_template("html/bus_individ/form.html", form=form, roles=roles), (
        422 if form.errors else 200
    )


def _offer_groups(form: BusIndividForm, *, check: bool = False) -> None:
    """Offer the raising unit's groups under "BUS-grupp" (asked when there are several); a
    valid form needs no lookup here: `service.record_minutes` decides the group."""
    form.bus_group.offer(directory.group_choices(*form.group_units()))
    if check:
        form.bus_group.check()


def _sip_meetings() -> list[tuple[int, str, object]]:
    tz = _tz()
    return [
        (m.id, service.sip_label(m, tz, identity=True), local_date(m.meeting_at, tz))
        for m in service.preceding_sip_meetings(_user())  # only meetings the user may see
    ]


def _flash_saved(outcome: service.Outcome) -> None:
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
def show(record_id: int):
    record = _get(record_id)
    audit.record_now(_user(), "bus_individ.viewed", "bus_individ", record.id)
    manage = access.can_manage_bus_individ(_user(), record)
    return render_template(
        "html/bus_individ/show.html",
        record=record,
        can_manage=manage,
        failed=outbox.failed_for_record("bus_individ_minutes", record.id) if manage else [],
        units={u.id: u.name for u in _units()},
        sip_label=_sip_label(record),
        CONSENT_FROM=CONSENT_FROM,
        CONSENT_FORMS=CONSENT_FORMS,
    )


def _sip_label(record: BusIndivid) -> str | None:
    """The preceding SIP meeting; the child's name only for those who may see that meeting."""
    if record.sip is None:
        return None
    identity = access.can_view_sip(_user(), record.sip)
    return service.sip_label(record.sip, _tz(), identity=identity)


@bp.route("/<int:record_id>/protokoll.<any(pdf, docx):kind>")
@login_required
def download(record_id: int, kind: str):
    record = _get(record_id)
    file_id = record.pdf_file_id if kind == "pdf" else record.docx_file_id
    return send_audited(file_id, "bus_individ.downloaded", "bus_individ", record.id, format=kind)


@bp.route("/<int:record_id>/skapa-dokument", methods=["POST"])
@login_required
def rebuild(record_id: int):
    """Queue the minutes' documents again (after a LibreOffice failure or a queue outage)."""
    record = _get(record_id, access.can_manage_bus_individ)
    if record.pdf_file_id is None and record.identity_removed_at is None:
        if service.retry_documents(_user(), record):
            flash("Protokollets dokument skapas. Ladda om sidan om en stund.", "success")
        else:
            flash(
                "Protokollets dokument skapas automatiskt så snart kön är tillgänglig igen.",
                "success",
            )
    return redirect(url_for("bus_individ.show", record_id=record.id))
