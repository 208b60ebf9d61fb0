"""The steering group's pages: meetings, the cases they cover, closing cases, the evaluation."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.closing import ClosingForm
from forms.meeting import MeetingForm

from .. import access
from ..auth import leads_a_group
from ..domain import deviation as rules
from ..domain.meetings import ASSESSMENTS
from ..domain.statistics import Period, current_half, full_year, half_year, parse_period
from ..extensions import db
from ..models import BusGroup, Deviation, GroupMeeting, Unit, User
from ..services import closing as closing_service
from ..services import evaluation
from ..services import meetings as service
from .errors import render_error

bp = Blueprint("meetings", __name__)

PAST_HALF_YEARS = 6


def _user() -> User:
    return current_user._get_current_object()


def _secretary_of(group_id: str | None) -> bool:
    return group_id in access.secretary_group_ids(_user())


def _readable_group_ids() -> set[str]:
    user = _user()
    return access.secretary_group_ids(user) | access.convener_group_ids(user)


def _require_reader(group_id: str) -> None:
    if group_id not in _readable_group_ids():
        abort(403)


def _groups(ids: set[str]) -> list[BusGroup]:
    query = select(BusGroup).where(BusGroup.id.in_(ids)).order_by(BusGroup.name)
    return list(db.session.scalars(query))


@bp.app_context_processor
def _template_helpers() -> dict:
    return {
        "steering_group_nav": _steering_group_nav,
        "can_close_case": _can_close_case,
        "CLOSING_ASSESSMENTS": ASSESSMENTS,
    }


def _steering_group_nav() -> bool:
    """Show "Styrgrupp" to secretaries and conveners (known from loading the user)."""
    if not current_user.is_authenticated:
        return False
    return leads_a_group(current_user.id)  # known from loading the user: no query


def _can_close_case(deviation: Deviation) -> bool:
    if not current_user.is_authenticated or not closing_service.can_close(deviation):
        return False
    return _secretary_of(deviation.group_id)


@bp.route("/styrgrupp")
@login_required
def index():
    ids = _readable_group_ids()
    if not ids:
        abort(403)
    secretary_of = access.secretary_group_ids(_user())
    sections = [
        {
            "group": group,
            "overview": service.overview(group.id),
            "secretary": group.id in secretary_of,
        }
        for group in _groups(ids)
    ]
    return render_template("html/meetings/index.html", sections=sections, count_cases=_count_cases)


def _count_cases(meeting: GroupMeeting) -> int:
    return len(service.cases_for_meeting(meeting))


@bp.route("/styrgrupp/<group_id>/nytt-mote", methods=["GET", "POST"])
@login_required
def plan(group_id: str):
    if not _secretary_of(group_id):
        abort(403)
    group = db.session.get(BusGroup, group_id) or abort(404)
    form = MeetingForm()
    if request.method == "GET":
        form.meeting_date.data = _suggested(request.args.get("datum"))
    elif form.validate_on_submit():
        try:
            meeting = service.plan(_user(), group.id, form.meeting_date.data, form.place.data or "")
        except service.MeetingExists:
            form.refuse_date()
        else:
            flash(f"Mötet {meeting.meeting_date.isoformat()} är planerat.", "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    page = render_template("html/meetings/plan.html", form=form, group=group)
    return page, (422 if form.errors else 200)


def _suggested(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.route("/styrgrupp/moten/<int:meeting_id>")
@login_required
def show(meeting_id: int):
    meeting = db.session.get(GroupMeeting, meeting_id) or abort(404)
    _require_reader(meeting.group_id)
    cases = service.cases_for_meeting(meeting)
    today = service.today()
    return render_template(
        "html/meetings/show.html",
        meeting=meeting,
        by_state=_by_state(cases),
        total=len(cases),
        previous=service.previous_meeting(meeting),
        is_secretary=_secretary_of(meeting.group_id),
        overdue=lambda d: service.is_case_overdue(d, today),
        can_close=closing_service.can_close,
    )


def _by_state(cases: list[Deviation]) -> list[tuple[str, list[Deviation]]]:
    states = sorted({d.state for d in cases}, key=service.STATE_ORDER.__getitem__)
    return [(state, [d for d in cases if d.state == state]) for state in states]


@bp.route("/avvikelser/<int:deviation_id>/avsluta", methods=["GET", "POST"])
@login_required
def close_case(deviation_id: int):
    deviation = db.session.get(Deviation, deviation_id) or abort(404)
    if not _secretary_of(deviation.group_id):
        abort(403)
    if not closing_service.can_close(deviation):
        return _not_closable(deviation)
    meetings = service.held_meetings(deviation.group_id)
    form = ClosingForm(meetings=meetings, units=_units())
    if request.method == "GET":
        form.meeting.data = _default_meeting(deviation, meetings)
    elif form.validate_on_submit():
        return _close(deviation, form)
    return _closing_page(deviation, form, meetings)


def _close(deviation: Deviation, form: ClosingForm):
    try:
        closing_service.close(deviation, _user(), form.to_input())
    except rules.TransitionError:
        return _not_closable(deviation)
    flash(f"Ärende {deviation.case_number} är avslutat. Verksamheterna får besked.", "success")
    return redirect(url_for("deviations.show", deviation_id=deviation.id))


def _not_closable(deviation: Deviation):
    if request.method == "GET":
        flash("Ärendet kan inte avslutas i sitt nuvarande läge.", "info")
        return redirect(url_for("deviations.show", deviation_id=deviation.id))
    if deviation.state == rules.AVSLUTAD:
        return render_error(409, f"Ärende {deviation.case_number} är redan avslutat.")
    return render_error(409, "Ärendet kan inte avslutas i sitt nuvarande läge.")


def _closing_page(deviation: Deviation, form: ClosingForm, meetings: list[GroupMeeting]):
    page = render_template(
        "html/meetings/close.html",
        deviation=deviation,
        form=form,
        meetings=meetings,
        overdue=service.is_case_overdue(deviation),
    )
    return page, (422 if form.errors else 200)


def _units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)))


def _default_meeting(deviation: Deviation, meetings: list[GroupMeeting]) -> str:
    ids = [m.id for m in meetings]
    if deviation.agenda_meeting_id in ids:
        return str(deviation.agenda_meeting_id)
    return str(ids[0]) if ids else ""


@bp.route("/styrgrupp/utvardering")
@login_required
def evaluate():
    groups = _groups(_readable_group_ids())
    if not groups:
        abort(403)
    group = _chosen_group(groups, request.args.get("grupp"))
    today = service.today()
    asked = request.args.get("period", "").strip()
    period = parse_period(asked) or current_half(today)
    rows = evaluation.evaluate(group.id, period, today)
    return render_template(
        "html/meetings/evaluation.html",
        groups=groups,
        group=group,
        period=period,
        period_code=_code(period),
        periods=_period_choices(today, period),
        unknown_period=bool(asked) and parse_period(asked) is None,
        rows=rows,
        totals=evaluation.totals(rows),
        ASSESSMENTS=ASSESSMENTS,
    )


def _chosen_group(groups: list[BusGroup], group_id: str | None) -> BusGroup:
    if not group_id:
        return groups[0]
    chosen = [group for group in groups if group.id == group_id]
    if not chosen:
        abort(403)
    return chosen[0]


def _code(period: Period) -> str:
    """The period's value in the chooser: 2026H1, 2026H2 or 2026."""
    if period.start.month == 1 and period.end.month == 12:
        return str(period.start.year)
    return f"{period.start.year}H{1 if period.start.month == 1 else 2}"


def _period_choices(today: date, chosen: Period) -> list[tuple[str, str]]:
    year, half = today.year, 1 if today.month <= 6 else 2
    periods = []
    for _ in range(PAST_HALF_YEARS):
        periods.append(half_year(year, half))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    periods += [full_year(today.year), full_year(today.year - 1)]
    if chosen not in periods:
        periods.insert(0, chosen)
    return [(_code(p), p.label) for p in periods]
