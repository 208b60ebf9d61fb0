"""Demo mode only (FORMSERVICE_DEMO, read when the app is made; `create_app` registers this
blueprint only then): the local mail sink's messages, readable in the browser, and signing in
as one of the demo's accounts from the login page."""

from __future__ import annotations

import mailbox
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from ..extensions import db
from ..models import User
from .auth import admit

bp = Blueprint("demo", __name__, url_prefix="/demo")


def _maildir() -> mailbox.Maildir:
    path = Path(current_app.instance_path) / "mail"
    return mailbox.Maildir(str(path), factory=None, create=True)


@bp.route("/epost")
def inbox() -> str:
    box = _maildir()
    messages = sorted(box.items(), key=lambda kv: kv[1].get_date(), reverse=True)
    return render_template("html/demo/inbox.html", messages=messages)


@bp.route("/epost/<key>")
def message(key: str) -> str:
    box = _maildir()
    try:
        raw = box.get_bytes(key)
    except KeyError:
        abort(404)
    from email import message_from_bytes

    parsed = message_from_bytes(raw, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    attachments = [
        (part.get_filename() or "", part.get_content_type()) for part in parsed.iter_attachments()
    ]
    return render_template(
        "html/demo/message.html",
        message=parsed,
        body=body.get_content() if body else "",
        attachments=attachments,
    )


@bp.route("/logga-in-som/<int:user_id>", methods=["POST"])
def login_as(user_id: int) -> ResponseReturnValue:
    """ "Logga in som …": the person's session without a password (CSRF-checked like every
    POST), through the same admission as the password door: the second factor a role needs
    is still asked for."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        abort(404)
    return admit(user, "demo")
