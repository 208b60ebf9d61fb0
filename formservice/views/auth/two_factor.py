"""The second factor: the login's second step ("Kod från appen"), and setting up the app
under "Mitt konto" — also for a person half-way through logging in whose role needs it and
who has none yet (sent here before anything else)."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from forms.accounts import CodeForm, DisableForm, EnrolForm
from forms.fields import add_error, given

from ... import ratelimit
from ...auth import current
from ...extensions import login_manager
from ...models import User
from ...services import accounts, second_factor
from . import bp, current_key, finish_login, landing_url, pending_key, pending_user, start_session

WRONG_SETUP_CODE = "Kod från appen: koden stämmer inte. Skriv den kod som appen visar just nu."
WRONG_CODE = (
    "Kod från appen: koden stämmer inte. Skriv den kod som appen visar just nu, "
    "eller en av dina reservkoder."
)
#: Fewer recovery codes than this left: the person is told to make new ones.
FEW_CODES = 3


def _record_locked() -> None:
    user = pending_user()
    if user is not None:
        accounts.record_locked(user.email)


@bp.route("/logga-in/kod", methods=["GET", "POST"])
@ratelimit.limit_failures(pending_key, on_account_locked=_record_locked)
def second_step() -> ResponseReturnValue:
    """The code from the app (or a recovery code) after the password; wrong codes count
    against the same limits as wrong passwords (401)."""
    user = pending_user()
    if user is None:
        if current_user.is_authenticated:
            return redirect(landing_url(current()))
        flash("Inloggningen tog för lång tid. Logga in igen.", "info")
        return redirect(url_for("auth.login"))
    if not second_factor.enrolled(user):
        return redirect(url_for("auth.two_factor"))
    form = CodeForm()
    if form.validate_on_submit():
        method = second_factor.verify(user, given(form.code.data))
        if method is not None:
            _warn_if_few_codes(user, method)
            return finish_login(user, method)
        accounts.record_code_failed(user)
        add_error(form.code, WRONG_CODE)
        return render_template("html/auth/code.html", form=form), 401
    return render_template("html/auth/code.html", form=form), 422 if form.errors else 200


def _warn_if_few_codes(user: User, method: str) -> None:
    if method == "recovery_code":
        left = second_factor.recovery_codes_left(user)
        flash(
            f"Du loggade in med en reservkod. Du har {left} reservkoder kvar"
            + (": skapa nya under Mitt konto." if left < FEW_CODES else "."),
            "info",
        )


def _enrolling() -> tuple[User | None, bool]:
    """Who is setting up the app: the logged-in user, or the person half-way through
    logging in who has none yet (one who has it gives the code instead); and whether
    logged in."""
    if current_user.is_authenticated:
        return current(), True
    user = pending_user()
    if user is not None and second_factor.enrolled(user):
        return None, False
    return user, False


@bp.route("/mitt-konto/tvastegsverifiering")
def two_factor() -> ResponseReturnValue:
    user, logged_in = _enrolling()
    if user is None:
        return login_manager.unauthorized()
    return _page(user, logged_in, EnrolForm(), DisableForm()), 200


def _page(user: User, logged_in: bool, form: EnrolForm, disable: DisableForm) -> str:
    secret = second_factor.pending_secret(user)
    qr = None
    if secret is not None:
        uri = second_factor.provisioning_uri(user, secret)
        qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=4)
    return render_template(
        "html/auth/two_factor.html",
        logged_in=logged_in,
        enrolled=second_factor.enrolled(user),
        required=accounts.requires_second_factor(user),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) if secret else None,
        qr=qr,
        form=form,
        disable=disable,
        codes_left=second_factor.recovery_codes_left(user),
    )


@bp.route("/mitt-konto/tvastegsverifiering/starta", methods=["POST"])
def two_factor_begin() -> ResponseReturnValue:
    user, _ = _enrolling()
    if user is None:
        return login_manager.unauthorized()
    second_factor.begin(user)  # the CSRF check is every POST's (CSRFProtect)
    return redirect(url_for("auth.two_factor"))


@bp.route("/mitt-konto/tvastegsverifiering/aktivera", methods=["POST"])
def two_factor_confirm() -> ResponseReturnValue:
    """A right code takes the app into use; half-way through logging in, it is the second
    factor too, and the session starts. The recovery codes are shown once, on this page."""
    user, logged_in = _enrolling()
    if user is None:
        return login_manager.unauthorized()
    form = EnrolForm()
    if second_factor.pending_secret(user) is None:
        return redirect(url_for("auth.two_factor"))
    if not form.validate_on_submit():
        return _page(user, logged_in, form, DisableForm()), 422
    codes = second_factor.confirm(user, given(form.code.data))
    if codes is None:
        add_error(form.code, WRONG_SETUP_CODE)
        return _page(user, logged_in, form, DisableForm()), 422
    next_url = url_for("auth.my_account")
    if not logged_in:  # the code from the app was the second factor of this login
        next_url = start_session(user, "enrolment")
    return render_template("html/auth/recovery_codes.html", codes=codes, next_url=next_url)


@bp.route("/mitt-konto/tvastegsverifiering/reservkoder", methods=["POST"])
@login_required
def recovery_codes() -> ResponseReturnValue:
    user = current()
    if not second_factor.enrolled(user):
        return redirect(url_for("auth.two_factor"))
    codes = second_factor.new_recovery_codes(user)
    return render_template(
        "html/auth/recovery_codes.html", codes=codes, next_url=url_for("auth.my_account")
    )


@bp.route("/mitt-konto/tvastegsverifiering/stang-av", methods=["POST"])
@login_required
@ratelimit.limit_failures(current_key)
def two_factor_disable() -> ResponseReturnValue:
    """Only for someone whose roles do not need it; confirmed with a code (401 if wrong)."""
    user = current()
    if not second_factor.enrolled(user):
        return redirect(url_for("auth.two_factor"))
    if accounts.requires_second_factor(user):
        flash("Din roll kräver tvåstegsverifiering, så den kan inte stängas av.", "info")
        return redirect(url_for("auth.two_factor"))
    disable = DisableForm()
    if not disable.validate_on_submit():
        return _page(user, True, EnrolForm(), disable), 422
    if not second_factor.disable(user, given(disable.code.data)):
        add_error(disable.code, WRONG_CODE)
        return _page(user, True, EnrolForm(), disable), 401
    flash("Tvåstegsverifieringen är avstängd.", "info")
    return redirect(url_for("auth.my_account"))
