"""DOCX: the package's structure, its active content, and every part that can hold text.

Every XML part is read with defusedxml's streaming parser (no DTD, no entities), so a
personnummer in a header, a comment, a tracked deletion, a text box (in both the DrawingML
choice and its VML fallback), a chart or the document's properties is found as well as one in
the body.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from ._text import Texts, UploadRejected

MAX_ZIP_MEMBERS = 1000
MAX_ZIP_TOTAL_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100
#: Members smaller than this are not held to MAX_ZIP_RATIO; the total limit bounds them.
ZIP_RATIO_MIN_BYTES = 1024 * 1024
#: Most XML elements read in all parts together; Word writes far fewer for a long report.
MAX_XML_ELEMENTS = 2_000_000

# Where text was found, as the error message names it.
BODY = "dokumentets text"
TEXT_BOXES = "textrutor"
HEADERS = "sidhuvud eller sidfot"
NOTES = "fotnoter eller slutnoter"
COMMENTS = "kommentarer"
DELETIONS = "spårade ändringar"
AUTHORS = "författare till kommentarer eller ändringar"
LINKS = "länkar"
PROPERTIES = "dokumentets egenskaper"
OTHER = "andra delar av dokumentet"
_PLACES = (BODY, TEXT_BOXES, HEADERS, NOTES, COMMENTS, DELETIONS, AUTHORS, LINKS, OTHER, PROPERTIES)

_REFUSALS = {
    "macro": "innehåller makron och kan inte tas emot. "
    "Spara den som ett vanligt Word-dokument (.docx) utan makron.",
    "ole": "innehåller inbäddade objekt eller filer (till exempel OLE-objekt eller diagram med "
    "Excel-data) och kan inte tas emot. Klistra in dem som bilder i stället.",
    "activex": "innehåller ActiveX-kontroller och kan inte tas emot.",
    "altchunk": "innehåller inbäddat innehåll i ett annat format (altChunk) och kan inte tas "
    "emot. Spara den som ett vanligt Word-dokument (.docx).",
    "remote": "hämtar en mall eller annat innehåll från en annan plats när den öppnas och kan "
    "inte tas emot. Spara den som ett vanligt Word-dokument utan kopplad mall.",
    "dde": "innehåller fältkoder som kan starta program (DDE) och kan inte tas emot.",
    "complex": "är för komplex för att kunna granskas.",
}

_W = {
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
}
_W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
_DRAWING = {
    "http://schemas.openxmlformats.org/drawingml/2006/main",
    "http://purl.oclc.org/ooxml/drawingml/main",
}
_CHART = {
    "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "http://purl.oclc.org/ooxml/drawingml/chart",
}
_MATH = {
    "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "http://purl.oclc.org/ooxml/officeDocument/math",
}
#: Elements that carry w:author (besides the *Change and *RangeStart ones).
_AUTHORED = {"comment", "ins", "del", "moveFrom", "moveTo", "cellIns", "cellDel", "cellMerge"}
_VML_OFFICE = "urn:schemas-microsoft-com:office:office"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_PROPERTY_TYPES = ("core-properties+xml", "extended-properties+xml", "custom-properties+xml")
#: Content types of parts that hold formatting only (Word shows no text from them), skipped
#: for speed: python-docx's styles alone are 800 kB. Parts Word shows text from (document,
#: header, comments …) have their own types and are all read.
_WITHOUT_TEXT = (
    ".styles+xml",
    ".styleswitheffects+xml",
    ".fonttable+xml",
    ".theme+xml",
    ".themeoverride+xml",
)
_PROPERTY_PARTS = ("docprops/core.xml", "docprops/app.xml", "docprops/custom.xml")

#: Relationship types (the last part of the type URI) that are refused whatever they point at.
_REFUSED_RELATIONSHIPS = {
    "vbaProject": "macro",
    "vbaProjectSignature": "macro",
    "wordVbaData": "macro",
    "keyMapCustomizations": "macro",
    "oleObject": "ole",
    "package": "ole",
    "control": "activex",
    "activeXControlBinary": "activex",
    "aFChunk": "altchunk",
    "subDocument": "remote",
}
#: Relationship types refused when they point outside the package.
_REFUSED_EXTERNAL = {"frame": "remote"}
#: A template on the user's own drive (file:///C:/… or C:\…) is not fetched from anywhere.
_LOCAL_PATH = re.compile(r"(?i)(?:file:///)?[a-z]:[\\/][^:*?\"<>|]*")
_DDE = re.compile(r"(?im)^[\s\"]*DDE(?:AUTO)?\b")

_REQUIRED = ("[Content_Types].xml", "word/document.xml")
#: What opening a damaged zip can raise (NotImplementedError: an unknown zip version).
ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError)
#: What reading a damaged package can raise (RuntimeError: an encrypted member).
_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    SAXException,
    DefusedXmlException,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    KeyError,
    LookupError,
)


class _Refused(Exception):
    """Active content of the kind ``kind`` (a key of _REFUSALS) was found."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def inspect_docx(name: str, data: bytes, texts: Texts) -> str:
    """Vet a DOCX package, gather all its text into ``texts`` and return the body's."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as exc:
        raise UploadRejected(f"Filen ”{name}” kunde inte öppnas som Word-dokument.") from exc
    texts.arrange(_PLACES)
    with archive:
        try:
            _check_members(name, archive.infolist())
            _read_package(archive, texts)
        except _Refused as exc:
            raise UploadRejected(f"Filen ”{name}” {_REFUSALS[exc.kind]}") from None
        except _ERRORS as exc:
            raise UploadRejected(f"Filen ”{name}” är inte ett giltigt Word-dokument.") from exc
    return texts.text(BODY)


def _check_members(name: str, members: list[zipfile.ZipInfo]) -> None:
    """Refuse zip bombs, unsafe paths, packages without a document and binary active parts."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadRejected(f"Filen ”{name}” innehåller för många delar.")
    bomb = UploadRejected(f"Filen ”{name}” blir för stor när den packas upp.")
    total = 0
    for member in members:
        if _unsafe_member_name(member.filename):
            raise UploadRejected(f"Filen ”{name}” innehåller otillåtna sökvägar.")
        _check_member_name(member.filename)
        total += member.file_size
        ratio_limit = MAX_ZIP_RATIO * max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_MIN_BYTES and member.file_size > ratio_limit:
            raise bomb
    if total > MAX_ZIP_TOTAL_BYTES:
        raise bomb
    names = {member.filename for member in members}
    # A name twice (OPC names ignore case) could show Word one part and the scan another.
    unique = len({member.filename.lower() for member in members}) == len(members)
    if not unique or not all(required in names for required in _REQUIRED):
        raise UploadRejected(f"Filen ”{name}” är inte ett giltigt Word-dokument.")


def _unsafe_member_name(member: str) -> bool:
    """Absolute paths, drive letters and ``..`` parts have no place in a DOCX."""
    if member.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", member):
        return True
    return ".." in re.split(r"[/\\]", member)


def _check_member_name(member: str) -> None:
    """Macros, ActiveX controls and embedded objects, known by where Word keeps them."""
    *folders, base = member.replace("\\", "/").lower().split("/")
    if base in ("vbaproject.bin", "vbadata.xml"):
        raise _Refused("macro")
    if "activex" in folders:
        raise _Refused("activex")
    if "embeddings" in folders:
        raise _Refused("ole")


def _read_package(archive: zipfile.ZipFile, texts: Texts) -> None:
    """Check the content types and relationships, then read the text of every XML part."""
    budget = _Budget()
    types = _ContentTypes(budget)
    _parse(archive, "[Content_Types].xml", types)
    if types.macros:
        raise _Refused("macro")
    parts = []
    for member in archive.infolist():
        part = member.filename
        if member.is_dir() or part == "[Content_Types].xml":
            continue
        content_type = types.of(part)
        if "activex" in content_type:
            raise _Refused("activex")
        if "oleobject" in content_type:
            raise _Refused("ole")
        if part.lower().endswith(".rels") or content_type.endswith("relationships+xml"):
            _parse(archive, member, _Relationships(budget, texts))
        elif part.lower().endswith(".xml") or content_type.endswith(("+xml", "/xml")):
            parts.append((member, content_type))
    for member, content_type in parts:
        if content_type.endswith(_WITHOUT_TEXT):
            continue
        if member.filename.lower() in _PROPERTY_PARTS or content_type.endswith(_PROPERTY_TYPES):
            _parse(archive, member, _Properties(budget, texts))
        else:
            _parse(archive, member, _WordPart(budget, texts, _where(member.filename)))


def _where(part: str) -> str:
    """Where a word part's text is, by the part's name."""
    if part == "word/document.xml":
        return BODY
    base = part.rsplit("/", 1)[-1].lower()
    if base.startswith(("header", "footer")):
        return HEADERS
    if base.startswith(("footnotes", "endnotes")):
        return NOTES
    if base.startswith(("comments", "people")):
        return COMMENTS
    return OTHER


def _parse(archive: zipfile.ZipFile, part: str | zipfile.ZipInfo, handler: ContentHandler) -> None:
    """Stream one part through defusedxml's SAX parser: no DTD, entities or external refs."""
    parser = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    with archive.open(part) as stream:
        while chunk := stream.read(64 * 1024):
            parser.feed(chunk)
    parser.close()


class _Budget:
    """Counts XML elements over the whole package and stops at MAX_XML_ELEMENTS."""

    def __init__(self) -> None:
        self.elements = 0

    def spend(self) -> None:
        self.elements += 1
        if self.elements > MAX_XML_ELEMENTS:
            raise _Refused("complex")


class _ContentTypes(ContentHandler):
    """[Content_Types].xml: the declared type of each part, and whether macros are declared."""

    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self.budget = budget
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        self.macros = False

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        self.budget.spend()
        uri, local = name
        if uri != _CONTENT_TYPES:
            return
        content_type = (attrs.get((None, "ContentType")) or "").lower()
        if any(word in content_type for word in ("macroenabled", "vbaproject", "vbadata")):
            self.macros = True
        if local == "Default":
            self.defaults[(attrs.get((None, "Extension")) or "").lower()] = content_type
        elif local == "Override":
            self.overrides[(attrs.get((None, "PartName")) or "").lower()] = content_type

    def of(self, part: str) -> str:
        """The content type of ``part``: its override, else its extension's default."""
        override = self.overrides.get("/" + part.lower())
        if override is not None:
            return override
        return self.defaults.get(part.rpartition(".")[2].lower(), "")


class _Relationships(ContentHandler):
    """A .rels part: refuse what reaches outside the package or runs; keep link targets."""

    def __init__(self, budget: _Budget, texts: Texts) -> None:
        super().__init__()
        self.budget = budget
        self.texts = texts

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        self.budget.spend()
        if name[1] != "Relationship":
            return
        kind = (attrs.get((None, "Type")) or "").rsplit("/", 1)[-1]
        target = (attrs.get((None, "Target")) or "").strip()
        external = (attrs.get((None, "TargetMode")) or "").lower() == "external"
        if kind in _REFUSED_RELATIONSHIPS:
            raise _Refused(_REFUSED_RELATIONSHIPS[kind])
        if external and kind in _REFUSED_EXTERNAL:
            raise _Refused(_REFUSED_EXTERNAL[kind])
        if kind == "attachedTemplate" and external and not _LOCAL_PATH.fullmatch(target):
            raise _Refused("remote")
        if external:
            self.texts.add(LINKS, target + "\n")


class _Properties(ContentHandler):
    """docProps/core.xml, app.xml and custom.xml: every value, and custom properties' names."""

    def __init__(self, budget: _Budget, texts: Texts) -> None:
        super().__init__()
        self.budget = budget
        self.texts = texts

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        self.budget.spend()
        if name[1] == "property" and (label := attrs.get((None, "name"))):
            self.texts.add(PROPERTIES, label + "\n")

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        self.texts.add(PROPERTIES, "\n")

    def characters(self, content: str) -> None:
        self.texts.add(PROPERTIES, content)


class _WordPart(ContentHandler):
    """One WordprocessingML part (document, header, comments, chart …): text and objects."""

    def __init__(self, budget: _Budget, texts: Texts, where: str) -> None:
        super().__init__()
        self.budget = budget
        self.texts = texts
        self.where = where
        self.target: str | None = None
        self.in_field_code = False
        self.text_boxes = 0
        self.touched: set[str] = set()
        self.field_codes: list[str] = []

    @property
    def here(self) -> str:
        """Where the text being read belongs: a text box, or the part itself."""
        return TEXT_BOXES if self.text_boxes else self.where

    def add(self, where: str, text: str) -> None:
        self.texts.add(where, text)
        self.touched.add(where)

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        self.budget.spend()
        uri, local = name
        if uri in _W:
            self._word_element(local, attrs)
        elif (uri in _DRAWING or uri in _MATH) and local == "t" or uri in _CHART and local == "v":
            self.target = self.here
        elif uri == _VML_OFFICE and local == "OLEObject":
            raise _Refused("ole")
        elif uri == _W15 and local in ("person", "presenceInfo"):
            for key in ("author", "userId"):
                if value := attrs.get((_W15, key)):
                    self.add(AUTHORS, value + "\n")

    def _word_element(self, local: str, attrs: AttributesNSImpl) -> None:
        if local in _AUTHORED or local.endswith(("Change", "RangeStart")):
            for key in ("author", "initials"):
                if value := _w_attr(attrs, key):
                    self.add(AUTHORS, value + "\n")
        if local == "t":
            self.target = self.here
        elif local == "delText":
            self.target = DELETIONS
        elif local in ("instrText", "delInstrText"):
            self.target = self.here
            self.in_field_code = True
        elif local == "tab":
            self.add(self.here, "\t")
        elif local in ("br", "cr"):
            self.add(self.here, "\n")
        elif local == "txbxContent":
            self.text_boxes += 1
        elif local == "fldChar" and _w_attr(attrs, "fldCharType") == "begin":
            self.field_codes.append("\n")
        elif local == "fldSimple":
            code = _w_attr(attrs, "instr") or ""
            self.field_codes.append("\n" + code)
            self.add(self.here, code + "\n")
        elif local == "docVar":
            self.add(self.here, (_w_attr(attrs, "val") or "") + "\n")
        elif local == "object":
            raise _Refused("ole")
        elif local == "control":
            raise _Refused("activex")
        elif local == "altChunk":
            raise _Refused("altchunk")

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        uri, local = name
        if local in ("t", "delText", "instrText", "delInstrText", "v"):
            self.target = None
            self.in_field_code = False
        elif local == "p" and (uri in _W or uri in _DRAWING):
            self._end_paragraph()
        elif local == "txbxContent" and uri in _W:
            self.text_boxes -= 1

    def characters(self, content: str) -> None:
        if self.target is not None:
            self.add(self.target, content)
        if self.in_field_code:
            self.field_codes.append(content)

    def endDocument(self) -> None:
        if _DDE.search("".join(self.field_codes)):
            raise _Refused("dde")
        self._end_paragraph()

    def _end_paragraph(self) -> None:
        """End a line in every kind of text the paragraph added to."""
        for where in self.touched:
            self.texts.add(where, "\n")
        self.touched.clear()


def _w_attr(attrs: AttributesNSImpl, key: str) -> str | None:
    """A w: attribute in the transitional or the strict namespace."""
    return next((attrs.get((w, key)) for w in _W if (w, key) in attrs), None)
