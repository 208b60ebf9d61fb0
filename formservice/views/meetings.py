"""The steering group's pages: meetings, the cases they cover, closing cases, the evaluation."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import select

from forms.closing import ClosingForm
from forms.fields import given
from forms.lists import GroupFilterForm, PeriodFilterForm
from forms.meeting import MeetingForm

from .. import access, clock
from ..auth import current
from ..domain import deviation as rules
from ..domain.statistics import current_half, parse_period, period_choices, period_code
from ..extensions import db
from ..models import BusGroup, Deviation, GroupMeeting
from ..services import calendar, directory, evaluation, lists
from ..services import closing as closing_service
from ..services import meetings as meetings_service
from . import ics_response
from .errors import render_error

bp = Blueprint("meetings", __name__)


def _secretary_of(group_id: str | None) -> bool:
    return group_id in access.secretary_group_ids(current())


def _readable_group_ids() -> set[str]:
    user = current()
    return access.secretary_group_ids(user) | access.convener_group_ids(user)


def _require_reader(group_id: str) -> None:
    if group_id not in _readable_group_ids():
        abort(403)


def _groups() -> list[BusGroup]:
    """The groups of `_readable_group_ids()`, by name."""
    readable = BusGroup.id.in_(access.led_groups(current()))
    query = select(BusGroup).where(readable).order_by(BusGroup.name, BusGroup.id)
    return list(db.session.scalars(query))


@bp.route("/styrgrupp")
@login_required
def index() -> tuple[str, int]:
    """Each group's coming and latest meetings, ten groups a page ("BUS-grupp" picks one)."""
    ids = _readable_group_ids()
    if not ids:
        abort(403)
    readable = _groups()
    groups = [(g.id, g.name) for g in readable] if len(ids) > 1 else []
    form = GroupFilterForm(request.args, groups=groups)
    page = lists.groups_page(readable, form.group_id(), lists.page_number(request.args.get("sida")))
    secretary_of = access.secretary_group_ids(current())
    overviews = meetings_service.overviews({g.id: g.meetings_per_term for g in page.rows})
    sections = []
    for group in page.rows:
        overview = overviews[group.id]
        counts = {m.id: meetings_service.count_cases(m) for m in overview.upcoming}
        sections.append(
            {
                "group": group,
                "overview": overview,
                "secretary": group.id in secretary_of,
                "counts": counts,
            }
        )
    args: dict[str, Any] = {"grupp": form.group_id()} if form.group_id() else {}
    html = render_template(
        "html/meetings/index.html",
        sections=sections,
        form=form,
        page=page,
        page_url=lambda number, after=None: url_for("meetings.index", **args, sida=number),
    )
    return html, 200 if form.valid else 422


@bp.route("/styrgrupp/<group_id>/moten")
@login_required
def all_meetings(group_id: str) -> tuple[str, int]:
    """Every meeting of the group with its latest digest, 50 a page, filtered by period."""
    _require_reader(group_id)
    group = db.session.get(BusGroup, group_id) or abort(404)
    form = PeriodFilterForm(request.args)
    number = lists.page_number(request.args.get("sida"))
    page = lists.meetings_page(group_id, form.to_filter(), number, request.args.get("efter"))
    args = form.query_args()
    html = render_template(
        "html/meetings/list.html",
        group=group,
        form=form,
        page=page,
        page_url=lambda n, after=None: url_for(
            "meetings.all_meetings", group_id=group_id, **args, sida=n, efter=after
        ),
    )
    return html, 200 if form.valid else 422


@bp.route("/styrgrupp/<group_id>/nytt-mote", methods=["GET", "POST"])
@login_required
def plan(group_id: str) -> ResponseReturnValue:
    if not _secretary_of(group_id):
        abort(403)
    group = db.session.get(BusGroup, group_id) or abort(404)
    form = MeetingForm()
    if request.method == "GET":
        form.meeting_date.data = _suggested(request.args.get("datum"))
    elif form.validate_on_submit():
        try:
            place = form.place.data or ""
            start = form.start_time.data
            meeting = meetings_service.plan(
                current(), group.id, given(form.meeting_date.data), place, start
            )
        except meetings_service.MeetingExists:
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
def show(meeting_id: int) -> str:
    meeting = db.session.get(GroupMeeting, meeting_id) or abort(404)
    _require_reader(meeting.group_id)
    cases = meetings_service.cases_for_meeting(meeting)
    return render_template(
        "html/meetings/show.html",
        meeting=meeting,
        by_state=_by_state(cases),
        total=len(cases),
        previous=meetings_service.previous_meeting(meeting),
        is_secretary=_secretary_of(meeting.group_id),
        can_change=meetings_service.can_change(meeting),
        closable={d.id for d in cases if closing_service.can_close(d)},
    )


@bp.route("/styrgrupp/moten/<int:meeting_id>/andra", methods=["GET", "POST"])
@login_required
def change(meeting_id: int) -> ResponseReturnValue:
    meeting = _own_meeting(meeting_id)
    if not meetings_service.can_change(meeting):
        flash("Mötet kan inte längre ändras.", "info")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    form = MeetingForm(obj=meeting if request.method == "GET" else None)
    form.submit.label.text = "Spara ändringen"
    if form.validate_on_submit():
        try:
            changed = meetings_service.change(
                current(),
                meeting,
                given(form.meeting_date.data),
                form.start_time.data,
                form.place.data or "",
            )
        except meetings_service.MeetingExists:
            form.refuse_date()
        else:
            text = "Mötet är ändrat. Kallelsen med den nya tiden skickas." if changed else None
            flash(text or "Inget ändrades.", "success" if changed else "info")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    page = render_template("html/meetings/change.html", form=form, meeting=meeting)
    return page, (422 if form.errors else 200)


@bp.route("/styrgrupp/moten/<int:meeting_id>/stall-in", methods=["POST"])
@login_required
def cancel(meeting_id: int) -> ResponseReturnValue:
    meeting = _own_meeting(meeting_id)
    try:
        meetings_service.cancel(current(), meeting)
    except meetings_service.NotChangeable:
        return render_error(409, "Mötet kan inte ställas in: det är redan inställt eller hållet.")
    flash("Mötet är inställt. De som fått kallelsen får besked.", "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.route("/styrgrupp/moten/<int:meeting_id>/kalender.ics")
@login_required
def calendar_file(meeting_id: int) -> ResponseReturnValue:
    meeting = db.session.get(GroupMeeting, meeting_id) or abort(404)
    _require_reader(meeting.group_id)
    if meeting.cancelled_at is not None:
        abort(404)
    return ics_response(calendar.download(calendar.steering_event(meeting)))


def _own_meeting(meeting_id: int) -> GroupMeeting:
    """The meeting, for its group's secretary only."""
    meeting = db.session.get(GroupMeeting, meeting_id) or abort(404)
    if not _secretary_of(meeting.group_id):
        abort(403)
    return meeting


def _by_state(cases: list[Deviation]) -> list[tuple[str, list[Deviation]]]:
    states = sorted({d.state for d in cases}, key=meetings_service.STATE_ORDER.__getitem__)
    return [(state, [d for d in cases if d.state == state]) for state in states]


@bp.route("/avvikelser/<int:deviation_id>/avsluta", methods=["GET", "POST"])
@login_required
def close_case(deviation_id: int) -> ResponseReturnValue:
    deviation = db.session.get(Deviation, deviation_id) or abort(404)
    if not _secretary_of(deviation.group_id):
        abort(403)
    if not closing_service.can_close(deviation):
        return _not_closable(deviation)
    group_id = deviation.group_id  # a case without a group has had no meeting
    meetings = meetings_service.held_meetings(group_id) if group_id else []
    form = ClosingForm(meetings=meetings, units=directory.active_units())
    if request.method == "GET":
        form.meeting.data = _default_meeting(deviation, meetings)
    elif form.validate_on_submit():
        return _close(deviation, form)
    return _closing_page(deviation, form, meetings)


def _close(deviation: Deviation, form: ClosingForm) -> ResponseReturnValue:
    try:
        closing_service.close(deviation, current(), form.to_input())
    except rules.TransitionError:
        return _not_closable(deviation)
    flash(f"Ärende {deviation.case_number} är avslutat. Verksamheterna får besked.", "success")
    return redirect(url_for("deviations.show", deviation_id=deviation.id))


def _not_closable(deviation: Deviation) -> ResponseReturnValue:
    if request.method == "GET":
        flash("Ärendet kan inte avslutas i sitt nuvarande läge.", "info")
        return redirect(url_for("deviations.show", deviation_id=deviation.id))
    if deviation.state == rules.AVSLUTAD:
        return render_error(409, f"Ärende {deviation.case_number} är redan avslutat.")
    return render_error(409, "Ärendet kan inte avslutas i sitt nuvarande läge.")


def _closing_page(
    deviation: Deviation, form: ClosingForm, meetings: list[GroupMeeting]
) -> ResponseReturnValue:
    page = render_template(
        "html/meetings/close.html",
        deviation=deviation,
        form=form,
        meetings=meetings,
        overdue=meetings_service.is_case_overdue(deviation),
    )
    return page, (422 if form.errors else 200)


def _default_meeting(deviation: Deviation, meetings: list[GroupMeeting]) -> str:
    ids = [m.id for m in meetings]
    if deviation.agenda_meeting_id in ids:
        return str(deviation.agenda_meeting_id)
    return str(ids[0]) if ids else ""


@bp.route("/styrgrupp/utvardering")
@login_required
def evaluate() -> str:
    groups = _groups()
    if not groups:
        abort(403)
    group = _chosen_group(groups, request.args.get("grupp"))
    today = clock.today()
    asked = request.args.get("period", "").strip()
    period = parse_period(asked) or current_half(today)
    rows = evaluation.evaluate(group.id, period, today)
    return render_template(
        "html/meetings/evaluation.html",
        groups=groups,
        group=group,
        period=period,
        period_code=period_code(period),
        periods=period_choices(today, period),
        unknown_period=bool(asked) and parse_period(asked) is None,
        rows=rows,
        totals=evaluation.totals(rows),
        measures=evaluation.measure_follow_up(group.id, period, today),
    )


def _chosen_group(groups: list[BusGroup], group_id: str | None) -> BusGroup:
    if not group_id:
        return groups[0]
    chosen = [group for group in groups if group.id == group_id]
    if not chosen:
        abort(403)
    return chosen[0]
