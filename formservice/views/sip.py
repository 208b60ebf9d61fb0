"""SIP invitations: create, send, see, record attendance (SPEC §4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sip", __name__, url_prefix="/sip")
