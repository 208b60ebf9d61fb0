"""Sending stored files to the browser safely."""

from __future__ import annotations

import io

from flask import Response, send_file

from ..models import StoredFile


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
