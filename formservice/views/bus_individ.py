"""BUS-individ records (SPEC §5)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bus_individ", __name__, url_prefix="/bus-individ")
