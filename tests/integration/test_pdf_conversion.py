"""LibreOffice conversion: real soffice, PDF/A-2b and tagged; hangs and crashes fail cleanly."""

from __future__ import annotations

import io
import os
import stat

import pytest
from docx import Document
from pypdf import PdfReader

from formservice.documents.pdf import ConversionError, convert


def docx_bytes(text: str) -> bytes:
    document = Document()
    document.add_heading("Kallelse till SIP-möte", 1)
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_converts_to_tagged_pdf_a_2b():
    reader = PdfReader(io.BytesIO(convert(docx_bytes("Mötet hålls 2026-12-24."))))
    assert "2026-12-24" in reader.pages[0].extract_text()
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"]
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in metadata
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in metadata


def fake_soffice(tmp_path, body: str) -> str:
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_a_hanging_libreoffice_is_killed_and_reported(tmp_path):
    program = fake_soffice(tmp_path, "sleep 30 & wait")
    with pytest.raises(ConversionError, match="svarade inte inom 1 sekunder"):
        convert(docx_bytes("x"), soffice=program, timeout=1)


def test_a_crashing_libreoffice_is_reported(tmp_path):
    program = fake_soffice(tmp_path, "kill -SEGV $$")
    with pytest.raises(ConversionError, match="kunde inte omvandla"):
        convert(docx_bytes("x"), soffice=program)


def test_a_missing_libreoffice_is_reported(tmp_path):
    with pytest.raises(ConversionError, match="kunde inte startas"):
        convert(docx_bytes("x"), soffice=os.fspath(tmp_path / "finns-inte"))
