"""SIP invitations: create, send, see, record attendance (SPEC §4)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from forms.lists import RecordFilterForm
from forms.sip import SipForm, attendance_form

from .. import access
from ..auth import current
from ..domain import sip as sip_rules
from ..domain.groups import GroupNotChosen
from ..extensions import db
from ..models import SipMeeting, User
from ..services import audit, calendar, directory, lists, outbox
from ..services import sip as sip_service
from . import get_allowed, ics_response
from .errors import render_error
from .files import send_audited

bp = Blueprint("sip", __name__, url_prefix="/sip")


def _form(**kwargs: Any) -> SipForm:
    own = directory.active_units(access.managed_unit_ids(current()))
    if not own:
        abort(403)
    earlier = sip_service.earlier_choices(current())
    return SipForm(own_units=own, all_units=directory.active_units(), earlier=earlier, **kwargs)


def _offer_groups(form: SipForm, *, check: bool = False) -> None:
    """Offer the initiating unit's groups under "BUS-grupp" (asked when there are several);
    a valid form needs no lookup here: `sip_service.save` decides the group."""
    form.bus_group.offer(directory.group_choices(*form.group_units()))
    if check:
        form.bus_group.check()


def _save(form: SipForm, draft: SipMeeting | None) -> ResponseReturnValue:
    try:
        outcome = sip_service.save(current(), form.to_input(), send=form.sending, draft=draft)
    except GroupNotChosen as refused:
        db.session.rollback()
        _offer_groups(form)
        form.bus_group.refuse(refused.needs)
        return _form_page(form, draft)
    return _after_save(outcome, form.sending)


@bp.route("/")
@login_required
def index() -> tuple[str, int]:
    """The SIP meetings the user may see, 50 a page, filtered as the URL says."""
    form = RecordFilterForm(request.args, states=sip_rules.STATE_LABELS, units=lists.unit_choices())
    number = lists.page_number(request.args.get("sida"))
    page = lists.sip_page(current(), form.to_filter(), number, request.args.get("efter"))
    args = form.query_args()
    html = render_template(
        "html/sip/list.html",
        page=page,
        form=form,
        page_url=lambda number, after=None: url_for("sip.index", **args, sida=number, efter=after),
        is_chef=bool(access.managed_unit_ids(current())),
    )
    return html, 200 if form.valid else 422


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    form = _form()
    if request.method == "GET":
        if earlier_id := request.args.get("foljer", type=int):
            form.fill_from(
                get_allowed(SipMeeting, earlier_id, access.can_manage_sip), follow_up=True
            )
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
def edit(sip_id: int) -> ResponseReturnValue:
    meeting = get_allowed(SipMeeting, sip_id, access.can_manage_sip)
    if meeting.state != sip_rules.UTKAST:
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


def _form_page(form: SipForm, draft: SipMeeting | None) -> tuple[str, int]:
    status = 422 if form.errors else 200
    return render_template("html/sip/form.html", form=form, draft=draft), status


def _after_save(outcome: sip_service.Outcome, sent: bool) -> WerkzeugResponse:
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
def show(sip_id: int) -> str:
    meeting = get_allowed(SipMeeting, sip_id, access.can_view_sip)
    audit.record_now(current(), "sip.viewed", "sip", meeting.id)
    manage = access.can_manage_sip(current(), meeting)
    return render_template(
        "html/sip/show.html",
        meeting=meeting,
        can_manage=manage,
        initiator=db.session.get(User, meeting.initiator_user_id),
        follows_visible=meeting.follows is not None
        and access.can_view_sip(current(), meeting.follows),
        can_record=manage
        and meeting.state in (sip_rules.SKICKAD, sip_rules.GENOMFORD)
        and sip_service.is_over(meeting),
        can_cancel=manage and sip_service.can_cancel(meeting),
        absent=sip_service.absent_units(meeting) if manage else [],
        failed=outbox.failed_for_record("sip_invitation", meeting.id) if manage else [],
    )


@bp.route("/<int:sip_id>/kallelse.<any(docx, pdf):kind>")
@login_required
def download(sip_id: int, kind: str) -> ResponseReturnValue:
    meeting = get_allowed(SipMeeting, sip_id, access.can_view_sip)
    file_id = meeting.docx_file_id if kind == "docx" else meeting.pdf_file_id
    return send_audited(file_id, "sip.downloaded", "sip", meeting.id, format=kind)


@bp.route("/<int:sip_id>/kalender.ics")
@login_required
def calendar_file(sip_id: int) -> ResponseReturnValue:
    meeting = get_allowed(SipMeeting, sip_id, access.can_view_sip)
    if meeting.state not in (sip_rules.SKICKAD, sip_rules.GENOMFORD):
        abort(404)  # a draft has no event yet; a withdrawn one has none any more
    return ics_response(calendar.download(calendar.sip_event(meeting)))


@bp.route("/<int:sip_id>/stall-in", methods=["POST"])
@login_required
def cancel(sip_id: int) -> ResponseReturnValue:
    meeting = get_allowed(SipMeeting, sip_id, access.can_manage_sip)
    try:
        queued = sip_service.cancel(current(), meeting)
    except sip_service.NotCancellable:
        return render_error(
            409, "Mötet kan inte ställas in: det är inte skickat eller har redan börjat."
        )
    message = "Mötet är inställt. De kallade verksamheterna får besked"
    flash(f"{message}." if queued else f"{message} så snart utskicken är i gång igen.", "success")
    return redirect(url_for("sip.show", sip_id=meeting.id))


@bp.route("/<int:sip_id>/dokument", methods=["POST"])
@login_required
def retry_documents(sip_id: int) -> WerkzeugResponse:
    meeting = get_allowed(SipMeeting, sip_id, access.can_manage_sip)
    if meeting.state == sip_rules.UTKAST or meeting.pdf_file_id is not None:
        abort(409)
    sip_service.retry_documents(current(), meeting)
    flash("Dokumentet skapas på nytt.", "success")
    return redirect(url_for("sip.show", sip_id=meeting.id))


@bp.route("/<int:sip_id>/narvaro", methods=["GET", "POST"])
@login_required
def attendance(sip_id: int) -> ResponseReturnValue:
    meeting = get_allowed(SipMeeting, sip_id, access.can_manage_sip)
    if meeting.state == sip_rules.UTKAST or not sip_service.is_over(meeting):
        flash("Närvaron kan registreras när mötet har börjat.", "info")
        return redirect(url_for("sip.show", sip_id=meeting.id))
    form = attendance_form(meeting)
    if form.validate_on_submit():
        sip_service.record_attendance(current(), meeting, form.to_input())
        flash("Närvaron är sparad.", "success")
        return redirect(url_for("sip.show", sip_id=meeting.id))
    status = 422 if form.errors else 200
    return render_template("html/sip/attendance.html", form=form, meeting=meeting), status
