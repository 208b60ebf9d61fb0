"""Sending stored files to the browser safely."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from flask import Response, abort, stream_with_context

from ..auth import current
from ..extensions import db
from ..models import StoredFile
from ..services import audit, files


def send_stored(stored: StoredFile) -> Response:
    """Always as a download with the content type decided at upload; never rendered inline.
    The bytes are sent a chunk at a time, as they are read (a digest's PDF can be 100 MB)."""
    response = Response(stream_with_context(files.chunks(stored)), mimetype=stored.content_type)
    response.content_length = stored.size
    response.headers.set("Content-Disposition", "attachment", **_file_names(stored.name))
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _file_names(name: str) -> dict[str, str]:
    """The download name as Flask's send_file gives it: ASCII, and UTF-8 when it is not."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return {"filename": simple, "filename*": f"UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"}
    return {"filename": name}


def send_audited(
    file_id: int | None, action: str, object_type: str, object_id: object, **detail: Any
) -> Response:
    """Send a stored document (404 if there is none yet) and log who downloaded it."""
    stored = db.session.get(StoredFile, file_id) if file_id else None
    if stored is None:
        abort(404)
    audit.record_now(current(), action, object_type, object_id, **detail)
    return send_stored(stored)
