"""The administrator's pages (systemförvaltare) under /admin: admins only, every use audited."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> Response | None:
    """Logged in (else the login page), an administrator still in the directory (else 403)."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not (current_user.active and current_user.is_admin):
        abort(403)
    return None


@bp.route("")
def index() -> ResponseReturnValue:
    return render_template("html/admin/index.html")


from . import accounts, audit  # noqa: E402, F401  (their routes on bp)
