"""Sending stored files to the browser safely."""

from __future__ import annotations

import io

from flask import Response, abort, send_file
from flask_login import current_user

from ..extensions import db
from ..models import StoredFile
from ..services import audit


def send_stored(stored: StoredFile) -> Response:
    """Always as a download with the content type decided at upload; never rendered inline."""
    response = send_file(
        io.BytesIO(stored.data),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.name,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def send_audited(file_id: int | None, action: str, object_type: str, object_id: object, **detail):
    """Send a stored document (404 if there is none yet) and log who downloaded it."""
    stored = db.session.get(StoredFile, file_id) if file_id else None
    if stored is None:
        abort(404)
    audit.record_now(current_user._get_current_object(), action, object_type, object_id, **detail)
    return send_stored(stored)
