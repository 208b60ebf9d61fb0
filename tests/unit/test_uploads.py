"""Upload inspection: allow-list, forged types, PDF and DOCX structure, text extraction."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import docx
import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript, PageTrigger
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from formservice.documents import uploads
from formservice.documents.uploads import (
    DOCX,
    InspectedFile,
    UploadRejected,
    inspect_upload,
    sanitize_filename,
)

MB = 1024 * 1024
LIMIT = 20 * MB


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


def blank_pdf(change=None) -> bytes:
    """A one-page PDF from pypdf, after ``change(writer)`` when given."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(*extra: bytes) -> bytes:
    """A hand-written PDF showing "Hej hej" in Helvetica, with a correct xref table."""
    content = b"BT /F1 12 Tf 72 712 Td (Hej hej) Tj ET"
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


def word_document() -> bytes:
    """A DOCX from python-docx with a paragraph and a table."""
    document = docx.Document()
    document.add_paragraph("Hej från Åsa")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Cell A"
    table.cell(0, 1).text = "Cell B"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def repack(source: bytes, add: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """The members of a zip, minus ``drop``, plus ``add``, in a new zip."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source)) as old,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for member in old.namelist():
            if member not in drop:
                new.writestr(member, old.read(member))
        for member, data in (add or {}).items():
            new.writestr(member, data)
    return out.getvalue()


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


def test_text_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_TEXT_CHARS", 5)
    assert len(inspect_upload("a.docx", word_document(), LIMIT).text) <= 5
    assert len(inspect_upload("a.pdf", raw_pdf(), LIMIT).text) <= 5


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


def annotation(subtype: str, **entries: object) -> DictionaryObject:
    annot = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject(subtype),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (0, 0, 50, 50)]),
        }
    )
    annot.update({NameObject(f"/{k}"): v for k, v in entries.items()})
    return annot


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
    monkeypatch.setattr(uploads, "MAX_ZIP_TOTAL_BYTES", 10_000)
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
