"""The service's clock: now in UTC, and today in the service's time zone (FORMSERVICE_TIMEZONE).

The one place that answers "what day is it here"; every module asks it rather than reading
the setting itself."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app

from .domain.deadlines import local_date as _on


def zone() -> str:
    """The service's time zone name (FORMSERVICE_TIMEZONE)."""
    return current_app.config["FORMSERVICE_TIMEZONE"]


def now() -> datetime:
    """This moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the service's time zone."""
    return local_date(now())


def local_date(moment: datetime) -> date:
    """The date a moment falls on in the service's time zone."""
    return _on(moment, zone())
