"""The service's clock: now in UTC, and today in the service's time zone (FORMSERVICE_TIMEZONE).

The one place that answers "what day is it here"; every module asks it rather than reading
the setting itself. `travel` sets the clock to another moment for the code running inside it
(`formservice demo-data` writes years of history through the services this way); nothing a
request sends can set it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

from flask import current_app

from .domain.deadlines import local_date as _on


def zone() -> str:
    """The service's time zone name (FORMSERVICE_TIMEZONE)."""
    return current_app.config["FORMSERVICE_TIMEZONE"]


#: The moment `travel` set, for the code running inside it; None: the real time.
_moment: ContextVar[datetime | None] = ContextVar("formservice_clock", default=None)


def now() -> datetime:
    """This moment, timezone-aware, in UTC (the moment `travel` set, inside it)."""
    moment = _moment.get()
    return datetime.now(UTC) if moment is None else moment


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """Let `now()` (and every timestamp the models default to) be `moment` inside the block."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    token = _moment.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _moment.reset(token)


def today() -> date:
    """Today's date in the service's time zone."""
    return local_date(now())


def local_date(moment: datetime) -> date:
    """The date a moment falls on in the service's time zone."""
    return _on(moment, zone())
