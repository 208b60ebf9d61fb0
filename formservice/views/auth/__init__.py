"""Logging in and out."""

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
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from forms.login import LoginForm

from ... import clock, ratelimit
from ...auth import current
from ...services import accounts, audit
from ..errors import render_error

bp = Blueprint("auth", __name__)

#: The 429 texts; {time} is when to try again. The account text is the same whether or not
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
}


def _record_locked() -> None:
    accounts.record_locked(request.form.get("email", ""))


@bp.route("/logga-in", methods=["GET", "POST"])
@ratelimit.limit_login(on_account_locked=_record_locked)
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = "Fel e-postadress eller lösenord."
    return render_template(
        "html/auth/login.html", form=form, error=error
    ), 200 if not error else 401


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(exc: RateLimitExceeded):
    """429, naming the minute from which a new attempt is let through."""
    scope = exc.limit.scope
    retry = math.ceil(ratelimit.retry_at() / 60) * 60  # the whole minute, never too early
    zone = ZoneInfo(clock.zone())
    at = datetime.fromtimestamp(retry, UTC).astimezone(zone).strftime("%H:%M")
    page, status = render_error(429, TOO_MANY[scope].format(time=at))
    return page, status, {"Retry-After": str(max(1, int(retry - time.time())))}


@bp.route("/logga-ut", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record_now(current(), "logout", "user", current_user.id)
    logout_user()
    session.clear()
    flash("Du är utloggad.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only a local path; never an absolute URL (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("deviations.index")
