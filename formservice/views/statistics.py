"""Statistics for the steering group and the BUS-sekretariat: pages, charts, CSV (SPEC §6).

The group's secretary and convener see their group's exact figures. The BUS-sekretariat sees
any group and all groups together, always with small counts shown as "<3". A CSV leaves the
local group, so it is always suppressed, and every download is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from forms.fields import given
from forms.statistics import FIRST_YEAR, LAST_YEAR, StatisticsForm, YearForm

from .. import access, clock
from ..auth import current
from ..documents import statistics_csv
from ..domain.statistics import Period, period_code
from ..extensions import db
from ..models import BusGroup
from ..services import audit
from ..services import statistics_report as reports
from .errors import render_error

bp = Blueprint("statistics", __name__)

ALL = "alla"
ALL_LABEL = "Alla grupper"


@dataclass(frozen=True)
class Reader:
    """What the user may see: exact figures for `exact`, suppressed ones for the rest."""

    exact: frozenset[str]
    secretariat: bool
    choices: list[tuple[str, str]]

    def may_read(self, group: str) -> bool:
        return group in {value for value, _ in self.choices}

    def label(self, group: str) -> str:
        return dict(self.choices).get(group, group)


def _reader() -> Reader:
    """The user's groups; 403 for anyone who is neither secretary, convener nor secretariat."""
    user = current()
    exact = access.secretary_group_ids(user) | access.convener_group_ids(user)
    query = select(BusGroup.id, BusGroup.name).order_by(BusGroup.name)
    if not user.is_secretariat:
        query = query.where(BusGroup.id.in_(exact))
    choices = [(gid, name) for gid, name in db.session.execute(query)]
    if user.is_secretariat:
        choices.insert(0, (ALL, ALL_LABEL))
    if not choices:
        abort(403)
    return Reader(frozenset(exact), user.is_secretariat, choices)


def _guard(reader: Reader, asked: str | None) -> None:
    """Another group's id (or "alla" without being the secretariat) is refused with 403;
    an id that is no group at all is left to the form, which names the field."""
    if not asked or reader.may_read(asked):
        return
    if asked == ALL or db.session.get(BusGroup, asked) is not None:
        abort(403)


def _group_id(group: str) -> str | None:
    return None if group == ALL else group


def _threshold_for(reader: Reader, group: str) -> int | None:
    return None if group in reader.exact else reports.threshold()


def _shown(report: dict, threshold: int | None) -> dict:
    return report if threshold is None else reports.suppressed(report, threshold)


# --- one period ---------------------------------------------------------------------------


def _period_form(reader: Reader) -> StatisticsForm:
    _guard(reader, request.args.get("grupp"))
    return StatisticsForm(request.args, groups=reader.choices, today=clock.today())


@bp.route("/statistik")
@login_required
def index() -> ResponseReturnValue:
    reader = _reader()
    form = _period_form(reader)
    if not form.validate():
        return _page(reader, form, None), 422
    group = form.grupp.data
    report = reports.group_report(_group_id(group), given(form.chosen))
    return _page(reader, form, _shown(report, _threshold_for(reader, group)))


def _page(reader: Reader, form: StatisticsForm, report: dict | None) -> str:
    return render_template(
        "html/statistics/index.html",
        form=form,
        report=report,
        group_label=reader.label(form.grupp.data),
        csv_url=_csv_url(form),
        yearly_url=_yearly_url(form),
    )


def _period_args(form: StatisticsForm) -> dict:
    period: Period | None = form.chosen
    if period is None:
        return {"grupp": form.grupp.data}
    code = period_code(period)
    if code is not None:
        return {"grupp": form.grupp.data, "period": code}
    return {
        "grupp": form.grupp.data,
        "fran": period.start.isoformat(),
        "till": period.end.isoformat(),
    }


def _csv_url(form: StatisticsForm) -> str:
    return url_for("statistics.export", **_period_args(form))


def _yearly_url(form: StatisticsForm) -> str | None:
    if form.chosen is None:
        return None
    return url_for("statistics.yearly", year=form.chosen.start.year, grupp=form.grupp.data)


@bp.route("/statistik.csv")
@login_required
def export() -> ResponseReturnValue:
    reader = _reader()
    form = _period_form(reader)
    if not form.validate():
        return _page(reader, form, None), 422
    group, period = form.grupp.data, given(form.chosen)
    report = reports.suppressed(reports.group_report(_group_id(group), period), reports.threshold())
    rows = statistics_csv.period_rows(reader.label(group), report)
    name = f"statistik-{group}-{_period_args(form).get('period') or _range(period)}.csv"
    return _download(
        statistics_csv.to_csv(statistics_csv.HEADER, rows), name, "period", group, period.label
    )


def _range(period: Period) -> str:
    return f"{period.start.isoformat()}_{period.end.isoformat()}"


def _download(data: bytes, name: str, kind: str, group: str, period: str) -> Response:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    user = current()
    audit.record_now(
        user, "statistics.exported", "statistics", name, kind=kind, group=group, period=period
    )
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- the year -----------------------------------------------------------------------------


def _year_form(reader: Reader, year: str | None) -> YearForm:
    _guard(reader, request.args.get("grupp"))
    data = MultiDict(request.args)
    if year is not None:
        data["ar"] = year
    return YearForm(data, groups=reader.choices)


@bp.route("/statistik/ar")
@login_required
def choose_year() -> ResponseReturnValue:
    reader = _reader()
    form = _year_form(reader, request.args.get("ar", ""))
    if not form.validate():
        return _yearly_page(reader, form, None), 422
    return redirect(url_for("statistics.yearly", year=form.year, grupp=form.grupp.data))


@bp.route("/statistik/ar/<int:year>")
@login_required
def yearly(year: int) -> ResponseReturnValue:
    reader = _reader()
    form = _year_form(reader, str(year))
    if not form.validate():
        return _yearly_page(reader, form, None), 422
    group = form.grupp.data
    report = reports.yearly_report(_group_id(group), year)
    return _yearly_page(reader, form, _shown(report, _threshold_for(reader, group)))


def _yearly_page(reader: Reader, form: YearForm, report: dict | None) -> str:
    valid = report is not None
    return render_template(
        "html/statistics/yearly.html",
        form=form,
        report=report,
        group_label=reader.label(form.grupp.data),
        csv_url=url_for("statistics.yearly_csv", year=form.year, grupp=form.grupp.data)
        if valid
        else None,
        all_url=url_for("statistics.compilation", year=form.year)
        if valid and reader.secretariat
        else None,
    )


@bp.route("/statistik/ar/<int:year>.csv")
@login_required
def yearly_csv(year: int) -> ResponseReturnValue:
    reader = _reader()
    form = _year_form(reader, str(year))
    if not form.validate():
        return _yearly_page(reader, form, None), 422
    group = form.grupp.data
    report = reports.suppressed(reports.yearly_report(_group_id(group), year), reports.threshold())
    rows = statistics_csv.yearly_rows(reader.label(group), report)
    name = f"arsuppfoljning-{group}-{year}.csv"
    return _download(
        statistics_csv.to_csv(statistics_csv.HEADER, rows), name, "yearly", group, str(year)
    )


# --- the BUS-sekretariat's compilation ----------------------------------------------------


def _compilation(year: int) -> dict | None:
    """The suppressed compilation; None for a year out of range. Secretariat only."""
    if not current().is_secretariat:
        abort(403)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    report = reports.compilation(year)
    return reports.suppressed(report, reports.threshold())


def _bad_year() -> tuple[str, int]:
    return render_error(422, f"År: ange ett år mellan {FIRST_YEAR} och {LAST_YEAR}.")


@bp.route("/statistik/ar/<int:year>/alla")
@login_required
def compilation(year: int) -> ResponseReturnValue:
    report = _compilation(year)
    if report is None:
        return _bad_year()
    columns, rows = statistics_csv.compilation_table(report)
    return render_template(
        "html/statistics/compilation.html",
        report=report,
        groups=_column_groups(columns),
        columns=columns,
        rows=rows,
        csv_url=url_for("statistics.compilation_csv", year=year),
    )


def _column_groups(columns: list[tuple[str, str]]) -> list[tuple[str, int]]:
    """The first header row: each group of columns with its width, in order."""
    groups: list[tuple[str, int]] = []
    for group, _ in columns[1:]:
        if groups and groups[-1][0] == group:
            groups[-1] = (group, groups[-1][1] + 1)
        else:
            groups.append((group, 1))
    return groups


@bp.route("/statistik/ar/<int:year>/alla.csv")
@login_required
def compilation_csv(year: int) -> ResponseReturnValue:
    report = _compilation(year)
    if report is None:
        return _bad_year()
    columns, rows = statistics_csv.compilation_table(report)
    name = f"arssammanstallning-alla-grupper-{year}.csv"
    data = statistics_csv.to_csv(statistics_csv.flat_header(columns), rows)
    return _download(data, name, "compilation", ALL, str(year))
