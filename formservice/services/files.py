"""Stored files: bytes in the database, whole or in chunks, with their checksum."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import delete, insert, select

from ..extensions import db
from ..models import StoredFile, StoredFileChunk

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
#: Bytes per chunk of a file stored from disk.
CHUNK_SIZE = 1 << 20


def new_file(name: str, content_type: str, data: bytes) -> StoredFile:
    """A StoredFile for `data` (not yet added to the session)."""
    return StoredFile(
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def store(name: str, content_type: str, path: Path) -> StoredFile:
    """The file at `path` as a StoredFile in the current transaction, its bytes written in
    chunks as they are read: a file of any size needs one chunk in memory."""
    stored = StoredFile(name=name, content_type=content_type, size=0, sha256="", data=None)
    db.session.add(stored)
    db.session.flush()
    checksum = hashlib.sha256()
    with path.open("rb") as source:
        for seq, chunk in enumerate(iter(lambda: source.read(CHUNK_SIZE), b"")):
            checksum.update(chunk)
            stored.size += len(chunk)
            db.session.execute(
                insert(StoredFileChunk), {"file_id": stored.id, "seq": seq, "data": chunk}
            )
    stored.sha256 = checksum.hexdigest()
    return stored


def chunks(stored: StoredFile) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time (one piece for a file stored whole). What is needed
    of `stored` is read now: a download reads the chunks after its session let go of it."""
    if stored.data is not None:
        return iter([stored.data])
    return _chunks(stored.id)


def _chunks(file_id: int) -> Iterator[bytes]:
    query = select(StoredFileChunk.data).where(StoredFileChunk.file_id == file_id)
    seq = 0
    while (chunk := db.session.scalar(query.where(StoredFileChunk.seq == seq))) is not None:
        yield chunk
        seq += 1


def read(stored: StoredFile) -> bytes:
    """The file's bytes at once: for files known to be small."""
    return b"".join(chunks(stored))


def delete_files(ids: list[int]) -> None:
    """Delete stored files with their chunks."""
    if ids:
        db.session.execute(delete(StoredFileChunk).where(StoredFileChunk.file_id.in_(ids)))
        db.session.execute(delete(StoredFile).where(StoredFile.id.in_(ids)))
