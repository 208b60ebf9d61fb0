"""The account actions on a person's page: "Skicka inbjudan", "Lås upp" and resetting the
second factor (templates/html/admin/_person_account.html)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from werkzeug.routing import BuildError

from ... import ratelimit
from ...auth import current
from ...extensions import db
from ...models import User
from ...services import accounts, second_factor
from . import bp


def _person(person_id: int) -> User:
    return db.session.get(User, person_id) or abort(404)


def _back(person_id: int) -> ResponseReturnValue:
    """To the person's page (the directory pages' `admin.person`), else the admin start."""
    try:
        return redirect(url_for("admin.person", person_id=person_id))
    except BuildError:
        return redirect(url_for("admin.index"))


@bp.route("/personer/<int:person_id>/inbjudan", methods=["POST"])
def invite(person_id: int) -> ResponseReturnValue:
    person = _person(person_id)
    if accounts.invite(person, current()):
        flash(f"En inbjudan skickas till {person.email}.", "info")
    else:
        flash("Personen är inaktiv och får ingen inbjudan.", "error")
    return _back(person_id)


@bp.route("/personer/<int:person_id>/las-upp", methods=["POST"])
def unlock(person_id: int) -> ResponseReturnValue:
    """End the lock after failed logins (the counts in Redis, ratelimit.py)."""
    person = _person(person_id)
    if ratelimit.unlock(person.email):
        accounts.record_unlocked(person, current())
        flash("Inloggningen är upplåst.", "info")
    else:
        flash("Spärren kunde inte hävas just nu. Försök igen om en stund.", "error")
    return _back(person_id)


@bp.route("/personer/<int:person_id>/tvastegsverifiering", methods=["POST"])
def reset_second_factor(person_id: int) -> ResponseReturnValue:
    person = _person(person_id)
    second_factor.reset(person, current())
    flash(
        "Tvåstegsverifieringen är borttagen. Personen ställer in appen på nytt vid nästa "
        "inloggning.",
        "info",
    )
    return _back(person_id)
