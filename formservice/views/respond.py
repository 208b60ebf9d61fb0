"""Chef B answers through the e-mailed link, without an account (SPEC §7 links)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from forms.answer import AnswerForm
from forms.deviation import ForwardForm
from forms.fields import given

from ..domain import deviation as rules
from ..extensions import db
from ..models import Attachment, Deviation, Unit
from ..services import audit, directory
from ..services import deviations as deviations_service
from ..tokens import LinkError, ResponderLink, read_token
from .auth import RESUME
from .files import send_stored

bp = Blueprint("respond", __name__, url_prefix="/svara")

STALE_TEXTS = {
    "invalid": (
        "Länken är ogiltig. Kontrollera att du har kopierat hela länken från e-postmeddelandet."
    ),
    "expired": "Länken har gått ut.",
    "answered": "Avvikelsen är redan besvarad. Tack för ditt svar!",
    "withdrawn": "Avvikelsen har återkallats av den rapporterande verksamheten.",
    "moved": "Länken gäller inte längre: avvikelsen har skickats vidare eller ändrats.",
    "removed": (
        "Länken gäller inte längre: mottagaren är inte längre chef eller ersättare för den "
        "mottagande verksamheten i BUS-katalogen."
    ),
    "closed": "Avvikelsen är redan behandlad och kan inte besvaras via länken.",
    "other_person": (
        "Länken är skickad till en annan person än den som är inloggad. Logga ut och logga "
        "in med det konto som länken skickades till."
    ),
}


class StaleLink(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@bp.errorhandler(StaleLink)
def _stale(exc: StaleLink) -> tuple[str, int]:
    status = {"invalid": 400, "other_person": 403}.get(exc.reason, 410)
    return render_template(
        "html/respond/stale.html", text=STALE_TEXTS[exc.reason], reason=exc.reason
    ), status


@bp.before_request
def _sign_on_first() -> ResponseReturnValue | None:
    """With FORMSERVICE_RESPONDER_LOGIN=required a link asks for login first, and comes
    back here after it (kept in the session: no token in a query string)."""
    if current_app.config["FORMSERVICE_RESPONDER_LOGIN"] != "required":
        return None
    if current_user.is_authenticated:
        return None
    session[RESUME] = request.path
    flash("Logga in för att öppna länken.", "info")
    return redirect(url_for("auth.login"))


def _check_person(link: ResponderLink) -> None:
    """With FORMSERVICE_RESPONDER_LOGIN=required, the link is only for the person it was
    sent to."""
    if current_app.config["FORMSERVICE_RESPONDER_LOGIN"] != "required":
        return
    if current_user.email.strip().lower() != link.email:
        raise StaleLink("other_person")


def _resolve(token: str) -> tuple[Deviation, ResponderLink]:
    """The report the link is for, if the link is still good for answering it."""
    try:
        link = read_token(token)
    except LinkError as exc:
        raise StaleLink(exc.reason) from exc
    _check_person(link)
    deviation = db.session.get(Deviation, link.deviation_id)
    if deviation is None:
        raise StaleLink("invalid")
    _check_state(deviation)
    refusal = link_refusal(deviation, link)
    if refusal:
        raise StaleLink(refusal)
    return deviation, link


def link_refusal(deviation: Deviation, link: ResponderLink) -> str | None:
    """Why a signed link to the report no longer holds ("moved": the report's link version
    changed; "removed": the recipient no longer manages the receiving unit), or None."""
    if link.version != deviation.link_version:
        return "moved"
    managers = {m.email.lower() for m in deviation.receiving_unit.managers()}  # active only
    return None if link.email in managers else "removed"


def _check_state(deviation: Deviation) -> None:
    if deviation.state == rules.ATERKALLAD:
        raise StaleLink("withdrawn")
    if deviation.state != rules.SKICKAD:
        raise StaleLink("answered" if deviation.state == rules.BESVARAD else "closed")


def _changed_meanwhile(deviation: Deviation) -> StaleLink:
    """What to say when another request answered, forwarded or withdrawn the report between
    this request's check of the link and its change (services' StaleVersion)."""
    db.session.refresh(deviation)
    try:
        _check_state(deviation)
    except StaleLink as exc:
        return exc
    return StaleLink("moved")


def _page(
    token: str, deviation: Deviation, form: AnswerForm, forward: ForwardForm, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "html/deviations/answer.html",
        deviation=deviation,
        form=form,
        forward_form=forward,
        forward_action=url_for("respond.forward", token=token),
        token=token,
    ), status


@bp.route("/<token>", methods=["GET"])
def show(token: str) -> ResponseReturnValue:
    """Opening the link shows the report and the form; it changes nothing but the audit log."""
    deviation, link = _resolve(token)
    audit.record_now(link.email, "deviation.viewed_by_link", "deviation", deviation.id)
    form = AnswerForm()
    chef = deviation.receiving_unit.chef
    if chef is not None and chef.email.lower() == link.email:
        form.responder_name.data = chef.name
    return _page(token, deviation, form, _forward_form(deviation))


def _forward_form(deviation: Deviation, **kwargs: Any) -> ForwardForm:
    return ForwardForm(
        units=directory.active_units(),
        current_unit_id=deviation.receiving_unit_id,
        reporting_unit_id=deviation.reporting_unit_id,
        **kwargs,
    )


@bp.route("/<token>", methods=["POST"])
def submit(token: str) -> ResponseReturnValue:
    deviation, link = _resolve(token)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _page(token, deviation, form, _forward_form(deviation, formdata=None), 422)
    try:
        deviations_service.answer(
            deviation, link.email, form.to_input(), expected_version=link.version
        )
    except deviations_service.StaleVersion:
        raise _changed_meanwhile(deviation) from None
    return render_template("html/respond/thanks.html", deviation=deviation)


@bp.route("/<token>/vidare", methods=["POST"])
def forward(token: str) -> ResponseReturnValue:
    deviation, link = _resolve(token)
    form = _forward_form(deviation)
    if not form.validate_on_submit():
        return _page(token, deviation, AnswerForm(formdata=None), form, 422)
    to_unit = db.session.get_one(Unit, form.to_unit.data)  # one of the form's choices
    try:
        deviations_service.forward(
            deviation, link.email, to_unit, given(form.reason.data), expected_version=link.version
        )
    except deviations_service.StaleVersion:
        raise _changed_meanwhile(deviation) from None
    return render_template("html/respond/forwarded.html", deviation=deviation, unit=to_unit)


@bp.route("/<token>/bilagor/<int:attachment_id>")
def attachment(token: str, attachment_id: int) -> Response:
    deviation, link = _resolve(token)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.deviation_id != deviation.id:
        abort(404)
    audit.record_now(link.email, "attachment.downloaded_by_link", "attachment", item.id)
    return send_stored(item.file)
