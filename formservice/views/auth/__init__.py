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

from ... import access, clock, ratelimit
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


def _record_locked() -> None:
    accounts.record_locked(request.form.get("email", ""))


@bp.route("/logga-in", methods=["GET", "POST"])
@ratelimit.limit_login(on_account_locked=_record_locked)
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(given(form.email.data), given(form.password.data))
        if user is not None:
            return admit(user, "password", request.args.get("next"))
        error = "Fel e-postadress eller lösenord."
    return render_template(
        "html/auth/login.html", form=form, error=error
    ), 200 if not error else 401


def admit(user: User, method: str, next_url: str | None = None) -> Response:
    """After the first factor: start the session, or ask for the second step (the code, or
    setting up the app when a role needs it and the person has none)."""
    verdict = accounts.admission(user)
    if verdict is Admission.START:
        return finish_login(user, method, next_url)
    if verdict is Admission.INACTIVE:  # authenticate let only the active through
        return redirect(url_for("auth.login"))
    session.clear()
    session[PENDING] = {
        "u": user.id,
        "v": user.token_version,
        "k": ratelimit.key_for_email(user.email),
        "t": int(time.time()),
        "n": next_url or "",
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


def finish_login(user: User, method: str, next_url: str | None = None) -> Response:
    """Start the session and go where the person works."""
    return redirect(start_session(user, method, next_url))


def start_session(user: User, method: str, next_url: str | None = None) -> str:
    """Start the session (a fresh one: no fixation); where to go next."""
    if next_url is None:
        data = session.get(PENDING)
        next_url = data.get("n") if isinstance(data, dict) else None
    accounts.start_session(user, method)
    session.clear()
    login_user(user)
    session.permanent = True
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
    if current_user.is_authenticated:
        audit.record_now(current(), "logout", "user", current_user.id)
    logout_user()
    session.clear()
    flash("Du är utloggad.", "info")
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


from . import account, links, two_factor  # noqa: E402,F401  (their routes on bp)
