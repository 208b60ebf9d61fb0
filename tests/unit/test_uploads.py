"""Upload inspection: allow-list, forged types, PDF and DOCX structure, text extraction."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript, PageTrigger
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from formservice.documents.uploads import (
    DOCX,
    InspectedFile,
    UploadRejected,
    _docx,
    _pdf,
    _text,
    inspect_upload,
    sanitize_filename,
)
from tests.upload_files import (
    EMAIL,
    HOSTILE,
    PNR,
    Hostile,
    add_annotations,
    annotation,
    blank_pdf,
    clean_pdf,
    clean_word_document,
    declare,
    edit_docx,
    repack,
    with_header,
    with_template,
    word_document,
)

MB = 1024 * 1024
LIMIT = 20 * MB
CORE_PROPERTIES = "application/vnd.openxmlformats-package.core-properties+xml"


# Fixtures, all built in code


def png() -> bytes:
    """A valid 1×1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """The start of a JFIF file: enough for libmagic, truncated as an image."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def raw_pdf(*extra: bytes, text: bytes = b"Hej hej") -> bytes:
    """A hand-written PDF showing ``text`` in Helvetica, with a correct xref table."""
    content = b"BT /F1 12 Tf 72 712 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def rejection(name: str, data: bytes, max_bytes: int = LIMIT) -> str:
    """The Swedish message for a refused upload; it always starts by naming the file."""
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(name, data, max_bytes)
    message = caught.value.message
    assert message == str(caught.value)
    assert message.startswith(f"Filen ”{sanitize_filename(name)}”")
    return message


# Accepted files


@pytest.mark.parametrize(
    "name, data, content_type",
    [
        ("bild.png", png(), "image/png"),
        ("BILD.PNG", png(), "image/png"),
        ("foto.jpg", jpeg(), "image/jpeg"),
        ("foto.jpeg", jpeg(), "image/jpeg"),
        ("trasig.png", png()[:40], "image/png"),
    ],
)
def test_images_are_accepted(name: str, data: bytes, content_type: str) -> None:
    inspected = inspect_upload(name, data, LIMIT)
    assert inspected == InspectedFile(
        safe_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        text="",
        page_count=None,
    )


def test_pdf_text_and_pages() -> None:
    inspected = inspect_upload("Rapport.PDF", raw_pdf(), LIMIT)
    assert inspected.content_type == "application/pdf"
    assert inspected.page_count == 1
    assert "Hej hej" in inspected.text


def test_blank_pdf_from_pypdf() -> None:
    inspected = inspect_upload("tom.pdf", blank_pdf(), LIMIT)
    assert (inspected.page_count, inspected.text) == (1, "")


def test_docx_text_with_table() -> None:
    inspected = inspect_upload("Protokoll åäö.docx", word_document(), LIMIT)
    assert inspected.content_type == DOCX
    assert inspected.safe_name == "Protokoll åäö.docx"
    assert inspected.page_count is None
    assert inspected.text.splitlines() == ["Hej från Åsa", "Cell A", "Cell B"]


def test_docx_seen_as_zip_is_still_docx() -> None:
    """Older libmagic says application/zip when [Content_Types].xml is not first."""
    source = word_document()
    with zipfile.ZipFile(io.BytesIO(source)) as old:
        members = {name: old.read(name) for name in old.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for name in sorted(members, reverse=True):
            new.writestr(name, members[name])
    assert inspect_upload("omsorterad.docx", out.getvalue(), LIMIT).content_type == DOCX


def test_too_much_text_is_refused_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text beyond the limit would go unscanned, so the file is refused."""
    monkeypatch.setattr(_text, "MAX_TEXT_CHARS", 5)
    for name, data in (("a.docx", word_document()), ("a.pdf", raw_pdf())):
        assert rejection(name, data) == (
            f"Filen ”{name}” innehåller för mycket text för att kunna granskas. "
            "Dela upp den i mindre filer."
        )


# Size and type


def test_empty_file() -> None:
    assert rejection("tom.pdf", b"") == "Filen ”tom.pdf” är tom."


def test_too_large_names_the_limit() -> None:
    message = rejection("stor.pdf", b"%PDF-1.4" + b"\0" * MB, max_bytes=MB)
    assert message == "Filen ”stor.pdf” är för stor. Den största tillåtna storleken är 1 MB."
    assert "1,5 MB" in rejection("stor.pdf", b"\0" * (2 * MB), max_bytes=3 * MB // 2)


@pytest.mark.parametrize(
    "name, data",
    [
        ("program.pdf", b"MZ\x90\x00\x03" + b"\0" * 200),
        ("skript.pdf", b"#!/bin/sh\nrm -rf /\n"),
        ("text.docx", "Bara text, åäö.".encode()),
        ("bild.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
    ],
)
def test_type_not_on_the_allow_list(name: str, data: bytes) -> None:
    assert "filtyp som inte stöds" in rejection(name, data)


@pytest.mark.parametrize(
    "name, data, says",
    [
        ("bild.pdf", png(), "är en PNG-bild men har inte filändelsen .png"),
        ("rapport.docx", raw_pdf(), "är en PDF-fil men har inte filändelsen .pdf"),
        ("dokument.pdf", word_document(), "är ett Word-dokument men har inte filändelsen .docx"),
        ("foto.png", jpeg(), "är en JPEG-bild men har inte filändelsen .jpeg eller .jpg"),
        ("rapport", raw_pdf(), "är en PDF-fil"),
    ],
)
def test_forged_extension(name: str, data: bytes, says: str) -> None:
    assert says in rejection(name, data)


# Names


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("\\\\server\\share\\bilaga.docx", "bilaga.docx"),
        ("Åsa Öberg – anteckningar (1).pdf", "Åsa Öberg anteckningar 1.pdf"),
        ("a\x00b\x1f\x7fc.png", "abc.png"),
        ("rapport\u202egnp.pdf", "rapportgnp.pdf"),
        ("A\u030asa.pdf", "Åsa.pdf"),
        ("  .hemlig.pdf ", "hemlig.pdf"),
        (".pdf", "bilaga.pdf"),
        ("../..", "bilaga"),
        ("", "bilaga"),
        ("<script>.png", "script.png"),
        ("x" * 300 + ".docx", "x" * 115 + ".docx"),
    ],
)
def test_sanitize_filename(raw: str, safe: str) -> None:
    assert sanitize_filename(raw) == safe
    assert len(sanitize_filename(raw)) <= 120


def test_messages_name_only_the_basename() -> None:
    message = rejection("../../etc/passwd.pdf", png())
    assert "passwd.pdf" in message
    assert "etc" not in message and ".." not in message


def test_accepted_file_has_the_sanitised_name() -> None:
    assert inspect_upload("C:\\x\\y.pdf", raw_pdf(), LIMIT).safe_name == "y.pdf"


# PDF


def open_action_js(writer: PdfWriter) -> None:
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hej')"),
        }
    )


def open_action_launch(writer: PdfWriter) -> None:
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
    )


def page_open_js(writer: PdfWriter) -> None:
    writer.pages[0].add_action(PageTrigger.OPEN, JavaScript("app.alert('sida')"))


def link_js(writer: PdfWriter) -> None:
    action = JavaScript("app.alert('länk')")
    writer.pages[0][NameObject("/Annots")] = ArrayObject([annotation("/Link", A=action)])


def file_attachment_annotation(writer: PdfWriter) -> None:
    spec = DictionaryObject({NameObject("/F"): TextStringObject("virus.exe")})
    writer.pages[0][NameObject("/Annots")] = ArrayObject([annotation("/FileAttachment", FS=spec)])


@pytest.mark.parametrize(
    "data",
    [
        blank_pdf(lambda w: w.add_open_action(JavaScript("app.alert('namn')"))),
        blank_pdf(open_action_js),
        blank_pdf(open_action_launch),
        blank_pdf(page_open_js),
        blank_pdf(link_js),
        raw_pdf(b"<< /J#53 (app.alert(1)) /S /Jav#61Script >>"),  # unreferenced, escaped names
        raw_pdf(b"<< /S 7 0 R /F (cmd.exe) >>", b"/Launch"),  # the action type behind a reference
    ],
    ids=[
        "names-tree",
        "open-action",
        "launch",
        "page-aa",
        "link-annotation",
        "hidden-object",
        "indirect-launch",
    ],
)
def test_pdf_with_javascript(data: bytes) -> None:
    assert rejection("skript.pdf", data) == (
        "Filen ”skript.pdf” innehåller JavaScript eller andra automatiska åtgärder "
        "och kan inte tas emot."
    )


@pytest.mark.parametrize(
    "data",
    [
        blank_pdf(lambda w: w.add_attachment("bilaga.txt", b"hemligt")),
        blank_pdf(file_attachment_annotation),
    ],
    ids=["embedded-files", "file-attachment-annotation"],
)
def test_pdf_with_embedded_files(data: bytes) -> None:
    assert rejection("inbaddad.pdf", data) == (
        "Filen ”inbaddad.pdf” innehåller bifogade filer och kan inte tas emot."
    )


def test_encrypted_pdf() -> None:
    data = blank_pdf(lambda w: w.encrypt("hemligt"))
    assert "är krypterad eller lösenordsskyddad" in rejection("låst.pdf", data)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"trasigt " * 200,
        b"%PDF-1.7\n%%EOF\n",
        raw_pdf()[:300],
    ],
    ids=["garbage", "no-objects", "truncated"],
)
def test_pdf_that_cannot_be_opened(data: bytes) -> None:
    assert rejection("trasig.pdf", data) == "Filen ”trasig.pdf” kunde inte öppnas som PDF."


# DOCX


def test_docx_that_is_not_a_zip() -> None:
    source = word_document()
    message = rejection("trasig.docx", source[: len(source) // 2])
    assert message == "Filen ”trasig.docx” kunde inte öppnas som Word-dokument."


def test_docx_without_document() -> None:
    data = repack(word_document(), drop=("word/document.xml",))
    assert rejection("halv.docx", data) == "Filen ”halv.docx” är inte ett giltigt Word-dokument."


def test_docx_without_content_types() -> None:
    data = repack(word_document(), drop=("[Content_Types].xml",))
    assert rejection("halv.docx", data) == "Filen ”halv.docx” är inte ett giltigt Word-dokument."


def test_docx_with_too_many_members() -> None:
    extra = {f"customXml/extra{n}.xml": b"<a/>" for n in range(1001)}
    assert "för många delar" in rejection("många.docx", repack(word_document(), extra))


def test_docx_zip_bomb_total_size() -> None:
    """200 MB of zeros packs to about 200 KB."""
    out = io.BytesIO(repack(word_document()))
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/bomb.bin", "w") as member,
    ):
        chunk = bytes(MB)
        for _ in range(200):
            member.write(chunk)
    data = out.getvalue()
    assert len(data) < 2 * MB
    assert "blir för stor när den packas upp" in rejection("bomb.docx", data)


def test_docx_zip_bomb_ratio() -> None:
    data = repack(word_document(), {"word/media/tom.bin": bytes(5 * MB)})
    assert "blir för stor när den packas upp" in rejection("kvot.docx", data)


def test_docx_total_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_docx, "MAX_ZIP_TOTAL_BYTES", 10_000)
    assert "blir för stor när den packas upp" in rejection("stor.docx", word_document())


@pytest.mark.parametrize(
    "member", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml", "C:/evil.xml", "..\\evil"]
)
def test_docx_with_unsafe_paths(member: str) -> None:
    data = repack(word_document(), {member: b"<a/>"})
    assert "innehåller otillåtna sökvägar" in rejection("väg.docx", data)


def test_docx_with_macros() -> None:
    data = repack(word_document(), {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    assert "innehåller makron" in rejection("makro.docx", data)


def test_docx_declaring_macro_content() -> None:
    source = word_document()
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        types = archive.read("[Content_Types].xml").replace(
            b"document.main+xml", b"document.macroEnabled.main+xml"
        )
    data = repack(source, {"[Content_Types].xml": types}, drop=("[Content_Types].xml",))
    assert "innehåller makron" in rejection("makro.docx", data)


def test_docx_with_a_dtd_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = repack(word_document(), {"word/document.xml": laughs}, drop=("word/document.xml",))
    assert "är inte ett giltigt Word-dokument" in rejection("dtd.docx", data)


def test_docx_with_broken_xml() -> None:
    data = repack(
        word_document(), {"word/document.xml": b"<w:document>"}, drop=("word/document.xml",)
    )
    assert "är inte ett giltigt Word-dokument" in rejection("xml.docx", data)


# Personal data and active content wherever they hide (issue 12, item 6)


@pytest.mark.parametrize("case", HOSTILE, ids=[case.id for case in HOSTILE])
def test_hostile_file_is_refused(case: Hostile) -> None:
    message = rejection(case.filename, case.build())
    assert message == f"Filen ”{case.filename}” {case.says}"
    assert PNR not in message and EMAIL not in message


def test_clean_word_document_with_text_everywhere_passes() -> None:
    data = clean_word_document()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        settings_rels = archive.read("word/_rels/settings.xml.rels")
    assert {"word/comments.xml", "word/footnotes.xml", "docProps/core.xml"} <= names
    assert any(n.startswith("word/header") for n in names)
    assert any(n.startswith("word/footer") for n in names)
    assert b"attachedTemplate" in settings_rels
    inspected = inspect_upload("ren.docx", data, LIMIT)
    assert inspected.content_type == DOCX
    assert "Remissen besvarades inte." in inspected.text.splitlines()


def test_clean_pdf_with_annotations_metadata_and_fields_passes() -> None:
    data = clean_pdf()
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "Avvikelse i BUS-samverkan"
    assert len(reader.pages[0]["/Annots"]) == 3
    assert reader.outline and "/Metadata" in reader.trailer["/Root"]
    assert inspect_upload("ren.pdf", data, LIMIT).page_count == 1


def test_pdf_page_text_is_scanned() -> None:
    message = rejection("sida.pdf", raw_pdf(text=PNR.encode()))
    assert message.startswith("Filen ”sida.pdf” är inte avidentifierad (sidornas text).")


def test_every_place_with_personal_data_is_named() -> None:
    data = word_document(
        lambda d: (
            setattr(d.sections[0].header.paragraphs[0], "text", PNR),
            setattr(d.core_properties, "author", EMAIL),
        )
    )
    assert rejection("två.docx", data) == (
        "Filen ”två.docx” är inte avidentifierad (sidhuvud eller sidfot och dokumentets "
        "egenskaper). Texten innehåller ett personnummer eller samordningsnummer och en "
        "e-postadress. Ta bort uppgifter som kan identifiera en person."
    )


def test_allowed_domains_apply_to_every_place() -> None:
    data = with_header("Frågor: bus@kommun.se")
    assert "en e-postadress" in rejection("mall.docx", data)
    assert inspect_upload("mall.docx", data, LIMIT, allowed_domains=["kommun.se"])


@pytest.mark.parametrize(
    "target",
    [
        "file:///C:/Users/handlaggare/Mallar/Brev%20BUS.dotx",
        "file:///C:\\Users\\handlaggare\\AppData\\Roaming\\Microsoft\\Mallar\\Brev.dotx",
        "C:\\Mallar\\Brev.dotx",
    ],
)
def test_template_on_the_users_own_drive_is_not_remote(target: str) -> None:
    assert inspect_upload("mall.docx", with_template(target), LIMIT).content_type == DOCX


def test_word_parts_with_a_dtd_are_refused() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]>'
        '<w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:p><w:r><w:t>&a;</w:t></w:r></w:p></w:hdr>"
    )
    for part in ("word/header1.xml", "docProps/core.xml", "word/_rels/document.xml.rels"):
        data = edit_docx(lambda parts, part=part: parts.__setitem__(part, laughs.encode()))
        assert "är inte ett giltigt Word-dokument" in rejection("dtd.docx", data), part


def test_docx_element_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_docx, "MAX_XML_ELEMENTS", 50)
    assert rejection("stor.docx", word_document()) == (
        "Filen ”stor.docx” är för komplex för att kunna granskas."
    )


def test_pdf_object_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    data = raw_pdf(*[b"<< /A [1 2] >>"] * 30)
    assert inspect_upload("manga.pdf", data, LIMIT)
    monkeypatch.setattr(_pdf, "MAX_PDF_OBJECTS", 40)
    assert (
        rejection("manga.pdf", data) == "Filen ”manga.pdf” är för komplex för att kunna granskas."
    )
    monkeypatch.setattr(_pdf, "MAX_PDF_OBJECTS", 20)  # more objects in the xref table than this
    assert (
        rejection("manga.pdf", data) == "Filen ”manga.pdf” är för komplex för att kunna granskas."
    )


def test_pdf_annotation_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    data = blank_pdf(lambda w: add_annotations(w, *[annotation("/Text") for _ in range(5)]))
    monkeypatch.setattr(_pdf, "MAX_PDF_ANNOTATIONS", 5)
    assert inspect_upload("anteckningar.pdf", data, LIMIT)
    monkeypatch.setattr(_pdf, "MAX_PDF_ANNOTATIONS", 4)
    assert "är för komplex för att kunna granskas" in rejection("anteckningar.pdf", data)


def test_pdf_with_cycles_is_walked_once() -> None:
    """/Next chains, field /Parent and /Kids and outline siblings that loop end the walk."""
    data = raw_pdf(
        b"<< /S /GoTo /D [3 0 R /Fit] /Next 7 0 R >>",
        b"<< /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>",
        b"<< /FT /Tx /T (a) /Kids [9 0 R] /Parent 9 0 R >>",
        b"<< /FT /Tx /T (b) /Kids [8 0 R] /Parent 8 0 R >>",
        b"<< /Title (Kapitel) /Parent 10 0 R /Next 10 0 R /Prev 10 0 R >>",
    )
    assert inspect_upload("slinga.pdf", data, LIMIT).page_count == 1
    assert "formulärfält" in rejection(
        "slinga.pdf", data.replace(b"/T (b)", b"/V (" + PNR.encode() + b")")
    )


@pytest.mark.parametrize("limit", ["MAX_PDF_PAGE_CONTENT", "MAX_PDF_TEXT_SECONDS"])
def test_pdf_text_extraction_is_bounded(monkeypatch: pytest.MonkeyPatch, limit: str) -> None:
    """pypdf takes seconds per megabyte of text operators, so pages are read on a budget."""
    data = raw_pdf()
    assert inspect_upload("text.pdf", data, LIMIT)
    monkeypatch.setattr(_pdf, limit, -1)
    assert rejection("text.pdf", data) == "Filen ”text.pdf” är för komplex för att kunna granskas."


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("second", ["word/document.xml", "WORD/document.xml"])
def test_docx_with_a_part_twice_is_refused(second: str) -> None:
    """zipfile reads the last of two same-named members; Word might show the first."""
    out = io.BytesIO(repack(with_header("Avdelning Syd")))
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(second, archive.read("word/document.xml"))
    assert "är inte ett giltigt Word-dokument" in rejection("dubbel.docx", out.getvalue())


def test_pdf_with_odd_values_where_names_belong_is_read() -> None:
    """A dictionary or array as /S, /Type or /V is no action and no text, and no crash."""
    data = raw_pdf(b"<< /S << /A 1 >> /Type [1] /Subtype << >> /FT /Tx /T (a) /V << >> >>")
    assert inspect_upload("udda.pdf", data, LIMIT).page_count == 1


def test_properties_are_known_by_their_content_type_as_well() -> None:
    def move(parts: dict[str, bytes]) -> None:
        core = parts.pop("docProps/core.xml").replace(b">python-docx<", f">{EMAIL}<".encode())
        parts["meta/egenskaper.xml"] = core
        declare(parts, "meta/egenskaper.xml", CORE_PROPERTIES)

    message = rejection("flyttad.docx", edit_docx(move))
    assert "är inte avidentifierad (dokumentets egenskaper)" in message


def reordered_word_document() -> bytes:
    """A DOCX whose first member is not [Content_Types].xml: libmagic calls it a zip."""
    with zipfile.ZipFile(io.BytesIO(word_document())) as old:
        members = {name: old.read(name) for name in old.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for name in sorted(members, reverse=True):
            new.writestr(name, members[name])
    return out.getvalue()


@pytest.mark.parametrize("source", [word_document, reordered_word_document])
def test_zip_of_an_unknown_version_is_refused_not_a_crash(source) -> None:
    data = bytearray(source())
    entry = data.find(b"PK\x01\x02")  # the first central directory entry
    data[entry + 6 : entry + 8] = struct.pack("<H", 110)  # "version needed to extract": 11.0
    assert "Word-dokument" in rejection("version.docx", bytes(data))


@pytest.mark.parametrize("part", ["word/document.xml", "word/settings.xml", "docProps/app.xml"])
def test_xml_part_with_an_unknown_encoding_is_refused_not_a_crash(part: str) -> None:
    def spoil(parts: dict[str, bytes]) -> None:
        parts[part] = parts[part].replace(b"UTF-8", b"UTFa8", 1).replace(b"utf-8", b"UTFa8", 1)
        assert b"UTFa8" in parts[part]

    assert "är inte ett giltigt Word-dokument" in rejection("kodning.docx", edit_docx(spoil))
