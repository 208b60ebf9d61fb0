"""Per-request web concerns: security headers, template helpers."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

from . import access
from .domain.deviation import AGE_GROUPS, AGREES, GENDERS, STATE_LABELS

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_web(app: Flask) -> None:
    app.after_request(_security_headers)
    from .services.categories import labels_for

    app.jinja_env.globals.update(
        STATE_LABELS=STATE_LABELS, GENDERS=GENDERS, AGE_GROUPS=AGE_GROUPS, AGREES=AGREES
    )
    app.jinja_env.globals["category_labels"] = labels_for  # as filed: the report's version
    app.jinja_env.globals["admin_nav"] = _admin_nav
    app.jinja_env.filters["datum"] = _datum


def _admin_nav() -> bool:
    """Show "Administration" to the systemförvaltare."""
    return bool(current_user.is_authenticated and access.is_admin(current_user))


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Responder links carry tokens: other sites get no Referer at all, while our own forms
    # get the one Flask-WTF's strict same-origin check needs over https (architecture.md).
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        # Pages, downloads, CSV and JSON may all hold personal data: no cache keeps them.
        headers["Cache-Control"] = "no-store"
    return response


def _datum(value) -> str:
    """A date or datetime as Swedish ISO date (2026-11-22), in Swedish local time."""
    if value is None:
        return ""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
