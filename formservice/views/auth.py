"""Logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from forms.login import LoginForm

from .. import ratelimit
from ..services import accounts, audit
from .errors import render_error

bp = Blueprint("auth", __name__)


@bp.route("/logga-in", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if request.method == "POST" and ratelimit.too_many_attempts(request.remote_addr or "-"):
        return render_error(429)
    if form.validate_on_submit():
        user, reason = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = (
            "Kontot är tillfälligt låst efter flera misslyckade försök. Försök igen om 15 minuter."
            if reason == "locked"
            else "Fel e-postadress eller lösenord."
        )
    return render_template(
        "html/auth/login.html", form=form, error=error
    ), 200 if not error else 401


@bp.route("/logga-ut", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record_now(current_user._get_current_object(), "logout", "user", current_user.id)
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
