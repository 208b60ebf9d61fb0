"""Chef A files and follows reports; B answers when logged in; the secretary lists the group's."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from forms.answer import AnswerForm
from forms.deviation import DeviationForm, ForwardForm
from forms.feedback import FeedbackForm
from forms.fields import choice_values, given
from forms.lists import DeviationFilterForm
from forms.measure import MeasureDoneForm

from .. import access, clock
from ..auth import current
from ..domain import deviation as rules
from ..domain import measures as measure_rules
from ..domain.groups import GroupNotChosen
from ..extensions import db
from ..models import Attachment, BusIndivid, Deviation, OutboxMessage, SipMeeting, Unit, User
from ..services import audit, categories, directory, lists, outbox
from ..services import deviations as deviations_service
from ..services import feedback as feedback_service
from ..services import measures as measures_service
from ..services.meetings import is_case_overdue
from . import get_allowed, prefill
from .files import send_stored

bp = Blueprint("deviations", __name__)


@bp.route("/")
@login_required
def index() -> WerkzeugResponse:
    """Where the user works (views/auth: landing_url): never a 403."""
    from .auth import landing_url

    return redirect(landing_url(current()))


@bp.route("/avvikelser")
@login_required
def list_reports() -> tuple[str, int] | str:
    """The deviations the user may list, 50 a page, filtered and sorted as the URL says; a
    chef's "Att besvara" first."""
    user, units = _lister()
    form = _filter_form(user)
    number = lists.page_number(request.args.get("sida"))
    found = lists.deviation_page(user, form.to_filter(), number, request.args.get("efter"))
    args = form.query_args()
    page = render_template(
        "html/deviations/list.html",
        failed=outbox.failed_for_groups(access.led_groups(user, convener=False))
        if access.secretary_group_ids(user)
        else [],
        found=found,
        form=form,
        is_chef=bool(units),
        several_groups=len(choice_values(form.grupp)) > 2,
        csv_url=url_for("deviations.export_reports", **args),
        page_url=lambda number, after=None: url_for(
            "deviations.list_reports", **args, sida=number, efter=after
        ),
        category_labels=categories.labels_of,
    )
    return (page, 200) if form.valid else (page, 422)


@bp.route("/avvikelser.csv")
@login_required
def export_reports() -> Response | tuple[str, int]:
    """ "Ladda ner som CSV": the filtered list, every page, without personal data."""
    user, _ = _lister()
    form = _filter_form(user)
    if not form.valid:
        return list_reports()
    body = lists.export_deviations(user, form.to_filter())
    name = f"avvikelser-{clock.today().isoformat()}.csv"
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _lister() -> tuple[User, set[str]]:
    """The user and the units they manage; a 403 for whoever lists no deviations."""
    user = current()
    units = access.managed_unit_ids(user)
    groups = access.secretary_group_ids(user) | access.convener_group_ids(user)
    if not (units or groups or access.is_secretariat(user)):
        abort(403)
    return user, units


def _filter_form(user: User) -> DeviationFilterForm:
    groups = lists.readable_groups(user)
    return DeviationFilterForm(
        request.args,
        units=lists.unit_choices(),
        groups=groups if len(groups) > 1 else [],
        categories=categories.choices(),
    )


@bp.route("/utskick/<int:message_id>/forsok-igen", methods=["POST"])
@login_required
def retry_delivery(message_id: int) -> WerkzeugResponse:
    """Try a delivery that gave up again ("Försök igen"): about a deviation, a SIP meeting or
    a BUS-individ record (`access.can_retry_delivery`); back to the page it was shown on."""
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    if not access.can_retry_delivery(current(), message):
        abort(403)
    if message.state == "failed" and not outbox.recipient_active(message):
        flash("Mottagaren finns inte längre i katalogen. Utskicket görs inte om.", "error")
    elif message.state == "failed":
        outbox.retry(message, current())
        flash("Utskicket görs om.", "success")
    return redirect(_page_of(message))


def _page_of(message: OutboxMessage) -> str:
    """The SIP meeting's or BUS-individ record's page when the user may see it (the
    initiating side), else the report list (the secretary's failed deliveries)."""
    if message.kind == "sip_invitation":
        meeting = db.session.get(SipMeeting, message.record_id)
        if meeting is not None and access.can_view_sip(current(), meeting):
            return url_for("sip.show", sip_id=meeting.id)
    elif message.kind == "bus_individ_minutes":
        record = db.session.get(BusIndivid, message.record_id)
        if record is not None and access.can_view_bus_individ(current(), record):
            return url_for("bus_individ.show", record_id=record.id)
    return url_for("deviations.list_reports")


@bp.route("/avvikelser/ny", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    units, own_ids = access.units_and_managed_ids(current())  # one query, not three
    if not own_ids:
        abort(403)
    own = [u for u in units if u.id in own_ids]
    form = DeviationForm(own_units=own, all_units=units, **_category_choices())
    if request.method == "GET":
        prefill.from_request(form, current(), request.args)
        _offer_groups(form)
    elif form.validate_on_submit():
        return _save(form, None)
    else:
        _offer_groups(form, check=True)
    return _form_page(form, None)


@bp.route("/avvikelser/<int:deviation_id>/redigera", methods=["GET", "POST"])
@login_required
def edit(deviation_id: int) -> ResponseReturnValue:
    deviation = get_allowed(Deviation, deviation_id, access.can_edit)
    if deviation.state != rules.UTKAST:
        flash("Avvikelsen är redan skickad och kan inte ändras.", "info")
        return redirect(url_for("deviations.show", deviation_id=deviation.id))
    own = directory.active_units(access.managed_unit_ids(current()))
    form = DeviationForm(
        own_units=own, all_units=directory.active_units(), **_category_choices(deviation)
    )
    if request.method == "GET":
        form.fill_from(deviation)
        _offer_groups(form)
    elif form.validate_on_submit():
        return _save(form, deviation)
    else:
        _offer_groups(form, check=True)
    return _form_page(form, deviation)


def _offer_groups(form: DeviationForm, *, check: bool = False) -> None:
    """Offer the groups the units chosen so far allow under "BUS-grupp"; before the receiving
    unit is known, those of the reporting unit (a choice in advance, not yet required). A
    valid form needs no lookup here: `deviations_service.save` decides the group."""
    reporting, receiving = form.group_units()
    form.bus_group.offer(directory.group_choices(reporting, receiving), certain=bool(receiving))
    if check:
        form.bus_group.check()


def _save(form: DeviationForm, draft: Deviation | None) -> ResponseReturnValue:
    data = form.to_input()
    prefill.check_links(current(), data)
    try:
        outcome = deviations_service.save(current(), data, send=form.sending, draft=draft)
    except GroupNotChosen as refused:
        db.session.rollback()
        _offer_groups(form)
        form.bus_group.refuse(refused.needs)
        return _form_page(form, draft)
    return _after_save(outcome, form.sending)


def _category_choices(draft: Deviation | None = None) -> dict:
    """The current form's categories; for a draft also those it has that the form no longer
    offers, under the labels of the draft's own version (shown, so nothing is lost)."""
    current = categories.choices()
    if draft is None:
        return {"categories": current}
    offered = dict(current)
    filed = zip(draft.categories, categories.labels_for(draft), strict=True)
    return {"categories": current, "retired": [(c, lb) for c, lb in filed if c not in offered]}


def _form_page(form: DeviationForm, draft: Deviation | None) -> tuple[str, int]:
    status = 422 if form.errors else 200
    return render_template("html/deviations/form.html", form=form, draft=draft), status


def _after_save(outcome: deviations_service.Outcome, sent: bool) -> WerkzeugResponse:
    case_number = outcome.case_number  # read before the commit: no query to reload the report
    if not sent:
        flash("Utkastet är sparat. Bara du och din verksamhets chefer ser det.", "success")
    elif outcome.queued:
        flash(f"Avvikelsen är skickad med ärendenummer {case_number}.", "success")
    else:
        flash(
            f"Avvikelsen är sparad och skickad som ärende {case_number}. "
            "E-postaviseringarna går iväg automatiskt så snart kön är tillgänglig igen; "
            "du behöver inte göra något mer.",
            "success",
        )
    return redirect(url_for("deviations.show", deviation_id=outcome.deviation_id))


@bp.route("/avvikelser/<int:deviation_id>")
@login_required
def show(deviation_id: int) -> tuple[str, int]:
    deviation = get_allowed(Deviation, deviation_id, access.can_view)
    audit.record_now(current(), "deviation.viewed", "deviation", deviation.id)
    return show_page(deviation)


def show_page(
    deviation: Deviation, feedback_form: FeedbackForm | None = None, status: int = 200
) -> tuple[str, int]:
    """The report's page; `feedback_form` with its errors after a refused "Skicka
    återkoppling" (views/feedback), else an empty one when the user may give feedback."""
    user = current()
    can_feedback = access.can_edit(user, deviation) and feedback_service.can_give(deviation)
    if feedback_form is None and can_feedback:
        feedback_form = FeedbackForm(formdata=None)
    return render_template(
        "html/deviations/show.html",
        deviation=deviation,
        can_answer=deviation.state == rules.SKICKAD and access.can_answer(user, deviation),
        can_withdraw=rules.can(deviation.state, "withdraw") and access.can_edit(user, deviation),
        can_edit=deviation.state == rules.UTKAST and access.can_edit(user, deviation),
        overdue=is_case_overdue(deviation),
        feedback_form=feedback_form if can_feedback else None,
        can_supplement=access.can_answer(user, deviation)
        and feedback_service.can_supplement(deviation),
        **_measures(user, deviation),
    ), status


def _measures(user: User, deviation: Deviation) -> dict:
    """The closing's tracked measures, with a "Genomförd" form for each the user reports."""
    if deviation.closing is None:
        return {}
    found = measures_service.for_case(deviation.id)
    units = access.managed_unit_ids(user)
    forms = {
        m.id: MeasureDoneForm(prefix=f"m{m.id}")
        for m in found
        if m.state == measure_rules.OPEN and m.unit_id in units
    }
    return {"measures": found, "measure_forms": forms}


@bp.route("/avvikelser/<int:deviation_id>/skicka", methods=["POST"])
@login_required
def send(deviation_id: int) -> ResponseReturnValue:
    deviation = get_allowed(Deviation, deviation_id, access.can_edit)
    if deviation.state != rules.UTKAST:
        abort(409)
    if not deviation.receiving_unit.active:  # removed from the directory since the draft
        flash(
            "Mottagande verksamhet finns inte längre i katalogen. Välj en annan och skicka igen.",
            "error",
        )
        return redirect(url_for("deviations.edit", deviation_id=deviation.id))
    try:
        outcome = deviations_service.send_draft(current(), deviation)
    except GroupNotChosen:
        db.session.rollback()
        flash("BUS-grupp: välj vilken BUS-grupp rapporten gäller innan du skickar.", "error")
        return redirect(url_for("deviations.edit", deviation_id=deviation_id))
    return _after_save(outcome, True)


@bp.route("/avvikelser/<int:deviation_id>/aterkalla", methods=["POST"])
@login_required
def withdraw(deviation_id: int) -> WerkzeugResponse:
    deviation = get_allowed(Deviation, deviation_id, access.can_edit)
    if not rules.can(deviation.state, "withdraw"):
        flash("Avvikelsen är redan besvarad och kan inte återkallas.", "error")
    else:
        deviations_service.withdraw(deviation, current())
        flash("Avvikelsen är återkallad.", "success")
    return redirect(url_for("deviations.show", deviation_id=deviation.id))


@bp.route("/avvikelser/<int:deviation_id>/svara", methods=["GET", "POST"])
@login_required
def answer(deviation_id: int) -> ResponseReturnValue:
    deviation = get_allowed(Deviation, deviation_id, access.can_answer)
    if deviation.state != rules.SKICKAD:
        flash("Avvikelsen kan inte besvaras i sitt nuvarande läge.", "info")
        return redirect(url_for("deviations.show", deviation_id=deviation.id))
    version = deviation.link_version  # what the check above saw
    form = AnswerForm()
    if request.method == "GET":
        form.responder_name.data = current().name
    elif form.validate_on_submit():
        try:
            deviations_service.answer(
                deviation, current(), form.to_input(), expected_version=version
            )
        except deviations_service.StaleVersion:
            return _changed_meanwhile()
        flash("Svaret är skickat.", "success")
        return redirect(url_for("deviations.show", deviation_id=deviation.id))
    forward = _forward_form(deviation)
    return render_template(
        "html/deviations/answer.html",
        deviation=deviation,
        form=form,
        forward_form=forward,
        forward_action=url_for("deviations.forward", deviation_id=deviation.id),
    ), (422 if form.errors else 200)


@bp.route("/avvikelser/<int:deviation_id>/vidarebefordra", methods=["POST"])
@login_required
def forward(deviation_id: int) -> ResponseReturnValue:
    deviation = get_allowed(Deviation, deviation_id, access.can_answer)
    version = deviation.link_version  # what the check above saw
    form = _forward_form(deviation)
    if deviation.state != rules.SKICKAD:
        abort(409)
    if not form.validate_on_submit():
        return render_template(
            "html/deviations/answer.html",
            deviation=deviation,
            form=AnswerForm(formdata=None),
            forward_form=form,
            forward_action=url_for("deviations.forward", deviation_id=deviation.id),
        ), 422
    to_unit = db.session.get_one(Unit, form.to_unit.data)  # one of the form's choices
    try:
        deviations_service.forward(
            deviation, current(), to_unit, given(form.reason.data), expected_version=version
        )
    except deviations_service.StaleVersion:
        return _changed_meanwhile()
    flash("Avvikelsen är vidareskickad till rätt verksamhet.", "success")
    return redirect(url_for("deviations.list_reports"))


def _forward_form(deviation: Deviation) -> ForwardForm:
    return ForwardForm(
        units=directory.active_units(),
        current_unit_id=deviation.receiving_unit_id,
        reporting_unit_id=deviation.reporting_unit_id,
    )


def _changed_meanwhile() -> WerkzeugResponse:
    """Another request answered, forwarded or withdrawn the report while this one was made."""
    flash(
        "Avvikelsen hann ändras medan du fyllde i formuläret (den har besvarats, skickats "
        "vidare eller återkallats). Det du skickade är inte sparat.",
        "error",
    )
    return redirect(url_for("deviations.list_reports"))  # the report may be another unit's now


@bp.route("/avvikelser/<int:deviation_id>/avvikelse.docx")
@login_required
def document(deviation_id: int) -> Response:
    deviation = get_allowed(Deviation, deviation_id, access.can_view)
    audit.record_now(current(), "deviation.downloaded", "deviation", deviation.id)
    name = f"{deviation.case_number or 'utkast-' + str(deviation.id)}.docx"
    return send_file(
        io.BytesIO(deviations_service.document(deviation)),
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        as_attachment=True,
        download_name=name,
    )


@bp.route("/avvikelser/<int:deviation_id>/bilagor/<int:attachment_id>")
@login_required
def attachment(deviation_id: int, attachment_id: int) -> Response:
    deviation = get_allowed(Deviation, deviation_id, access.can_view)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.deviation_id != deviation.id:
        abort(404)
    audit.record_now(current(), "attachment.downloaded", "attachment", item.id)
    return send_stored(item.file)
