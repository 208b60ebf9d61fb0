"""Demo mode only: the local mail sink's messages, readable in the browser."""

from __future__ import annotations

import mailbox
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

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
    return render_template(
        "html/demo/message.html", message=parsed, body=body.get_content() if body else ""
    )
