"""The main menu's role check, asked at most once per request."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import BusGroup

_KEY = "formservice.leads_a_group"


def leads_a_group(user_id: int) -> bool:
    """Secretary or convener of some BUS group: both "Styrgrupp" and "Statistik" ask, so the
    answer is kept for the rest of the request (one query per page, not two)."""
    environ = request.environ if has_request_context() else {}
    key = f"{_KEY}.{user_id}"
    if key not in environ:
        query = select(BusGroup.id).where(
            or_(BusGroup.secretary_id == user_id, BusGroup.convener_id == user_id)
        )
        try:
            environ[key] = db.session.scalar(query.limit(1)) is not None
        except SQLAlchemyError:  # an error page while the database is away: no link
            db.session.rollback()
            return False
    return environ[key]
