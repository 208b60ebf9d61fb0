"""Inspect uploaded files before they are stored: type, size, active content, personal data.

``inspect_upload`` is the one entry point; ``_pdf`` and ``_docx`` know the two formats that
carry text, ``_text`` keeps that text by where it was found and scans it.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import magic

from ._docx import ZIP_ERRORS, inspect_docx
from ._pdf import inspect_pdf
from ._text import Texts, UploadRejected

__all__ = [
    "ALLOWED",
    "DOCX",
    "JPEG",
    "PDF",
    "PNG",
    "InspectedFile",
    "UploadRejected",
    "inspect_upload",
    "sanitize_filename",
]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG = "image/png"
JPEG = "image/jpeg"

ALLOWED: dict[str, set[str]] = {
    PDF: {".pdf"},
    DOCX: {".docx"},
    PNG: {".png"},
    JPEG: {".jpg", ".jpeg"},
}

_LABELS = {
    PDF: "en PDF-fil",
    DOCX: "ett Word-dokument",
    PNG: "en PNG-bild",
    JPEG: "en JPEG-bild",
}

#: What libmagic may call a DOCX, depending on its version.
_ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/octet-stream"}

MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class InspectedFile:
    """An accepted upload and what was learnt about it."""

    safe_name: str
    content_type: str
    size: int
    sha256: str
    text: str
    page_count: int | None


def sanitize_filename(name: str) -> str:
    """The basename of ``name`` with only letters, digits, ``._-`` and spaces kept."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if ch.isalpha() or ch in "0123456789._- ")
    name = " ".join(name.split())
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[^\W_]{1,10}", ext):
        stem, ext = name, ""
    else:
        ext = "." + ext
    stem = stem.lstrip(" .-").rstrip(" .") or "bilaga"
    return stem[: MAX_NAME_CHARS - len(ext)].rstrip(" .") + ext


def inspect_upload(
    filename: str, data: bytes, max_bytes: int, allowed_domains: Iterable[str] = ()
) -> InspectedFile:
    """Check an upload against the allow-list, refuse active content and personal data.

    All text a reader can be shown (pages, headers, comments, metadata, form fields …) is
    scanned with ``find_personal_data``; e-mail addresses in ``allowed_domains`` are
    allowed. Raises :class:`UploadRejected` with a Swedish message naming the file.
    """
    name = sanitize_filename(filename)
    if not data:
        raise UploadRejected(f"Filen ”{name}” är tom.")
    if len(data) > max_bytes:
        raise UploadRejected(
            f"Filen ”{name}” är för stor. Den största tillåtna storleken är "
            f"{_megabytes(max_bytes)} MB."
        )
    content_type = _detect_type(data)
    if content_type not in ALLOWED:
        raise UploadRejected(
            f"Filen ”{name}” har en filtyp som inte stöds. "
            "Tillåtna filtyper är PDF, Word (.docx), PNG och JPEG."
        )
    _check_extension(name, content_type)
    texts = Texts(name)
    text, page_count = "", None
    if content_type == PDF:
        text, page_count = inspect_pdf(name, data, texts)
    elif content_type == DOCX:
        text = inspect_docx(name, data, texts)
    texts.check_deidentified(allowed_domains)
    return InspectedFile(
        safe_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        page_count=page_count,
    )


def _megabytes(size: int) -> str:
    """A size in whole MB, or with one decimal (Swedish comma) when not whole."""
    mb = size / (1024 * 1024)
    return str(int(mb)) if mb.is_integer() else f"{mb:.1f}".replace(".", ",")


def _detect_type(data: bytes) -> str:
    """The MIME type libmagic sees, with a zip holding word/document.xml taken as DOCX."""
    try:
        detected = magic.from_buffer(data, mime=True)
    except magic.MagicException:
        detected = "application/octet-stream"
    if detected in _ZIP_TYPES and _has_word_document(data):
        return DOCX
    return detected


def _has_word_document(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except ZIP_ERRORS:
        return False


def _check_extension(name: str, content_type: str) -> None:
    """Refuse a name whose extension does not fit the detected content."""
    extensions = ALLOWED[content_type]
    if _extension(name) not in extensions:
        wanted = " eller ".join(sorted(extensions))
        raise UploadRejected(
            f"Filen ”{name}” är {_LABELS[content_type]} men har inte filändelsen {wanted}."
        )


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""
