"""Joining real LibreOffice output (tagged PDF/A) with an attachment, and in bounded memory."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pikepdf import Array, Dictionary, Name
from pypdf import PdfReader

from formservice.documents.pdf import convert
from formservice.documents.pdfjoin import Bookmark, headings, join, page_counts

ROOT = Path(__file__).resolve().parents[2]


def docx_bytes(title: str, cases: int) -> bytes:
    """Headings, a table with a header row and a bullet list per case."""
    document = Document()
    for number in range(1, cases + 1):
        document.add_heading(f"{title}: ärende {number}", 1)
        document.add_heading(f"{title}: åtgärder", 2)
        table = document.add_table(rows=3, cols=3)
        table.style = "Table Grid"
        for column, text in enumerate(("Insats", "Ansvarig", "Datum")):
            table.rows[0].cells[column].text = text
        header = OxmlElement("w:tblHeader")
        header.set(qn("w:val"), "true")
        table.rows[0]._tr.get_or_add_trPr().append(header)
        for row in table.rows[1:]:
            for column, cell in enumerate(row.cells):
                cell.text = f"{title} rad {column}"
        for item in ("Första punkten", "Andra punkten"):
            document.add_paragraph(item, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def attachment(path: Path) -> None:
    """An untagged one-page PDF, as a user might upload it."""
    pdf = pikepdf.new()
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = Dictionary(Font=Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 14 Tf 72 760 Td (Bilaga: intyg) Tj ET")
    pdf.save(path)


def document_kids(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        kids = pdf.Root.StructTreeRoot.K
        document = kids[0] if isinstance(kids, Array) else kids
        assert str(document.S) == "/Document"
        return len(document.K)


def element_pages(element: Dictionary) -> set[tuple[int, int]]:
    """The pages an element's content is on: its /Pg and its marked-content references'."""
    pages = {element.Pg.objgen} if "/Pg" in element else set()
    for kid in element.K if isinstance(element.K, Array) else [element.K]:
        if isinstance(kid, Dictionary) and "/Pg" in kid and "/S" not in kid:
            pages.add(kid.Pg.objgen)
    return pages


def walk(element: Dictionary, root: Dictionary) -> int:
    """Check that every element below `element` has it as /P; returns how many there are."""
    count = 0
    for kid in element.K if isinstance(element.K, Array) else [element.K]:
        if isinstance(kid, Dictionary) and "/S" in kid:
            assert kid.P.objgen == element.objgen
            count += 1 + walk(kid, root)
    return count


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("parts")
    paths = [folder / "a.pdf", folder / "b.pdf", folder / "c.pdf"]
    for path, title in zip(paths, ("Del A", "Del B"), strict=False):
        path.write_bytes(convert(docx_bytes(title, 3), "soffice", timeout=120))
    attachment(paths[2])
    return paths


def test_joins_libreoffice_parts_and_an_attachment(parts, tmp_path):
    counts = page_counts(parts)
    assert counts[2] == 1
    found = headings(parts)
    titles = [title for title, _ in found]
    assert titles[0] == "Del A: ärende 1"
    assert "Del B: ärende 3" in titles
    for title, page in found:
        if title.startswith("Del B"):
            assert counts[0] <= page < counts[0] + counts[1]
        else:
            assert 0 <= page < counts[0]
    outline = [
        Bookmark("Sammanställning – ärenden", 0, [Bookmark(t, p) for t, p in found]),
        Bookmark("Bilagor", counts[0] + counts[1]),
    ]
    out = tmp_path / "joined.pdf"

    assert join(parts, out, outline, {"/Title": "Styrgruppens sammanställning"}) == sum(counts)

    reader = PdfReader(out)
    assert len(reader.pages) == sum(counts)
    assert "Del B: ärende 1" in reader.pages[counts[0]].extract_text()
    assert "Bilaga: intyg" in reader.pages[-1].extract_text()
    assert reader.metadata.title == "Styrgruppens sammanställning"
    assert [item.title for item in reader.outline if not isinstance(item, list)] == [
        "Sammanställning – ärenden",
        "Bilagor",
    ]
    with pikepdf.open(out) as pdf:
        assert pdf.check_pdf_syntax() == []
        catalog = pdf.Root
        assert catalog.MarkInfo.Marked is True
        assert "<pdfaid:part>2</pdfaid:part>" in catalog.Metadata.read_bytes().decode()
        root = catalog.StructTreeRoot
        document = root.K
        assert document.P.objgen == root.objgen
        assert len(document.K) == document_kids(parts[0]) + document_kids(parts[1])
        assert walk(document, root) > len(document.K)
        tree = pikepdf.NumberTree(root.ParentTree)
        tagged_pages = counts[0] + counts[1]
        for index, page in enumerate(pdf.pages):
            if index >= tagged_pages:
                assert "/StructParents" not in page.obj
                continue
            entry = tree[page.obj.StructParents]
            elements = [element for element in entry if isinstance(element, Dictionary)]
            assert elements
            assert all(page.obj.objgen in element_pages(element) for element in elements)


# The peak RSS of this process's memory (VmHWM; ru_maxrss would include pytest's own RSS,
# which the kernel carries over into a forked and exec'd child).
MEASURE = textwrap.dedent(
    """
    import re, sys
    from pathlib import Path
    from formservice.documents.pdfjoin import join

    def peak():
        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\\s+(\\d+)", status.read())[1])

    before = peak()
    join([Path(sys.argv[1])] * int(sys.argv[2]), Path(sys.argv[3]), [], {})
    print(peak() - before)
    """
)


def peak_growth_kib(part: Path, copies: int, out: Path) -> int:
    """How much the peak RSS of a fresh interpreter grows while joining `copies` copies."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(part), str(copies), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(result.stdout)


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_parts(tmp_path):
    part = tmp_path / "part.pdf"
    part.write_bytes(convert(docx_bytes("Del", 160), "soffice", timeout=120))
    with pikepdf.open(part) as pdf:
        assert len(pdf.objects) > 8000  # qpdf alone would take ~1.4 KB for each

    two = peak_growth_kib(part, 2, tmp_path / "two.pdf")
    twenty = peak_growth_kib(part, 20, tmp_path / "twenty.pdf")

    assert twenty < 2 * two, (two, twenty)
    with pikepdf.open(tmp_path / "twenty.pdf") as pdf:
        assert len(pdf.pages) == 20 * len(PdfReader(part).pages)
