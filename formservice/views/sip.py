"""SIP invitations: create, send, see, record attendance (SPEC §4)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.sip import SipForm, attendance_form

from .. import access
from ..domain import sip as rules
from ..domain.groups import GroupNotChosen
from ..extensions import db
from ..models import SipMeeting, Unit, User
from ..services import audit, directory, outbox
from ..services import sip as service
from .files import send_audited

bp = Blueprint("sip", __name__, url_prefix="/sip")


def _user() -> User:
    return current_user._get_current_object()


def _get(sip_id: int, check=access.can_view_sip) -> SipMeeting:
    meeting = db.session.get(SipMeeting, sip_id) or abort(404)
    if not check(_user(), meeting):
        abort(403)
    return meeting


def _units(ids=None) -> list[Unit]:
    query = select(Unit).where(Unit.active).order_by(Unit.name)
    if ids is not None:
        query = query.where(Unit.id.in_(ids))
    return list(db.session.scalars(query))


def _form(**kwargs) -> SipForm:
    own = _units(access.managed_unit_ids(_user()))
    if not own:
        abort(403)
    earlier = service.earlier_choices(_user())
    return SipForm(own_units=own, all_units=_units(), earlier=earlier, **kwargs)


def _offer_groups(form: SipForm, *, check: bool = False) -> None:
    """Offer the initiating unit's groups under "BUS-grupp" (asked when there are several);
    a valid form needs no lookup here: `service.save` decides the group."""
    form.bus_group.offer(directory.group_choices(*form.group_units()))
    if check:
        form.bus_group.check()


def _save(form: SipForm, draft: SipMeeting | None):
    try:
        outcome = service.save(_user(), form.to_input(), send=form.sending, draft=draft)
    except GroupNotChosen as refused:
        db.session.rollback()
        _offer_groups(form)
        form.bus_group.refuse(refused.needs)
        return _form_page(form, draft)
    return _after_save(outcome, form.sending)


@bp.route("/")
@login_required
def index():
    meetings = service.visible(_user())
    own_units = access.managed_unit_ids(_user())
    return render_template(
        "html/sip/list.html",
        meetings=meetings,
        is_chef=bool(own_units),
        label=rules.MEETING_TYPES,
        states=rules.STATE_LABELS,
    )


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def new():
    form = _form()
    if request.method == "GET":
        if earlier_id := request.args.get("foljer", type=int):
            form.fill_from(_get(earlier_id, access.can_manage_sip), follow_up=True)
        else:
            form.meeting_type.data = "forsta"
        _offer_groups(form)
    elif form.validate_on_submit():
        return _save(form, None)
    else:
        _offer_groups(form, check=True)
    return _form_page(form, None)


@bp.route("/<int:sip_id>/redigera", methods=["GET", "POST"])
@login_required
def edit(sip_id: int):
    meeting = _get(sip_id, access.can_manage_sip)
    if meeting.state != rules.UTKAST:
        flash("Kallelsen är redan skickad och kan inte ändras.", "info")
        return redirect(url_for("sip.show", sip_id=meeting.id))
    form = _form()
    if request.method == "GET":
        form.fill_from(meeting)
        _offer_groups(form)
    elif form.validate_on_submit():
        return _save(form, meeting)
    else:
        _offer_groups(form, check=True)
    return _form_page(form, meeting)


def _form_page(form: SipForm, draft: SipMeeting | None):
    status = 422 if form.errors else 200
    return render_template("html/sip/form.html", form=form, draft=draft), status


def _after_save(outcome: service.Outcome, sent: bool):
    if not sent:
        flash("Utkastet är sparat. Bara din verksamhet ser det.", "success")
    elif outcome.queued:
        flash("Kallelsen är skickad. De kallade verksamheternas chefer får e-post.", "success")
    else:
        flash(
            "Kallelsen är sparad och skickad. E-post och dokument skapas automatiskt så snart "
            "kön är tillgänglig igen; du behöver inte göra något mer.",
            "success",
        )
    return redirect(url_for("sip.show", sip_id=outcome.meeting.id))


@bp.route("/<int:sip_id>")
@login_required
def show(sip_id: int):
    meeting = _get(sip_id)
    audit.record_now(_user(), "sip.viewed", "sip", meeting.id)
    manage = access.can_manage_sip(_user(), meeting)
    return render_template(
        "html/sip/show.html",
        meeting=meeting,
        can_manage=manage,
        initiator=db.session.get(User, meeting.initiator_user_id),
        follows_visible=bool(meeting.follows) and access.can_view_sip(_user(), meeting.follows),
        can_record=manage and meeting.state != rules.UTKAST and service.is_over(meeting),
        absent=service.absent_units(meeting) if manage else [],
        failed=outbox.failed_for_record("sip_invitation", meeting.id) if manage else [],
        types=rules.MEETING_TYPES,
        states=rules.STATE_LABELS,
        attendance=rules.ATTENDANCE,
        consent_from=rules.CONSENT_FROM,
        consent_forms=rules.CONSENT_FORMS,
    )


@bp.route("/<int:sip_id>/kallelse.<any(docx, pdf):kind>")
@login_required
def download(sip_id: int, kind: str):
    meeting = _get(sip_id)
    file_id = meeting.docx_file_id if kind == "docx" else meeting.pdf_file_id
    return send_audited(file_id, "sip.downloaded", "sip", meeting.id, format=kind)


@bp.route("/<int:sip_id>/dokument", methods=["POST"])
@login_required
def retry_documents(sip_id: int):
    meeting = _get(sip_id, access.can_manage_sip)
    if meeting.state == rules.UTKAST or meeting.pdf_file_id is not None:
        abort(409)
    service.retry_documents(_user(), meeting)
    flash("Dokumentet skapas på nytt.", "success")
    return redirect(url_for("sip.show", sip_id=meeting.id))


@bp.route("/<int:sip_id>/narvaro", methods=["GET", "POST"])
@login_required
def attendance(sip_id: int):
    meeting = _get(sip_id, access.can_manage_sip)
    if meeting.state == rules.UTKAST or not service.is_over(meeting):
        flash("Närvaron kan registreras när mötet har börjat.", "info")
        return redirect(url_for("sip.show", sip_id=meeting.id))
    form = attendance_form(meeting)
    if form.validate_on_submit():
        service.record_attendance(_user(), meeting, form.to_input())
        flash("Närvaron är sparad.", "success")
        return redirect(url_for("sip.show", sip_id=meeting.id))
    status = 422 if form.errors else 200
    return render_template("html/sip/attendance.html", form=form, meeting=meeting), status
