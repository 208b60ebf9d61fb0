"""The administrator's pages ("Administration", /admin): the directory, the deviation form's
categories, the directory file, accounts, the audit log and the GDPR extract; only for the
systemförvaltare (`access.is_admin`), every use audited."""

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


from . import accounts, audit, catalog, categories, directory  # noqa: E402,F401  (routes on bp)
