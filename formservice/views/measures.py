"""Decided measures: the responsible unit reports them "Genomförd", logged in or by link."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from forms.measure import MeasureDoneForm

from .. import access
from ..auth import current
from ..domain import measures as measure_rules
from ..extensions import db
from ..models import Measure
from ..services import audit
from ..services import measures as measures_service
from ..tokens import LinkError, MeasureLink, read_measure_token
from . import get_allowed
from .errors import render_error

bp = Blueprint("measures", __name__)

STALE_TEXTS = {
    "invalid": (
        "Länken är ogiltig. Kontrollera att du har kopierat hela länken från e-postmeddelandet."
    ),
    "expired": "Länken har gått ut.",
    "done": "Åtgärden är redan rapporterad som genomförd. Tack!",
    "removed": (
        "Länken gäller inte längre: mottagaren är inte längre chef eller ersättare för den "
        "ansvariga verksamheten i BUS-katalogen."
    ),
}
ALREADY_DONE = "Åtgärden är redan rapporterad som genomförd."
#: Where a report made from a list or a case page returns to (the hidden field "tillbaka").
BACK = {"lista": "list", "arende": "case"}


def _form(measure: Measure, **kwargs: object) -> MeasureDoneForm:
    """The form of one measure; prefixed, so a page may hold one per measure."""
    return MeasureDoneForm(prefix=f"m{measure.id}", **kwargs)


@bp.route("/atgarder")
@login_required
def index() -> ResponseReturnValue:
    """The measures of the units the user is chef or deputy of."""
    units = access.managed_unit_ids(current())
    if not units:
        abort(403)
    rows = measures_service.for_units(units)
    forms = {x.measure.id: _form(x.measure) for x in rows if x.measure.state == measure_rules.OPEN}
    return render_template("html/measures/index.html", rows=rows, forms=forms)


@bp.route("/atgarder/<int:measure_id>", methods=["GET"])
@login_required
def show(measure_id: int) -> ResponseReturnValue:
    """One measure; the form for its unit's chef and deputies while it is open."""
    measure = get_allowed(Measure, measure_id, access.can_view_measure)
    return _page(measure, _form(measure))


def _page(
    measure: Measure, form: MeasureDoneForm | None, status: int = 200, **extra: object
) -> ResponseReturnValue:
    """The measure's page; the form only while it is open and the viewer may report it."""
    reportable = measure.state == measure_rules.OPEN and (
        "token" in extra or access.can_report_measure(current(), measure)
    )
    return render_template(
        "html/measures/show.html",
        measure=measure,
        case_number=measures_service.case_number(measure),
        form=form if reportable else None,
        **extra,
    ), status


@bp.route("/atgarder/<int:measure_id>", methods=["POST"])
@login_required
def report(measure_id: int) -> ResponseReturnValue:
    """ "Genomförd" from the list, the case page or the measure's own page."""
    measure = get_allowed(Measure, measure_id, access.can_report_measure)
    if measure.state != measure_rules.OPEN:
        return render_error(409, ALREADY_DONE)
    form = _form(measure)
    if not form.validate_on_submit():
        return _page(measure, form, 422)
    try:
        measures_service.report_done(measure, current(), form.text())
    except measure_rules.MeasureStateError:
        return render_error(409, ALREADY_DONE)
    flash("Åtgärden är rapporterad som genomförd.", "success")
    return redirect(_back(measure))


def _back(measure: Measure) -> str:
    """Where a report returns: the list, the case page or the measure's page."""
    if BACK.get(request.form.get("tillbaka", "")) == "case":
        return url_for("deviations.show", deviation_id=measure.deviation_id) + "#atgarder"
    if BACK.get(request.form.get("tillbaka", "")) == "list":
        return url_for("measures.index")
    return url_for("measures.show", measure_id=measure.id)


# --- by link ---------------------------------------------------------------------------------


class StaleLink(Exception):
    """The measure link cannot be used; `reason` is a key of STALE_TEXTS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@bp.errorhandler(StaleLink)
def _stale(exc: StaleLink) -> ResponseReturnValue:
    """The link's page when it cannot be used: 400 for a broken link, else 410."""
    status = 400 if exc.reason == "invalid" else 410
    return render_template("html/respond/stale.html", text=STALE_TEXTS[exc.reason]), status


def _resolve(token: str) -> tuple[Measure, MeasureLink]:
    """The measure the link is for, if it can still be reported through it."""
    try:
        link = read_measure_token(token)
    except LinkError as exc:
        raise StaleLink(exc.reason) from exc
    measure = db.session.get(Measure, link.measure_id)
    if measure is None:
        raise StaleLink("invalid")
    if measure.state != measure_rules.OPEN:
        raise StaleLink("done")
    if not measures_service.responsible(measure, link.email):
        raise StaleLink("removed")
    return measure, link


@bp.route("/atgard/<token>", methods=["GET"])
def by_link(token: str) -> ResponseReturnValue:
    """Opening the link shows the measure and the form; it changes nothing but the log."""
    measure, link = _resolve(token)
    audit.record_now(link.email, "measure.viewed_by_link", "measure", measure.id)
    return _page(measure, _form(measure), token=token)


@bp.route("/atgard/<token>", methods=["POST"])
def report_by_link(token: str) -> ResponseReturnValue:
    """ "Genomförd" through the link, once."""
    measure, link = _resolve(token)
    form = _form(measure)
    if not form.validate_on_submit():
        return _page(measure, form, 422, token=token)
    try:
        measures_service.report_done(measure, link.email, form.text())
    except measure_rules.MeasureStateError:
        raise StaleLink("done") from None
    return render_template("html/measures/thanks.html"), 200
