"""Katalogfil: upload a directory file, see what it would change, then "Genomför"; "Ladda ner
katalogen" exports today's directory in the same format (SPEC §9). The preview changes
nothing (`services.directory.preview_directory` rolls its transaction back); the file waits
for "Genomför" in a signed hidden field, with a digest of the directory it was compared with.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import ValidationError

from forms.admin import (
    ENTITIES,
    LABELS,
    CatalogApplyForm,
    CatalogUploadForm,
    parse_yaml,
    refuse,
)
from forms.fields import given

from ...auth import current
from ...clock import today
from ...services import directory
from ...services.directory import ACTIVATED, ADDED, CHANGED, DEACTIVATED, DirectoryError
from ...tokens import LinkError, make_directory_token, read_directory_token
from . import bp

Page = tuple[str, int] | WerkzeugResponse
MAX_TOKEN = 400_000  # below Werkzeug's limit on one form field (500 kB)
#: The preview's sections, in order.
SECTIONS = [
    (ADDED, "Läggs till"),
    (CHANGED, "Ändras"),
    (ACTIVATED, "Blir aktiva igen"),
    (DEACTIVATED, "Inaktiveras"),
]
STALE = "Förhandsgranskningen har gått ut eller gäller inte längre. Ladda upp filen igen."
MOVED = (
    "Katalogen har ändrats sedan du såg förhandsgranskningen, så ingenting genomfördes. "
    "Ladda upp filen igen för att se vad den ändrar nu."
)


def _upload_page(form: CatalogUploadForm, status: int = 200) -> Page:
    return render_template("html/admin/catalog.html", form=form), status


@bp.route("/katalog")
def catalog() -> Page:
    return _upload_page(CatalogUploadForm(formdata=None))


@bp.route("/katalog", methods=["POST"])
def preview_catalog() -> Page:
    form = CatalogUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422)
    admin = current()
    try:
        summary = directory.preview_directory(form.parsed, admin, keep_admin=admin)
    except DirectoryError as exc:
        refuse(form, "file", str(exc))
        return _upload_page(form, 422)
    token = make_directory_token(form.text, directory.fingerprint(), admin.id)
    if len(token) > MAX_TOKEN:
        refuse(form, "file", "filen är för stor för att förhandsgranskas. Dela upp den.")
        return _upload_page(form, 422)
    apply = CatalogApplyForm(formdata=None, token=token)
    page = render_template(
        "html/admin/catalog_preview.html",
        summary=summary,
        apply=apply,
        sections=SECTIONS,
        LABELS=LABELS,
        ENTITIES=ENTITIES,
    )
    return page, 200


@bp.route("/katalog/genomfor", methods=["POST"])
def apply_catalog() -> Page:
    form = CatalogApplyForm()
    admin = current()
    try:
        if not form.validate_on_submit():
            raise LinkError("invalid")
        upload = read_directory_token(given(form.token.data))
        if upload.user_id != admin.id:
            raise LinkError("invalid")
        data = parse_yaml(upload.text, "Katalogfil")
    except (LinkError, ValidationError):
        flash(STALE, "error")
        return _upload_page(CatalogUploadForm(formdata=None), 422)
    if upload.fingerprint != directory.fingerprint():
        flash(MOVED, "error")
        return _upload_page(CatalogUploadForm(formdata=None), 409)
    try:
        summary = directory.import_directory(data, admin, keep_admin=admin)
    except DirectoryError as exc:
        flash(f"Katalogen lästes inte in: {exc}", "error")
        return _upload_page(CatalogUploadForm(formdata=None), 422)
    flash(f"Katalogen är inläst: {len(summary.changes)} ändringar.", "success")
    return redirect(url_for("admin.catalog"))


@bp.route("/katalog.yaml")
def export_catalog() -> Response:
    text = directory.export_text(current())
    name = f"katalog-{today().isoformat()}.yaml"
    return Response(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
