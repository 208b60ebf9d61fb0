"""Getting in without a terminal: "Glömt lösenordet?" and the invitation and reset links that
open "Välj lösenord"."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import logout_user

from forms.accounts import ChoosePasswordForm, ForgotForm, password_message
from forms.fields import add_error, given

from ... import ratelimit
from ...services import accounts
from ...services.accounts import LinkDead, WeakPassword
from ...tokens import INVITE, RESET
from . import bp

#: Why a link cannot be used, said to whoever opened it.
DEAD_TEXTS = {
    "invalid": (
        "Länken är ogiltig. Kontrollera att du har kopierat hela länken från e-postmeddelandet."
    ),
    "expired": "Länken har gått ut.",
    "used": "Länken har redan använts, eller så har lösenordet bytts sedan den skickades.",
    "inactive": "Kontot är inte längre aktivt i BUS-katalogen.",
}


@bp.route("/glomt-losenord", methods=["GET", "POST"])
@ratelimit.limit_reset_requests()
def forgot() -> ResponseReturnValue:
    """The same page, after the same work, whether or not anyone has the address."""
    form = ForgotForm()
    if form.validate_on_submit():
        accounts.request_reset(given(form.email.data))
        return render_template("html/auth/forgot_sent.html"), 200
    return render_template("html/auth/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/inbjudan/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    return _choose_password(token, INVITE)


@bp.route("/aterstall/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    return _choose_password(token, RESET)


def _choose_password(token: str, purpose: str) -> ResponseReturnValue:
    """ "Välj lösenord". Opening the link changes nothing (mail scanners open links); only
    saving uses it up."""
    try:
        user = accounts.link_holder(token, purpose)
    except LinkDead as exc:
        return _dead(exc.reason)
    if not accounts.may_use_password(user):  # FORMSERVICE_PASSWORD_LOGIN=false
        return render_template("html/auth/sign_on_only.html", email=user.email, purpose=purpose)
    form = ChoosePasswordForm(personal=accounts.personal_words(user))
    if form.validate_on_submit():
        try:
            accounts.set_password_with_link(token, purpose, given(form.password.data))
        except LinkDead as exc:
            return _dead(exc.reason)
        except WeakPassword as exc:
            add_error(form.password, f"Nytt lösenord: {password_message(exc.problem)}")
        else:
            logout_user()  # whoever was logged in here: the new password is someone's own
            session.clear()
            flash("Ditt lösenord är sparat. Logga in med din e-postadress och lösenordet.", "info")
            return redirect(url_for("auth.login"))
    page = render_template(
        "html/auth/choose_password.html", form=form, email=user.email, purpose=purpose
    )
    return page, 422 if form.errors else 200


def _dead(reason: str) -> ResponseReturnValue:
    status = 400 if reason == "invalid" else 410
    return render_template("html/auth/link_dead.html", text=DEAD_TEXTS[reason]), status
