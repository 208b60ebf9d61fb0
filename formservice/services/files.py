"""Stored file rows: bytes in the database, with their checksum."""

from __future__ import annotations

import hashlib

from ..models import StoredFile

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


def new_file(name: str, content_type: str, data: bytes) -> StoredFile:
    """A StoredFile for `data` (not yet added to the session)."""
    return StoredFile(
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
