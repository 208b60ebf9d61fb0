"""PDF: encryption, active content, XFA forms, and the text of pages, metadata,
annotations, form fields and bookmarks."""

from __future__ import annotations

import html
import io
import re
import time
from collections.abc import Iterator
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from ._text import Texts, UploadRejected

#: Most dictionaries and arrays walked; a report of a few hundred pages has far fewer.
MAX_PDF_OBJECTS = 200_000
#: Most annotations and form fields read.
MAX_PDF_ANNOTATIONS = 10_000
#: Most decoded content of one page: pypdf reads text operators at a few seconds a megabyte.
MAX_PDF_PAGE_CONTENT = 4 * 1024 * 1024
#: Most seconds spent reading the pages' text (checked between pages).
MAX_PDF_TEXT_SECONDS = 20.0

# Where text was found, as the error message names it.
PAGES = "sidornas text"
PROPERTIES = "dokumentets egenskaper"
ANNOTATIONS = "kommentarer och anteckningar"
FIELDS = "formulärfält"
BOOKMARKS = "bokmärken"
SIGNATURES = "digitala underskrifter"
_PLACES = (PAGES, ANNOTATIONS, FIELDS, BOOKMARKS, SIGNATURES, PROPERTIES)

_REFUSALS = {
    "javascript": "innehåller JavaScript eller andra automatiska åtgärder och kan inte tas emot.",
    "embedded": "innehåller bifogade filer och kan inte tas emot.",
    "xfa": "är ett XFA-formulär och kan inte tas emot. "
    "Skriv ut den till en vanlig PDF-fil och ladda upp den i stället.",
    "complex": "är för komplex för att kunna granskas.",
}

_PDF_CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)
#: Actions that run code, start programs, send or fetch data, or open other files.
_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
    "/RichMediaExecute",
}
_FIELD_KEYS = ("/T", "/TU", "/TM", "/V", "/DV", "/Opt")
_ANNOTATION_KEYS = ("/Contents", "/Subj", "/RC")
_SIGNATURE_KEYS = ("/Name", "/Reason", "/Location", "/ContactInfo")
#: XMP namespaces of identifiers and editing history, not of what the document is about.
_XMP_IDS = {
    "http://ns.adobe.com/xap/1.0/mm/",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
}
#: Attributes of the RDF and XML syntax itself (rdf:about, xml:lang).
_XMP_SYNTAX = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/XML/1998/namespace",
}


def inspect_pdf(name: str, data: bytes, texts: Texts) -> tuple[str, int]:
    """Open and vet a PDF, gather all its text into ``texts``; return (page text, pages)."""
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
    texts.arrange(_PLACES)
    if problem := _walk(reader, texts):
        raise UploadRejected(f"Filen ”{name}” {_REFUSALS[problem]}")
    _metadata(reader, texts)
    if problem := _page_text(reader, texts):
        raise UploadRejected(f"Filen ”{name}” {_REFUSALS[problem]}")
    return texts.text(PAGES), page_count


def _walk(reader: PdfReader, texts: Texts) -> str | None:
    """Why the PDF must be refused (a key of _REFUSALS), or None; gathers text on the way.

    Walks every object reachable from the trailer and every object in the
    cross-reference table, so scripts hidden outside the catalog (/Names,
    /OpenAction, /AA, annotation actions, /Next chains, outlines) are found, and so
    are annotations and fields whatever refers to them.
    """
    if sum(map(len, reader.xref.values())) + len(reader.xref_objStm) > MAX_PDF_OBJECTS:
        return "complex"
    annotations = 0
    for count, obj in enumerate(_objects(reader)):
        if count > MAX_PDF_OBJECTS:
            return "complex"
        if not isinstance(obj, DictionaryObject):
            continue
        if problem := _dict_problem(obj):
            return problem
        if where := _text_kind(obj):
            annotations += where in (ANNOTATIONS, FIELDS)
            if annotations > MAX_PDF_ANNOTATIONS:
                return "complex"
            _dict_text(obj, where, texts)
    return None


def _objects(reader: PdfReader) -> Iterator[DictionaryObject | ArrayObject]:
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


def _dict_problem(obj: DictionaryObject) -> str | None:
    """Classify one dictionary: script or other refused action, embedded file, XFA, harmless."""
    action = _resolve(dict.get(obj, "/S"))
    if "/JS" in obj or "/JavaScript" in obj or isinstance(action, str) and action in _ACTIONS:
        return "javascript"
    if "/EmbeddedFiles" in obj or "/EF" in obj:
        return "embedded"
    kind, subtype = _resolve(dict.get(obj, "/Type")), _resolve(dict.get(obj, "/Subtype"))
    if kind == "/EmbeddedFile" or subtype == "/FileAttachment":
        return "embedded"
    if "/XFA" in obj:
        return "xfa"
    return None


def _text_kind(obj: DictionaryObject) -> str | None:
    """Whether a dictionary is a form field, an annotation, a bookmark or a signature."""
    kind = _resolve(dict.get(obj, "/Type"))
    if "/FT" in obj or "/T" in obj and ("/Kids" in obj or "/Parent" in obj):
        return FIELDS
    if kind == "/Annot" or "/Subtype" in obj and "/Rect" in obj:
        return ANNOTATIONS
    if "/Title" in obj and "/Parent" in obj:
        return BOOKMARKS
    if kind == "/Sig" or "/ByteRange" in obj:
        return SIGNATURES
    return None


def _dict_text(obj: DictionaryObject, where: str, texts: Texts) -> None:
    """Keep the text entries of a field, annotation, bookmark or signature."""
    keys: tuple[str, ...]
    if where == FIELDS:
        keys = _FIELD_KEYS + _ANNOTATION_KEYS
    elif where == ANNOTATIONS:
        keys = ("/T", *_ANNOTATION_KEYS)
    elif where == BOOKMARKS:
        keys = ("/Title",)
    else:
        keys = _SIGNATURE_KEYS
    for key in keys:
        for text in _strings(_resolve(dict.get(obj, key))):
            if key == "/RC":
                text = _markup_text(text)
            texts.add(where, text + "\n")


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    """The text in a string, name, text stream or (nested) array of those."""
    if isinstance(value, ByteStringObject):
        yield bytes(value).decode("latin-1")
    elif isinstance(value, NameObject):
        yield value[1:]
    elif isinstance(value, str):
        yield value
    elif isinstance(value, StreamObject):
        yield _decode(value)
    elif isinstance(value, ArrayObject) and depth < 2:
        for item in list.__iter__(value):
            yield from _strings(_resolve(item), depth + 1)


def _decode(stream: StreamObject) -> str:
    """A text stream's content; empty when it cannot be decoded (then it cannot be shown)."""
    try:
        data = stream.get_data()
    except Exception:  # pypdf raises many kinds on broken filters and its size limits
        return ""
    if data.startswith((b"\xfe\xff", b"\xff\xfe")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace")


def _markup_text(markup: str) -> str:
    """The text of rich text (XHTML): tags dropped, character references resolved."""
    return html.unescape(re.sub(r"<[^<>]*>", "", markup))


def _metadata(reader: PdfReader, texts: Texts) -> None:
    """The document information dictionary and the catalog's XMP metadata."""
    info = _resolve(reader.trailer.get("/Info"))
    if isinstance(info, DictionaryObject):
        for value in list(dict.values(info)):
            for text in _strings(_resolve(value)):
                texts.add(PROPERTIES, text + "\n")
    root = _resolve(reader.trailer.get("/Root"))
    metadata = _resolve(dict.get(root, "/Metadata")) if isinstance(root, DictionaryObject) else None
    if isinstance(metadata, StreamObject):
        _xmp_text(_raw(metadata), texts)


def _raw(stream: StreamObject) -> bytes:
    try:
        return stream.get_data()
    except Exception:  # pypdf raises many kinds on broken filters and its size limits
        return b""


def _xmp_text(data: bytes, texts: Texts) -> None:
    """The values of an XMP packet, read with defusedxml; its raw text if it is not XML."""
    if not data:
        return
    handler = _Xmp(texts)
    parser = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    try:
        parser.feed(data)
        parser.close()
    except (SAXException, DefusedXmlException, ValueError):
        texts.add(PROPERTIES, data.decode("utf-8", errors="replace") + "\n")


class _Xmp(ContentHandler):
    """Collects XMP values (elements and attributes), skipping identifiers and history."""

    def __init__(self, texts: Texts) -> None:
        super().__init__()
        self.texts = texts
        self.skipping = 0

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        if self.skipping or name[0] in _XMP_IDS:
            self.skipping += 1
            return
        for (uri, _local), value in attrs.items():
            if uri not in _XMP_IDS and uri not in _XMP_SYNTAX:
                self.texts.add(PROPERTIES, value + "\n")

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        if self.skipping:
            self.skipping -= 1
        else:
            self.texts.add(PROPERTIES, "\n")

    def characters(self, content: str) -> None:
        if not self.skipping:
            self.texts.add(PROPERTIES, content)


def _page_text(reader: PdfReader, texts: Texts) -> str | None:
    """Gather the pages' text ("complex" when over budget); unreadable pages are skipped."""
    deadline = time.monotonic() + MAX_PDF_TEXT_SECONDS
    for page in reader.pages:
        if time.monotonic() > deadline:
            return "complex"
        try:
            contents = page.get_contents()
            if contents is not None and len(contents.get_data()) > MAX_PDF_PAGE_CONTENT:
                return "complex"
            text = page.extract_text() or ""
        except Exception:  # an odd page must not fail the upload; it cannot show text either
            continue
        texts.add(PAGES, text + "\n")
    return None
