"""Verksamheter, Personer, BUS-grupper, Huvudmän and BUS-sekretariatet: lists with search,
forms to add and change, and "Inaktivera" (nothing in the directory is deleted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from forms.admin import (
    ConfirmForm,
    GroupForm,
    HuvudmanForm,
    NewPersonForm,
    PersonForm,
    SearchForm,
    UnitForm,
    refuse,
)

from ...auth import current
from ...domain.directory import HUVUDMAN_TYPES, UNIT_TYPES
from ...extensions import db
from ...models import BusGroup, Huvudman, Unit, User
from ...services import accounts, directory
from ...services.directory import DirectoryError, Saved
from . import bp

Page = tuple[str, int] | Response


def _search() -> tuple[SearchForm, Any]:
    form = SearchForm(request.args)
    form.validate()
    return form, form.to_query(request.args.get("sida"))


def _saved(saved: Saved, what: str) -> None:
    """Tell what happened: saved, or nothing to save."""
    if saved.changes:
        flash(f"{what} är sparad.", "success")
    else:
        flash("Inga ändringar att spara.", "info")


def _submit(form: FlaskForm, save: Callable[[], Saved], what: str) -> Saved | None:
    """Validate and save; a refusal is shown on its field, or at the top of the page."""
    if not form.validate_on_submit():
        return None
    try:
        saved = save()
    except DirectoryError as exc:
        if not refuse(form, exc.field, str(exc)):
            flash(str(exc), "error")
            form.refused = True
        return None
    _saved(saved, what)
    return saved


def _status(form: FlaskForm) -> int:
    failed = form.errors or getattr(form, "refused", False)
    return 422 if form.is_submitted() and failed else 200


# --- Verksamheter ------------------------------------------------------------------------------


@bp.route("/verksamheter")
def units() -> str:
    form, query = _search()
    page = directory.unit_page(query)
    return render_template("html/admin/units.html", form=form, page=page, UNIT_TYPES=UNIT_TYPES)


@bp.route("/verksamheter/ny", methods=["GET", "POST"])
def new_unit() -> Page:
    return _unit_page(None)


@bp.route("/verksamheter/<unit_id>", methods=["GET", "POST"])
def unit(unit_id: str) -> Page:
    return _unit_page(db.session.get(Unit, unit_id) or abort(404))


def _unit_page(unit: Unit | None) -> Page:
    form = UnitForm(huvudman=directory.choices(Huvudman), groups=directory.choices(BusGroup))
    if unit is not None and not form.is_submitted():
        form.load(directory.unit_input(unit))
    unit_id = unit.id if unit is not None else None
    saved = _submit(
        form, lambda: directory.save_unit(current(), unit_id, form.to_input()), "Verksamheten"
    )
    if saved is not None:
        return redirect(url_for("admin.unit", unit_id=saved.object.id))
    page = render_template(
        "html/admin/unit.html", form=form, unit=unit, people=directory.active_people()
    )
    return page, _status(form)


# --- Personer ----------------------------------------------------------------------------------


@bp.route("/personer")
def people() -> str:
    form, query = _search()
    return render_template("html/admin/people.html", form=form, page=directory.person_page(query))


@bp.route("/personer/ny", methods=["GET", "POST"])
def new_person() -> Page:
    form = NewPersonForm()
    saved = _submit(form, lambda: directory.add_person(current(), form.to_input()), "Personen")
    if saved is not None:
        if form.invite.data and accounts.invite(saved.object, current()):
            flash("Inbjudan skickas till personen.", "success")
        return redirect(url_for("admin.person", user_id=saved.object.id))
    return render_template("html/admin/new_person.html", form=form), _status(form)


@bp.route("/personer/<int:user_id>", methods=["GET", "POST"])
def person(user_id: int) -> Page:
    person = db.session.get(User, user_id) or abort(404)
    form = PersonForm()
    if not form.is_submitted():
        form.name.data, form.email.data = person.name, person.email
    saved = _submit(
        form, lambda: directory.update_person(current(), user_id, form.to_input()), "Personen"
    )
    if saved is not None:
        return redirect(url_for("admin.person", user_id=user_id))
    page = render_template(
        "html/admin/person.html",
        form=form,
        person=person,
        roles=directory.roles_of(person),
        confirm=ConfirmForm(),
    )
    return page, _status(form)


@bp.route("/personer/<int:user_id>/inaktivera", methods=["POST"])
def deactivate_person(user_id: int) -> Response:
    return _switch(user_id, directory.deactivate_person, "Personen är inaktiverad.")


@bp.route("/personer/<int:user_id>/aktivera", methods=["POST"])
def activate_person(user_id: int) -> Response:
    return _switch(user_id, directory.activate_person, "Personen är aktiv igen.")


def _switch(user_id: int, change: Callable[[User, int], Saved], done: str) -> Response:
    db.session.get(User, user_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        change(current(), user_id)
    except DirectoryError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("admin.person", user_id=user_id))


# --- BUS-grupper -------------------------------------------------------------------------------


@bp.route("/bus-grupper")
def groups() -> str:
    return render_template("html/admin/groups.html", groups=directory.all_groups())


@bp.route("/bus-grupper/ny", methods=["GET", "POST"])
def new_group() -> Page:
    return _group_page(None)


@bp.route("/bus-grupper/<group_id>", methods=["GET", "POST"])
def group(group_id: str) -> Page:
    return _group_page(db.session.get(BusGroup, group_id) or abort(404))


def _group_page(group: BusGroup | None) -> Page:
    form = GroupForm(
        units=directory.choices(Unit),
        default_days=current_app.config["FORMSERVICE_ANSWER_DAYS"],
    )
    if group is not None and not form.is_submitted():
        form.load(directory.group_input(group))
    group_id = group.id if group is not None else None
    saved = _submit(
        form, lambda: directory.save_group(current(), group_id, form.to_input()), "BUS-gruppen"
    )
    if saved is not None:
        return redirect(url_for("admin.group", group_id=saved.object.id))
    page = render_template(
        "html/admin/group.html", form=form, group=group, people=directory.active_people()
    )
    return page, _status(form)


# --- Huvudmän ----------------------------------------------------------------------------------


@bp.route("/huvudman")
def huvudman_list() -> str:
    return render_template(
        "html/admin/huvudman_list.html",
        huvudman=directory.all_huvudman(),
        HUVUDMAN_TYPES=HUVUDMAN_TYPES,
    )


@bp.route("/huvudman/ny", methods=["GET", "POST"])
def new_huvudman() -> Page:
    return _huvudman_page(None)


@bp.route("/huvudman/<huvudman_id>", methods=["GET", "POST"])
def huvudman(huvudman_id: str) -> Page:
    return _huvudman_page(db.session.get(Huvudman, huvudman_id) or abort(404))


def _huvudman_page(huvudman: Huvudman | None) -> Page:
    form = HuvudmanForm()
    if huvudman is not None and not form.is_submitted():
        form.load(directory.huvudman_input(huvudman))
    key = huvudman.id if huvudman is not None else None
    saved = _submit(
        form, lambda: directory.save_huvudman(current(), key, form.to_input()), "Huvudmannen"
    )
    if saved is not None:
        return redirect(url_for("admin.huvudman", huvudman_id=saved.object.id))
    return render_template("html/admin/huvudman.html", form=form, huvudman=huvudman), _status(form)


# --- BUS-sekretariatet -------------------------------------------------------------------------


@bp.route("/sekretariatet")
def mailboxes() -> str:
    return render_template("html/admin/mailboxes.html", mailboxes=directory.mailboxes())


@bp.route("/sekretariatet/ny", methods=["GET", "POST"])
def new_mailbox() -> Page:
    form = PersonForm()
    saved = _submit(
        form,
        lambda: directory.add_person(current(), form.to_input(), mailbox=True),
        "Brevlådan",
    )
    if saved is not None:
        return redirect(url_for("admin.mailboxes"))
    return render_template("html/admin/new_mailbox.html", form=form), _status(form)
