"""Inspect uploaded files before they are stored: type, size, active content, text."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

import magic
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

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

MAX_TEXT_CHARS = 2_000_000
MAX_NAME_CHARS = 120
MAX_ZIP_MEMBERS = 1000
MAX_ZIP_TOTAL_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100
#: Members smaller than this are not held to MAX_ZIP_RATIO; the total limit bounds them.
ZIP_RATIO_MIN_BYTES = 1024 * 1024
MAX_PDF_OBJECTS = 2_000_000

_PDF_CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)
_WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
_DOCX_REQUIRED = ("[Content_Types].xml", "word/document.xml")
#: What reading a damaged package can raise (RuntimeError: an encrypted member).
_DOCX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    expat.ExpatError,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    NotImplementedError,
)


class UploadRejected(Exception):
    """An upload that may not be stored; ``message`` is Swedish and fit for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def inspect_upload(filename: str, data: bytes, max_bytes: int) -> InspectedFile:
    """Check an upload against the allow-list and extract its text.

    Raises :class:`UploadRejected` with a Swedish message naming the file.
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
    text, page_count = "", None
    if content_type == PDF:
        text, page_count = _inspect_pdf(name, data)
    elif content_type == DOCX:
        text = _inspect_docx(name, data)
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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
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


# PDF


def _inspect_pdf(name: str, data: bytes) -> tuple[str, int]:
    """Open, vet and extract text from a PDF; return (text, page count)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        page_count = 0 if encrypted else len(reader.pages)
    except Exception as exc:  # pypdf raises many kinds on malformed input
        raise UploadRejected(f"Filen ”{name}” kunde inte öppnas som PDF.") from exc
    if encrypted:
        raise UploadRejected(
            f"Filen ”{name}” är krypterad eller lösenordsskyddad. Ladda upp filen utan lösenord."
        )
    if page_count == 0:
        raise UploadRejected(f"Filen ”{name}” kunde inte öppnas som PDF.")
    problem = _pdf_active_content(reader)
    if problem == "javascript":
        raise UploadRejected(
            f"Filen ”{name}” innehåller JavaScript eller andra automatiska åtgärder "
            "och kan inte tas emot."
        )
    if problem == "embedded":
        raise UploadRejected(f"Filen ”{name}” innehåller bifogade filer och kan inte tas emot.")
    if problem == "complex":
        raise UploadRejected(f"Filen ”{name}” är för komplex för att kunna granskas.")
    return _pdf_text(reader), page_count


def _pdf_active_content(reader: PdfReader) -> str | None:
    """Why the PDF must be refused ("javascript", "embedded" or "complex"), or None.

    Walks every object reachable from the trailer and every object in the
    cross-reference table, so scripts hidden outside the catalog (/Names,
    /OpenAction, /AA, annotation actions) are found as well.
    """
    for count, obj in enumerate(_pdf_objects(reader)):
        if count > MAX_PDF_OBJECTS:
            return "complex"
        if isinstance(obj, DictionaryObject) and (problem := _pdf_dict_problem(obj)):
            return problem
    return None


def _pdf_objects(reader: PdfReader) -> Iterator[DictionaryObject | ArrayObject]:
    """Every dictionary and array of the document, each indirect object once."""
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    stack.extend(
        IndirectObject(num, gen, reader) for gen, nums in reader.xref.items() for num in nums
    )
    stack.extend(IndirectObject(num, 0, reader) for num in reader.xref_objStm)
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = _resolve(obj)
        if isinstance(obj, DictionaryObject):
            children = list(dict.values(obj))
        elif isinstance(obj, ArrayObject):
            children = list(list.__iter__(obj))
        else:
            continue
        yield obj
        stack.extend(c for c in children if isinstance(c, _PDF_CONTAINERS))


def _resolve(obj: object) -> object:
    """The object an indirect reference points to; None when it cannot be read."""
    if not isinstance(obj, IndirectObject):
        return obj
    try:
        return obj.get_object()
    except Exception:  # a broken object cannot run either
        return None


def _pdf_dict_problem(obj: DictionaryObject) -> str | None:
    """Classify one dictionary: script, embedded file, or harmless."""
    action = _resolve(dict.get(obj, "/S"))
    if "/JS" in obj or "/JavaScript" in obj or action in ("/JavaScript", "/Launch"):
        return "javascript"
    if "/EmbeddedFiles" in obj or "/EF" in obj:
        return "embedded"
    kind, subtype = _resolve(dict.get(obj, "/Type")), _resolve(dict.get(obj, "/Subtype"))
    if kind == "/EmbeddedFile" or subtype == "/FileAttachment":
        return "embedded"
    return None


def _pdf_text(reader: PdfReader) -> str:
    """The text of the pages, stopping at MAX_TEXT_CHARS; unreadable pages are skipped."""
    parts: list[str] = []
    size = 0
    for page in reader.pages:
        try:
            text = page.extract_text() or ""
        except Exception:  # text is a convenience; an odd page must not fail the upload
            continue
        parts.append(text)
        size += len(text) + 1
        if size >= MAX_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_TEXT_CHARS]


# DOCX


def _inspect_docx(name: str, data: bytes) -> str:
    """Vet a DOCX package (zip bomb, paths, macros) and return its text."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UploadRejected(f"Filen ”{name}” kunde inte öppnas som Word-dokument.") from exc
    with archive:
        _check_docx_members(name, archive.infolist())
        try:
            if b"macroEnabled" in _read_member(archive, "[Content_Types].xml"):
                raise _macro_rejection(name)
            return _docx_text(archive)
        except _DOCX_ERRORS as exc:
            raise UploadRejected(f"Filen ”{name}” är inte ett giltigt Word-dokument.") from exc


def _check_docx_members(name: str, members: list[zipfile.ZipInfo]) -> None:
    """Refuse zip bombs, unsafe paths, macros and packages without a document."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadRejected(f"Filen ”{name}” innehåller för många delar.")
    bomb = UploadRejected(f"Filen ”{name}” blir för stor när den packas upp.")
    total = 0
    for member in members:
        if _unsafe_member_name(member.filename):
            raise UploadRejected(f"Filen ”{name}” innehåller otillåtna sökvägar.")
        if member.filename.replace("\\", "/").rsplit("/", 1)[-1].lower() == "vbaproject.bin":
            raise _macro_rejection(name)
        total += member.file_size
        ratio_limit = MAX_ZIP_RATIO * max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_MIN_BYTES and member.file_size > ratio_limit:
            raise bomb
    if total > MAX_ZIP_TOTAL_BYTES:
        raise bomb
    names = {member.filename for member in members}
    if not all(required in names for required in _DOCX_REQUIRED):
        raise UploadRejected(f"Filen ”{name}” är inte ett giltigt Word-dokument.")


def _macro_rejection(name: str) -> UploadRejected:
    return UploadRejected(
        f"Filen ”{name}” innehåller makron och kan inte tas emot. "
        "Spara den som ett vanligt Word-dokument (.docx) utan makron."
    )


def _unsafe_member_name(member: str) -> bool:
    """Absolute paths, drive letters and ``..`` parts have no place in a DOCX."""
    if member.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", member):
        return True
    return ".." in re.split(r"[/\\]", member)


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    """A member's bytes; sizes were vetted, and zipfile stops at the declared size."""
    with archive.open(member) as stream:
        return stream.read(MAX_ZIP_TOTAL_BYTES)


class _DocxText:
    """Collects the text of word/document.xml from expat events, up to a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.in_text = False

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def add(self, text: str) -> None:
        if not self.full:
            self.parts.append(text)
            self.size += len(text)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.removeprefix(_WORD_NS)
        if local == "t":
            self.in_text = True
        elif local == "tab":
            self.add("\t")
        elif local in ("br", "cr"):
            self.add("\n")

    def end(self, tag: str) -> None:
        local = tag.removeprefix(_WORD_NS)
        if local == "t":
            self.in_text = False
        elif local == "p":
            self.add("\n")

    def data(self, text: str) -> None:
        if self.in_text:
            self.add(text)

    def text(self) -> str:
        return "".join(self.parts)[: self.limit].rstrip("\n")


def _refuse_dtd(*args: object) -> None:
    """Word never writes a DTD; one could expand entities without bound."""
    raise ValueError("DTD in document.xml")


def _docx_text(archive: zipfile.ZipFile) -> str:
    """Paragraph text (tables included) of word/document.xml, streamed and bounded."""
    collector = _DocxText(MAX_TEXT_CHARS)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.data
    with archive.open("word/document.xml") as stream:
        while chunk := stream.read(64 * 1024):
            parser.Parse(chunk, False)
            if collector.full:
                return collector.text()
        parser.Parse(b"", True)
    return collector.text()
