""" "Mitt konto" (the password, a link to the second factor) and the page for someone the
directory gives no role yet."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required, login_user

from forms.accounts import ChangePasswordForm, password_message
from forms.fields import add_error, given

from ... import access, ratelimit
from ...auth import current
from ...services import accounts, second_factor
from ...services.accounts import WeakPassword
from . import bp, current_key, landing_url


@bp.route("/mitt-konto")
@login_required
def my_account() -> ResponseReturnValue:
    user = current()
    form = ChangePasswordForm(personal=accounts.personal_words(user))
    return _page(form), 200


@bp.route("/mitt-konto/losenord", methods=["POST"])
@login_required
@ratelimit.limit_failures(current_key)
def change_password() -> ResponseReturnValue:
    """A wrong current password counts as a failed login (401)."""
    user = current()
    form = ChangePasswordForm(personal=accounts.personal_words(user))
    if not form.validate_on_submit():
        return _page(form), 422
    try:
        changed = accounts.change_password(
            user, given(form.current.data), given(form.password.data)
        )
    except WeakPassword as exc:
        add_error(form.password, f"Nytt lösenord: {password_message(exc.problem)}")
        return _page(form), 422
    if not changed:
        add_error(form.current, "Nuvarande lösenord: lösenordet stämmer inte.")
        return _page(form), 401
    session.clear()  # every other session ended with the old password; this one goes on
    login_user(user)
    session.permanent = True
    flash("Ditt lösenord är bytt.", "info")
    return redirect(url_for("auth.my_account"))


def _page(form: ChangePasswordForm) -> str:
    user = current()
    return render_template(
        "html/auth/account.html",
        form=form,
        enrolled=second_factor.enrolled(user),
        required=accounts.requires_second_factor(user),
    )


@bp.route("/ingen-roll")
@login_required
def no_role() -> ResponseReturnValue:
    """A calm page for a person the directory gives no role yet, and whom to ask."""
    user = current()
    if access.roles(user):
        return redirect(landing_url(user))
    return render_template("html/auth/no_role.html", admins=accounts.administrators())
