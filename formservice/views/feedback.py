"""Chef A's "Återkoppling på svaret" and chef B's "Kompletterande svar", logged in or through
the e-mailed supplement link (issue 17)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from forms.feedback import FeedbackForm, SupplementForm

from .. import access
from ..auth import current
from ..extensions import db
from ..models import Attachment, Deviation
from ..services import audit
from ..services import deviations as deviations_service
from ..services import feedback as feedback_service
from ..tokens import LinkError, ResponderLink, read_supplement_token
from . import get_allowed
from .deviations import show_page
from .files import send_stored
from .respond import link_refusal

bp = Blueprint("feedback", __name__)

REFUSED_TEXTS = {
    "not_answered": "Avvikelsen är inte besvarad än, så det finns inget svar att återkoppla på.",
    "already_given": "Återkoppling på svaret är redan lämnad. Den kan bara lämnas en gång.",
    "closed": "Ärendet är avslutat eller återkallat och tar inte emot återkoppling.",
}
SUPPLEMENT_REFUSED = {
    "not_requested": "Ett kompletterande svar har inte begärts för avvikelsen.",
    "already_given": "Det kompletterande svaret är redan lämnat. Det kan bara lämnas en gång.",
    "closed": "Ärendet är avslutat eller återkallat och tar inte emot kompletterande svar.",
}
LINK_TEXTS = {
    "invalid": (
        "Länken är ogiltig. Kontrollera att du har kopierat hela länken från e-postmeddelandet."
    ),
    "expired": "Länken har gått ut.",
    "moved": "Länken gäller inte längre: ärendet har ändrats sedan länken skickades.",
    "removed": (
        "Länken gäller inte längre: mottagaren är inte längre chef eller ersättare för den "
        "mottagande verksamheten i BUS-katalogen."
    ),
    **SUPPLEMENT_REFUSED,
}


@bp.route("/avvikelser/<int:deviation_id>/aterkoppling", methods=["POST"])
@login_required
def give(deviation_id: int) -> Response | tuple[str, int]:
    """Chef A's side sends "Återkoppling på svaret" from the report's page."""
    deviation = get_allowed(Deviation, deviation_id, access.can_edit)
    back = redirect(url_for("deviations.show", deviation_id=deviation.id))
    if not feedback_service.can_give(deviation):
        flash(_refused_text(deviation), "error")
        return back
    form = FeedbackForm()
    if not form.validate_on_submit():
        return show_page(deviation, feedback_form=form, status=422)
    try:
        outcome = feedback_service.give(deviation, current(), form.to_input())
    except feedback_service.FeedbackRefused as refused:
        flash(REFUSED_TEXTS.get(refused.reason, REFUSED_TEXTS["already_given"]), "error")
        return back
    if form.verdict.data == "insufficient":
        text = "Återkopplingen är skickad. Den mottagande verksamheten ombeds komplettera svaret."
        flash(_queued(text, outcome.queued), "success")
    else:
        flash("Återkopplingen är sparad.", "success")
    return back


def _refused_text(deviation: Deviation) -> str:
    if deviation.answer is None:
        return REFUSED_TEXTS["not_answered"]
    if deviation.feedback is not None:
        return REFUSED_TEXTS["already_given"]
    return REFUSED_TEXTS["closed"]


def _queued(text: str, queued: bool) -> str:
    """The confirmation, and a calm word when the queue was away (mail goes out later)."""
    if queued:
        return text
    return text + " E-postaviseringarna går iväg automatiskt så snart kön är tillgänglig igen."


@bp.route("/avvikelser/<int:deviation_id>/komplettera", methods=["GET", "POST"])
@login_required
def supplement(deviation_id: int) -> Response | tuple[str, int]:
    """Chef B's side, logged in, gives the one supplementary answer."""
    deviation = get_allowed(Deviation, deviation_id, access.can_answer)
    back = redirect(url_for("deviations.show", deviation_id=deviation.id))
    if not feedback_service.can_supplement(deviation):
        flash(_supplement_refused_text(deviation), "info")
        return back
    version = deviation.link_version
    form = SupplementForm()
    if request.method == "GET":
        form.responder_name.data = current().name
    elif form.validate_on_submit():
        try:
            feedback_service.supplement(
                deviation, current(), form.to_input(), expected_version=version
            )
        except (feedback_service.FeedbackRefused, deviations_service.StaleVersion):
            flash(SUPPLEMENT_REFUSED["already_given"], "error")
            return back
        flash("Det kompletterande svaret är skickat.", "success")
        return back
    return _supplement_page(deviation, form, None)


def _supplement_refused_text(deviation: Deviation) -> str:
    if deviation.feedback is None or deviation.feedback.verdict != "insufficient":
        return SUPPLEMENT_REFUSED["not_requested"]
    if deviation.supplement is not None:
        return SUPPLEMENT_REFUSED["already_given"]
    return SUPPLEMENT_REFUSED["closed"]


def _supplement_page(
    deviation: Deviation, form: SupplementForm, token: str | None
) -> tuple[str, int]:
    page = render_template(
        "html/deviations/supplement.html",
        deviation=deviation,
        form=form,
        token=token,  # the report's attachments through the link, else the logged-in ones
        link_attachments="feedback.link_attachment",
    )
    return page, 422 if form.errors else 200


class StaleSupplementLink(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@bp.errorhandler(StaleSupplementLink)
def _stale(exc: StaleSupplementLink) -> tuple[str, int]:
    status = 400 if exc.reason == "invalid" else 410
    text = LINK_TEXTS[exc.reason]
    return render_template("html/respond/stale.html", text=text, reason=exc.reason), status


def _resolve(token: str) -> tuple[Deviation, ResponderLink]:
    """The report a supplement link is for, if it still takes the supplement from its
    recipient: the link's version is the report's (a supplement, or anything after the
    feedback, made it stale) and the recipient still manages the receiving unit."""
    try:
        link = read_supplement_token(token)
    except LinkError as exc:
        raise StaleSupplementLink(exc.reason) from exc
    deviation = db.session.get(Deviation, link.deviation_id)
    if deviation is None:
        raise StaleSupplementLink("invalid")
    if not feedback_service.can_supplement(deviation):
        raise StaleSupplementLink(_supplement_reason(deviation))
    refusal = link_refusal(deviation, link)
    if refusal:
        raise StaleSupplementLink(refusal)
    return deviation, link


def _supplement_reason(deviation: Deviation) -> str:
    if deviation.feedback is None or deviation.feedback.verdict != "insufficient":
        return "not_requested"
    return "already_given" if deviation.supplement is not None else "closed"


@bp.route("/komplettera/<token>", methods=["GET"])
def link_show(token: str) -> tuple[str, int]:
    """Opening the supplement link shows the report, answer, feedback and the form; it
    changes nothing but the audit log."""
    deviation, link = _resolve(token)
    audit.record_now(link.email, "deviation.viewed_by_supplement_link", "deviation", deviation.id)
    form = SupplementForm()
    chef = deviation.receiving_unit.chef
    if chef is not None and chef.email.lower() == link.email:
        form.responder_name.data = chef.name
    return _supplement_page(deviation, form, token)


@bp.route("/komplettera/<token>", methods=["POST"])
def link_submit(token: str) -> tuple[str, int]:
    """The supplement through the link; the link is dead afterwards."""
    deviation, link = _resolve(token)
    form = SupplementForm()
    if not form.validate_on_submit():
        return _supplement_page(deviation, form, token)
    try:
        feedback_service.supplement(
            deviation, link.email, form.to_input(), expected_version=link.version
        )
    except (feedback_service.FeedbackRefused, deviations_service.StaleVersion):
        db.session.rollback()
        raise StaleSupplementLink("already_given") from None
    page = render_template("html/respond/supplemented.html", deviation=deviation)
    return page, 200


@bp.route("/komplettera/<token>/bilagor/<int:attachment_id>")
def link_attachment(token: str, attachment_id: int) -> Response:
    """The report's attachment, for the supplement link's recipient while the link works."""
    deviation, link = _resolve(token)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.deviation_id != deviation.id:
        abort(404)
    audit.record_now(link.email, "attachment.downloaded_by_link", "attachment", item.id)
    return send_stored(item.file)
