"""Kategorier: the deviation form's categories ("Avvikelsen avser"). Each change is a new
version of the form (`services.categories.new_version`): reports keep the labels they were
filed with, and statistics count a category by its code under its newest label."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from forms.admin import CategoryAddForm, CategoryRenameForm, ConfirmForm, check_new_label
from forms.fields import text

from ...auth import current
from ...domain.deviation import CategoryError
from ...services import categories
from . import bp

Page = tuple[str, int] | Response
REFUSED = (
    "Ändringen gjordes inte: blanketten måste ha minst en kategori, var och en med ett eget namn."
)


@bp.route("/kategorier")
def categories_page() -> Page:
    return _page()


def _page(
    add: CategoryAddForm | None = None,
    renamed: tuple[str, CategoryRenameForm] | None = None,
    status: int = 200,
) -> Page:
    current = categories.categories()
    renames = {
        c["code"]: CategoryRenameForm(prefix=c["code"], current=c["label"], formdata=None)
        for c in current
    }
    if renamed is not None:
        renames[renamed[0]] = renamed[1]
    retired = [
        (code, label) for code, label, on_form in categories.statistics_order() if not on_form
    ]
    page = render_template(
        "html/admin/categories.html",
        current=current,
        retired=retired,
        add=add or CategoryAddForm(formdata=None),
        renames=renames,
        confirm=ConfirmForm(),
        version=categories.current_version(),
    )
    return page, status


def _labels() -> list[str]:
    return [c["label"] for c in categories.categories()]


def _new_version(
    *,
    add: Sequence[str] = (),
    rename: Mapping[str, str] | None = None,
    retire: Iterable[str] = (),
) -> bool:
    try:
        categories.new_version(current(), add=add, rename=rename, retire=retire)
    except CategoryError:
        flash(REFUSED, "error")
        return False
    return True


@bp.route("/kategorier/ny", methods=["POST"])
def add_category() -> Page:
    form = CategoryAddForm()
    if not (form.validate_on_submit() and check_new_label(form.label, _labels())):
        return _page(add=form, status=422)
    label = text(form.label)
    if _new_version(add=[label]):
        flash(f"Kategorin {label} är tillagd i blanketten.", "success")
    return redirect(url_for("admin.categories_page"))


def _on_form(code: str) -> dict:
    found = next((c for c in categories.categories() if c["code"] == code), None)
    return found or abort(404)


@bp.route("/kategorier/<code>/namn", methods=["POST"])
def rename_category(code: str) -> Page:
    category = _on_form(code)
    form = CategoryRenameForm(prefix=code, current=category["label"])
    if not (
        form.validate_on_submit() and check_new_label(form.label, _labels(), category["label"])
    ):
        return _page(renamed=(code, form), status=422)
    label = text(form.label)
    if label != category["label"] and _new_version(rename={code: label}):
        flash(
            f"Kategorin {category['label']} heter nu {label}. Rapporter som redan är "
            "skickade visar det namn de skickades med.",
            "success",
        )
    return redirect(url_for("admin.categories_page"))


@bp.route("/kategorier/<code>/ta-bort", methods=["POST"])
def retire_category(code: str) -> Response:
    category = _on_form(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if _new_version(retire=[code]):
        flash(
            f"Kategorin {category['label']} är borttagen ur blanketten. Rapporter som har den "
            "behåller den, och den räknas i statistiken för de perioder där den användes.",
            "success",
        )
    return redirect(url_for("admin.categories_page"))
