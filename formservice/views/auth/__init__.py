"""Logging in (password, then the code from the app when the person has one) and out, and
where each role lands. The routes of links, "Mitt konto" and the second step are in the
modules beside this one, on the same blueprint."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from forms.fields import given
from forms.login import LoginForm

from ... import access, clock, ratelimit, sign_on
from ...auth import current
from ...extensions import db
from ...models import User
from ...services import accounts, audit
from ...services.accounts import Admission
from ..errors import render_error

bp = Blueprint("auth", __name__)

#: The 429 texts; {time} is when to try again. The account texts are the same whether or not
#: anyone has the address.
TOO_MANY = {
    ratelimit.ACCOUNT: (
        "Det har gjorts för många misslyckade inloggningsförsök med den här e-postadressen, "
        "så inloggningen med den är spärrad en stund. Försök igen klockan {time}."
    ),
    ratelimit.ADDRESS: (
        "Det har gjorts för många misslyckade inloggningsförsök härifrån. "
        "Försök igen klockan {time}."
    ),
    ratelimit.RESET_ACCOUNT: (
        "Det har begärts för många länkar för den här e-postadressen. Försök igen klockan {time}."
    ),
    ratelimit.RESET_ADDRESS: (
        "Det har begärts för många länkar härifrån. Försök igen klockan {time}."
    ),
}

#: The session key of a login whose password was right but whose second step is not done.
PENDING = "pending_login"
#: How long the second step may take.
PENDING_SECONDS = 10 * 60
#: The session key of the provider's ID token after a sign-on (the hint for logging out there).
ID_TOKEN = "oidc_id_token"
#: The session key of where to go after logging in, set by a page that asked for it (a
#: responder link with FORMSERVICE_RESPONDER_LOGIN=required): no token in a query string.
RESUME = "resume_after_login"


def _record_locked() -> None:
    accounts.record_locked(request.form.get("email", ""))


@bp.route("/logga-in", methods=["GET", "POST"])
@ratelimit.limit_login(on_account_locked=_record_locked)
def login() -> ResponseReturnValue:
    """The password door, and the sign-on button when sign-on is set up. With
    FORMSERVICE_PASSWORD_LOGIN=false the password form is shown only at /logga-in?reserv=1
    and lets only the break-glass administrators in."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(given(form.email.data), given(form.password.data))
        if user is not None and not accounts.may_use_password(user):
            accounts.record_password_closed(user)
            user = None
        if user is not None:
            return admit(user, "password", request.args.get("next") or session.get(RESUME))
        error = "Fel e-postadress eller lösenord."
        if not current_app.config["FORMSERVICE_PASSWORD_LOGIN"]:
            error = (
                "Fel e-postadress eller lösenord, eller så får kontot inte logga in med lösenord."
            )
    return _login_page(form, error), 200 if not error else 401


def _login_page(form: LoginForm, error: str | None) -> str:
    """The login page: the sign-on button, the password form where it is open."""
    password_login = current_app.config["FORMSERVICE_PASSWORD_LOGIN"]
    return render_template(
        "html/auth/login.html",
        form=form,
        error=error,
        sign_on=sign_on.configured(),
        show_password=password_login or "reserv" in request.args or request.method == "POST",
        break_glass=not password_login,
        demo_accounts=accounts.demo_accounts() if current_app.config["FORMSERVICE_DEMO"] else [],
        next_url=request.args.get("next", ""),
    )


def admit(
    user: User,
    method: str,
    next_url: str | None = None,
    id_token: str | None = None,
    second_factor_done: bool = False,
) -> Response:
    """After the first factor: start the session, or ask for the second step (the code, or
    setting up the app when a role needs it and the person has none). `id_token` (sign-on)
    is kept for logging out at the provider; a sign-on whose provider attested the level
    asked for (acr) has done the second factor."""
    verdict = accounts.admission(user, second_factor_done)
    if verdict is Admission.START:
        return finish_login(user, method, next_url, id_token)
    if verdict is Admission.INACTIVE:  # the doors let only the active through
        return redirect(url_for("auth.login"))
    session.clear()
    session[PENDING] = {
        "u": user.id,
        "v": user.token_version,
        "k": ratelimit.key_for_email(user.email),
        "t": int(time.time()),
        "n": next_url or "",
        "i": id_token or "",
    }
    if verdict is Admission.CODE:
        return redirect(url_for("auth.second_step"))
    return redirect(url_for("auth.two_factor"))


def pending_user() -> User | None:
    """The person half-way through logging in (password right, second step not done)."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or time.time() - data.get("t", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.active or user.token_version != data.get("v"):
        return None
    return user


def pending_key() -> str:
    """The account limit's key of the login half-way through (any constant without one)."""
    data = session.get(PENDING)
    return data.get("k", "none") if isinstance(data, dict) else "none"


def finish_login(
    user: User, method: str, next_url: str | None = None, id_token: str | None = None
) -> Response:
    """Start the session and go where the person works."""
    return redirect(start_session(user, method, next_url, id_token))


def start_session(
    user: User, method: str, next_url: str | None = None, id_token: str | None = None
) -> str:
    """Start the session (a fresh one: no fixation); where to go next."""
    data = session.get(PENDING)
    data = data if isinstance(data, dict) else {}
    if next_url is None:
        next_url = data.get("n")
    id_token = id_token or data.get("i")
    accounts.start_session(user, method)
    session.clear()
    login_user(user)
    session.permanent = True
    if id_token:
        session[ID_TOKEN] = id_token
    return _safe_next(next_url, user)


def current_key() -> str:
    """The account limit's key of the logged-in user (for forms that check a secret)."""
    if not current_user.is_authenticated:
        return "none"
    return ratelimit.key_for_email(current_user.email)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(exc: RateLimitExceeded) -> ResponseReturnValue:
    """429, naming the minute from which a new attempt is let through."""
    scope = exc.limit.scope
    retry = math.ceil(ratelimit.retry_at() / 60) * 60  # the whole minute, never too early
    moment = datetime.fromtimestamp(retry, UTC).astimezone(ZoneInfo(clock.zone()))
    page, status = render_error(429, TOO_MANY[str(scope)].format(time=moment.strftime("%H:%M")))
    return page, status, {"Retry-After": str(max(1, int(retry - time.time())))}


@bp.route("/logga-ut", methods=["POST"])
def logout() -> ResponseReturnValue:
    """End the session here and, after a sign-on, at the provider when it offers
    RP-initiated logout (it sends the browser back to the login page)."""
    id_token = session.get(ID_TOKEN)
    if current_user.is_authenticated:
        audit.record_now(current(), "logout", "user", current_user.id)
    logout_user()
    session.clear()
    flash("Du är utloggad.", "info")
    if id_token and sign_on.configured():
        provider_logout = sign_on.logout_url(id_token)
        if provider_logout:
            return redirect(provider_logout)
    return redirect(url_for("auth.login"))


def landing_url(user: User) -> str:
    """Where the person works: the administrator on /admin, a chef on "Att besvara", a
    secretary, convener or the BUS-sekretariat on the group's list; someone with no role on
    a page that says so (never a 403)."""
    roles = access.roles(user)
    if access.ADMIN in roles:
        return url_for("admin.index")
    if access.CHEF in roles:
        return url_for("deviations.list_reports", _anchor="att-besvara")
    if roles & {access.SECRETARY, access.CONVENER, access.SECRETARIAT}:
        return url_for("deviations.list_reports")
    return url_for("auth.no_role")


def _safe_next(target: str | None, user: User) -> str:
    """Only a local path; never an absolute URL (open redirect). Else where the user works."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return landing_url(user)


from . import account, links, oidc, two_factor  # noqa: E402,F401  (their routes on bp)
