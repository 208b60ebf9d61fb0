"""The administrator's pages (`/admin`, admin only). Minimal here: the blueprint, its
admin-only check and a landing page; the directory pages come with their own modules."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> ResponseReturnValue | None:
    """Logged in, and an active administrator; else the login page or 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not (current_user.active and current_user.is_admin):
        abort(403)
    return None


@bp.route("")
def index() -> ResponseReturnValue:
    return render_template("html/admin/index.html")


from . import accounts  # noqa: E402,F401  (its routes on bp)
