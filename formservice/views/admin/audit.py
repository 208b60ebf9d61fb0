"""Granskningslogg (the log follow-up) and Registerutdrag (GDPR art. 15) for the administrator.

SPEC §2 gives the administrator no case content; these two pages are the exception the
data protection duties need (docs/architecture.md): admins only, every use audited."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request, stream_with_context, url_for

from forms.admin_audit import AuditLogForm, ExtractForm, ExtractSearchForm
from forms.fields import add_error

from ... import clock
from ...auth import current
from ...documents import statistics_csv
from ...domain.audit import (
    READS_CHOICE,
    RECORD_TYPES,
    detail_text,
    event_label,
    object_label,
)
from ...services import audit_log
from ...services import register_extract as extracts
from ...services.files import DOCX_TYPE
from . import bp

CSV_HEADER = [
    "Tidpunkt",
    "E-postadress",
    "Namn",
    "Händelse",
    "Händelsekod",
    "Gäller",
    "Id",
    "Ärendenummer",
    "Detaljer",
]
DOWNLOAD_TYPES = {"docx": DOCX_TYPE, "json": "application/json"}


# --- Granskningslogg ------------------------------------------------------------------------


@bp.route("/granskningslogg")
def audit_log_page() -> tuple[str, int] | str:
    form = AuditLogForm(request.args)
    if not form.validate():
        return _log_page(form, None), 422
    page = audit_log.read_page(current(), form.to_filter(), _page_number())
    return _log_page(form, page)


@bp.route("/granskningslogg.csv")
def audit_log_csv() -> Response | tuple[str, int]:
    form = AuditLogForm(request.args)
    if not form.validate():
        return _log_page(form, None), 422
    rows = audit_log.export(current(), form.to_filter())
    body = statistics_csv.stream_csv(CSV_HEADER, (_csv_row(row) for row in rows))
    name = f"granskningslogg-{clock.today().isoformat()}.csv"
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _page_number() -> int:
    text = request.args.get("sida", "1").strip()
    return int(text) if text.isdigit() and len(text) < 9 else 1


def _log_page(form: AuditLogForm, page: audit_log.LogPage | None) -> str:
    args: dict[str, Any] = form.query_args()  # url_for's values
    return render_template(
        "html/admin/audit_log.html",
        form=form,
        page=page,
        csv_url=url_for("admin.audit_log_csv", **args),
        page_url=lambda number: url_for("admin.audit_log_page", **args, sida=number),
        moment=_moment,
        event_label=event_label,
        object_label=object_label,
        detail_text=detail_text,
    )


def _moment(value: datetime) -> str:
    return value.astimezone(ZoneInfo(clock.zone())).strftime("%Y-%m-%d %H:%M:%S")


def _csv_row(row: audit_log.LogRow) -> list[str]:
    return [
        _moment(row.at),
        row.actor,
        row.name or "",
        event_label(row.action),
        row.action,
        object_label(row.object_type),
        row.object_id or "",
        row.case_number or "",
        json.dumps(row.detail, ensure_ascii=False, sort_keys=True) if row.detail else "",
    ]


# --- Registerutdrag -------------------------------------------------------------------------


@bp.route("/registerutdrag", methods=["GET", "POST"])
def extract_search() -> tuple[str, int]:
    form = ExtractSearchForm()
    found = None
    if form.validate_on_submit():
        found = extracts.search(current(), form.to_query())
    page = _extract_page(form, found, ExtractForm(formdata=None), checked=None)
    return page, 422 if form.errors else 200


@bp.route("/registerutdrag/utdrag", methods=["POST"])
def extract_download() -> Response | tuple[str, int]:
    form = ExtractForm()
    if form.validate_on_submit():
        try:
            context = extracts.extract(
                current(), form.to_query(), form.sip.data, form.bus_individ.data, form.format.data
            )
        except extracts.NothingChosen:
            add_error(form.sip, f"{form.sip.label.text}: välj bland journalerna i listan.")
        else:
            return _download(context, form.format.data)
    search = ExtractSearchForm()  # the same two fields, posted along as hidden inputs
    found = None
    if not (form.personnummer.errors or form.namn.errors) and search.validate():
        found = extracts.search(current(), search.to_query())
    ticked = {("sip", i) for i in form.sip.data}
    ticked |= {("bus_individ", i) for i in form.bus_individ.data}
    return _extract_page(search, found, form, checked=ticked), 422


def _extract_page(
    search: ExtractSearchForm,
    found: extracts.Found | None,
    download: ExtractForm,
    *,
    checked: set[tuple[str, int]] | None,
) -> str:
    """The search, its matches as a download form (all ticked, or as ticked before)."""
    return render_template(
        "html/admin/audit_extract.html",
        form=search,
        download=download,
        found=found,
        checked=checked,
        max_matches=extracts.MAX_MATCHES,
        retention_months=current_app.config["FORMSERVICE_RETENTION_MONTHS"],
        record_types=RECORD_TYPES,
        reads=READS_CHOICE,
    )


def _download(context: dict, kind: str) -> Response:
    data = extracts.document(context, kind)
    name = f"registerutdrag-{clock.today().isoformat()}.{kind}"
    return Response(
        data,
        mimetype=DOWNLOAD_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
