"""The administrator's pages ("Administration", /admin): the directory, the deviation form's
categories and the directory file; only for the systemförvaltare (`access.is_admin`)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import access
from ...extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _only_administrators() -> Response | None:
    """Every page here: logged in (else the login page), and an active administrator."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not access.is_admin(current_user):
        abort(403)
    return None


@bp.route("")
def index() -> str:
    return render_template("html/admin/index.html")


from . import catalog, categories, directory  # noqa: E402,F401  (their routes, on bp)
