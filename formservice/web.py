"""Per-request web concerns: security headers, and every template global and filter."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, request
from flask_login import current_user

from . import access, charts, clock
from .auth import current, leads_a_group
from .domain import deviation, measures, sip
from .domain.meetings import ASSESSMENTS

if TYPE_CHECKING:
    from .models import User
from .models import Deviation
from .services.categories import labels_for
from .services.closing import can_close
from .services.meetings import is_case_overdue

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_web(app: Flask) -> None:
    app.config["FORMSERVICE_CSP"] = content_security_policy(app.config["FORMSERVICE_OIDC_ISSUER"])
    app.after_request(_security_headers)
    app.jinja_env.globals.update(template_globals())
    app.jinja_env.filters["datum"] = datum


def content_security_policy(issuer: str) -> str:
    """CSP; with sign-on, forms may also lead to the provider (logging out there: a form's
    redirect to another origin is checked against form-action)."""
    if not issuer:
        return CSP
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    return CSP.replace("form-action 'self'", f"form-action 'self' {origin}")


def template_globals() -> dict[str, Any]:
    """What every template may use besides what its view passes: registered here only."""
    return {
        # the labels of the codes stored in rows
        "DEVIATION_STATES": deviation.STATE_LABELS,
        "GENDERS": deviation.GENDERS,
        "AGE_GROUPS": deviation.AGE_GROUPS,
        "AGREES": deviation.AGREES,
        "CLOSING_ASSESSMENTS": ASSESSMENTS,
        "SIP_STATES": sip.STATE_LABELS,
        "MEASURE_STATES": measures.STATE_LABELS,
        "SIP_MEETING_TYPES": sip.MEETING_TYPES,
        "SIP_ATTENDANCE": sip.ATTENDANCE,
        "CONSENT_FROM": sip.CONSENT_FROM,
        "CONSENT_FORMS": sip.CONSENT_FORMS,
        "category_labels": labels_for,  # as filed: the report's version of the form
        # the menu and the checks a page makes per case
        "steering_group_nav": _steering_group_nav,
        "statistics_nav": _statistics_nav,
        "can_close_case": _can_close_case,
        "case_overdue": is_case_overdue,
        # figures and charts (templates/html/statistics/_chart.html)
        "fmt": charts.format_value,
        "bars_of": charts.bars_of,
        "rows_by_part": charts.rows_by_part,
        "chart_layout": charts.chart_layout,
        "table_rows": charts.table_rows,
        # the menu: what the role can do; the administrator's view of an account
        "user_roles": _user_roles,
        "account_status": _account_status,
    }


def _steering_group_nav() -> bool:
    """Show "Styrgrupp" to secretaries and conveners."""
    if not current_user.is_authenticated:
        return False
    return leads_a_group(current_user.id)  # known from loading the user: no query


def _statistics_nav() -> bool:
    """Show "Statistik" to secretaries, conveners and the BUS-sekretariat (at most one query)."""
    if not current_user.is_authenticated:
        return False
    return current_user.is_secretariat or leads_a_group(current_user.id)


def _can_close_case(case: Deviation) -> bool:
    """The "Avsluta ärendet" button: the case may be closed, by the group's secretary."""
    if not current_user.is_authenticated or not can_close(case):
        return False
    return case.group_id in access.secretary_group_ids(current())


def _user_roles() -> frozenset[str]:
    """The logged-in user's roles (access.roles), asked once per request."""
    if not current_user.is_authenticated:
        return frozenset()
    key = f"formservice.roles.{current_user.id}"  # the request's, as auth.leads_a_group
    if key not in request.environ:
        from .access import roles

        request.environ[key] = roles(current())
    return request.environ[key]


def _account_status(person: User) -> dict:
    """What the administrator sees of a person's account: password set, second factor,
    locked after failed logins."""
    from .ratelimit import is_locked
    from .services.second_factor import enrolled

    return {
        "has_password": bool(person.password_hash),
        "second_factor": enrolled(person),
        "locked": is_locked(person.email),
    }


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["FORMSERVICE_CSP"])
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


def datum(value: date | datetime | None) -> str:
    """A date as 2026-11-22; a moment as 2026-11-22 14:05 in the service's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(clock.zone())).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
