"""Blueprints: parse the form, call one service, redirect or render."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, abort

from ..auth import current
from ..extensions import db
from ..models import User

T = TypeVar("T")


def ics_response(data: bytes, name: str = "mote.ics") -> Response:
    """A calendar file as a download ("Lägg till i kalendern")."""
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def get_allowed(model: type[T], ident: int, may: Callable[[User, T], bool]) -> T:
    """The record for the logged-in user: 404 when there is none, 403 unless `may` holds."""
    record = db.session.get(model, ident)
    if record is None:
        abort(404)
    if not may(current(), record):
        abort(403)
    return record
