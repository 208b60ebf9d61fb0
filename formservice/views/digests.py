"""The secretary compiles a meeting's digest, follows its progress and downloads it."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import access
from ..auth import current
from ..extensions import db
from ..models import Digest, GroupMeeting
from ..services import audit
from ..services import digest as digest_service
from .files import send_stored

bp = Blueprint("digests", __name__, url_prefix="/styrgrupp")


def _may_read(group_id: str) -> bool:
    user = current()
    return group_id in access.secretary_group_ids(user) | access.convener_group_ids(user)


def _digest(digest_id: int) -> Digest:
    digest = db.session.get(Digest, digest_id) or abort(404)
    if not _may_read(digest.meeting.group_id):
        abort(403)
    return digest


@bp.route("/moten/<int:meeting_id>/sammanstallning", methods=["POST"])
@login_required
def compile_digest(meeting_id: int) -> WerkzeugResponse:
    meeting = db.session.get(GroupMeeting, meeting_id) or abort(404)
    if meeting.group_id not in access.secretary_group_ids(current()):
        abort(403)
    digest = digest_service.request(meeting, current())
    return redirect(url_for("digests.show", digest_id=digest.id))


@bp.route("/sammanstallningar/<int:digest_id>")
@login_required
def show(digest_id: int) -> str:
    """The digest's state; a compilation whose worker died shows as failed (the worker's
    sweep marks it so: a GET changes nothing)."""
    digest = _digest(digest_id)
    can_compile = digest.meeting.group_id in access.secretary_group_ids(current())
    return render_template(
        "html/digests/show.html",
        digest=digest,
        status=digest_service.status(digest),
        can_compile=can_compile,
    )


@bp.route("/sammanstallningar/<int:digest_id>/status")
@login_required
def status(digest_id: int) -> Response:
    """The state for static/digest.js: the texts as the page renders them."""
    shown = digest_service.status(_digest(digest_id))
    step_text = get_template_attribute("html/_status.html", "step_text")
    failure_text = get_template_attribute("html/_status.html", "failure_text")
    return jsonify(
        state=shown.state,
        progress=shown.progress,
        step=str(step_text(shown.step, shown.step_args)),
        error=str(failure_text(shown.error, shown.error_args)) or None,
    )


@bp.route("/sammanstallningar/<int:digest_id>/<kind>")
@login_required
def download(digest_id: int, kind: str) -> Response:
    digest = _digest(digest_id)
    stored = {"sammanstallning.docx": digest.docx_file, "sammanstallning.pdf": digest.pdf_file}
    file = stored.get(kind) or abort(404)
    audit.record_now(current(), "digest.downloaded", "digest", f"{digest.id}:{kind}")
    return send_stored(file)
