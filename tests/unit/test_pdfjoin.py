"""Joining PDFs in bounded memory: pages, merged structure tree, outline, info, file layout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from formservice.documents.pdfjoin import (
    Bookmark,
    PdfJoinError,
    headings,
    join,
    page_counts,
)

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
    b"<pdf:Producer>Del A</pdf:Producer></rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)
TINY = Decimal("0.00000123")


class Builder:
    """A tagged part: pages whose two marked-content sequences are an H1 and a P element."""

    def __init__(self, label: str, first_width: int) -> None:
        self.label = label
        self.pdf = pikepdf.new()
        self.width = first_width
        self.font = self.pdf.make_indirect(
            Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
        )
        self.root = self.pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.entries: list[tuple[int, Array]] = []

    def page(self, index: int) -> Dictionary:
        text = f"{self.label} page {index + 1}"
        content = (
            f"BT /F1 12 Tf 72 720 Td /H1 <</MCID 0>> BDC ({text}) Tj EMC "
            f"0 -20 Td /P <</MCID 1>> BDC (body) Tj EMC ET"
        ).encode()
        page = self.pdf.make_indirect(
            Dictionary(
                Type=Name.Page,
                MediaBox=Array([0, 0, self.width, 800]),
                Resources=Dictionary(Font=Dictionary(F1=self.font)),
                Contents=self.pdf.make_stream(content),
                StructParents=index,
                FSTiny=TINY,
            )
        )
        self.width += 1
        self.pdf.pages.append(pikepdf.Page(page))
        return self.pdf.pages[-1].obj

    def elements(self, page: Dictionary, index: int, parent: Dictionary) -> list[Dictionary]:
        """The H1 and P element of a page, children of `parent`, in the parent tree."""
        made = []
        for mcid, kind in enumerate(("/H1", "/Standard")):
            made.append(
                self.pdf.make_indirect(
                    Dictionary(
                        Type=Name.StructElem,
                        S=Name(kind),
                        P=parent,
                        Pg=page,
                        K=Array([mcid]),
                        T=String(f"{self.label}-{index}-{kind[1:]}"),
                    )
                )
            )
        self.entries.append((index, Array(made)))
        return made

    def finish(self, kids: list[Dictionary], lang: str, role_map: Dictionary) -> None:
        self.root.K = Array(kids)
        self.root.RoleMap = role_map
        catalog = self.pdf.Root
        catalog.StructTreeRoot = self.root
        catalog.MarkInfo = Dictionary(Marked=True)
        catalog.Lang = String(lang)
        catalog.Metadata = self.pdf.make_stream(XMP, Type=Name.Metadata, Subtype=Name.XML)
        catalog.ViewerPreferences = Dictionary(DisplayDocTitle=True)


def outline(pdf: pikepdf.Pdf, items: list[Dictionary]) -> None:
    """Link the (indirect) items as the part's top-level outline."""
    for before, after in zip(items, items[1:], strict=False):
        before.Next, after.Prev = after, before
    pdf.Root.Outlines = pdf.make_indirect(
        Dictionary(Type=Name.Outlines, First=items[0], Last=items[-1], Count=len(items))
    )


def part_a(path: Path) -> None:
    """Tagged, /Document as the root's only kid, a flat parent tree with /ParentTreeNextKey."""
    part = Builder("A", 500)
    document = part.pdf.make_indirect(
        Dictionary(Type=Name.StructElem, S=Name.Document, P=part.root)
    )
    kids = []
    for index in range(2):
        kids += part.elements(part.page(index), index, document)
    document.K = Array(kids)
    nums = Array()
    for key, value in part.entries:
        nums.extend([key, value])
    part.root.ParentTree = Dictionary(Nums=nums)
    part.root.ParentTreeNextKey = 2
    part.finish([document], "sv-SE", Dictionary(Standard=Name.P))
    part.pdf.Root.OutputIntents = Array(
        [Dictionary(Type=Name.OutputIntent, S=Name.GTS_PDFA1, OutputConditionIdentifier="sRGB")]
    )
    pdf = part.pdf
    pages = [p.obj for p in pdf.pages]
    detail = pdf.make_indirect(
        Dictionary(Title=String("A detail"), Dest=Array([pages[1], Name.Fit]))
    )
    intro = pdf.make_indirect(
        Dictionary(Title=String("A intro"), Dest=Array([pages[0], Name.Fit]), First=detail)
    )
    detail.Parent = intro
    intro.Last = detail
    lost = pdf.make_indirect(Dictionary(Title=String("A lost")))
    outline(pdf, [intro, lost])
    pdf.save(path, fix_metadata_version=False)


def part_b(path: Path) -> None:
    """Tagged, two top-level /Sect elements (no Document), a parent tree with /Kids and
    /Limits and no /ParentTreeNextKey, a tagged link with a named destination; saved with
    object streams."""
    part = Builder("B", 600)
    pdf = part.pdf
    sections = []
    pages = []
    for index in range(3):
        page = part.page(index)
        pages.append(page)
        section = pdf.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Sect, P=part.root, T=String(f"B-sect-{index}"))
        )
        section.K = Array(part.elements(page, index, section))
        sections.append(section)
    link = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=Array([72, 600, 200, 620]),
            Dest=String("target"),
            StructParent=3,
        )
    )
    pages[0].Annots = Array([link])
    link_element = pdf.make_indirect(
        Dictionary(
            Type=Name.StructElem,
            S=Name.Link,
            P=sections[0],
            Pg=pages[0],
            K=Array([Dictionary(Type=Name.OBJR, Obj=link, Pg=pages[0])]),
            T=String("B-link"),
        )
    )
    sections[0].K.append(link_element)
    part.entries.append((3, link_element))
    leaves = [
        pdf.make_indirect(Dictionary(Limits=Array([0, 0]), Nums=Array([0, part.entries[0][1]]))),
        pdf.make_indirect(
            Dictionary(
                Limits=Array([1, 3]),
                Nums=Array([1, part.entries[1][1], 2, part.entries[2][1], 3, part.entries[3][1]]),
            )
        ),
    ]
    part.root.ParentTree = Dictionary(Kids=Array(leaves))
    part.finish(sections, "en-GB", Dictionary(Standard=Name.Span, Custom=Name.Div))
    names = pikepdf.NameTree.new(pdf)
    names["target"] = Array([pages[2], Name.XYZ, 0, 800, 0])
    pdf.Root.Names = Dictionary(Dests=names.obj)
    named = pdf.make_indirect(Dictionary(Title=String("B named"), Dest=String("target")))
    action = pdf.make_indirect(
        Dictionary(
            Title=String("B action"),
            A=Dictionary(S=Name.GoTo, D=Array([pages[1], Name.Fit])),
        )
    )
    outline(pdf, [named, action])
    pdf.save(
        path,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        fix_metadata_version=False,
    )


def part_c(path: Path) -> None:
    """Untagged, like an uploaded attachment: pages inherit /Resources, /MediaBox and
    /Rotate from the Pages tree (one of them through an intermediate node); one has a stray
    /StructParents. Written by hand: qpdf would push the inherited attributes down."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2/Rotate 90/MediaBox[0 0 700 800]"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Type/Page/Parent 2 0 R/Contents 6 0 R/StructParents 7>>",
        b"<</Type/Pages/Parent 2 0 R/Kids[8 0 R]/Count 1/MediaBox[0 0 701 800]>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Courier>>",
        stream(b"BT /F1 12 Tf 72 720 Td (C page 1) Tj ET"),
        stream(b"BT /F1 12 Tf 72 720 Td (C page 2) Tj ET"),
        b"<</Type/Page/Parent 4 0 R/Contents 7 0 R>>",
    ]
    data = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    data += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(data))


def stream(data: bytes) -> bytes:
    return b"<</Length %d>>\nstream\n%s\nendstream" % (len(data), data)


@pytest.fixture
def parts(tmp_path) -> list[Path]:
    paths = [tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"]
    for make, path in zip((part_a, part_b, part_c), paths, strict=True):
        make(path)
    return paths


OUTLINE = [
    Bookmark(
        "Sammanställning – ärenden",
        0,
        [Bookmark("Ärende 1", 1, [Bookmark("Bilaga", 6)]), Bookmark("東京 ärende", 3)],
    ),
    Bookmark("Bilagor", 5),
]


@pytest.fixture
def joined(parts, tmp_path):
    out = tmp_path / "joined.pdf"
    count = join(parts, out, OUTLINE, {"/Title": "Styrgruppens sammanställning"})
    assert count == 7
    with pikepdf.open(out) as pdf:
        yield pdf


def test_page_counts(parts):
    assert page_counts(parts) == [2, 3, 2]


def test_headings_have_joined_page_numbers(parts):
    assert headings(parts) == [
        ("A intro", 0),
        ("A detail", 1),
        ("A lost", 0),  # no destination: the part's first page
        ("B named", 4),  # named destination, third page of B
        ("B action", 3),  # GoTo action
    ]


def test_headings_resolve_every_kind_of_destination(tmp_path):
    """Legacy /Dests names, GoTo actions with named destinations, nested items, and the
    first page for what leads nowhere."""
    pdf = pikepdf.new()
    for _ in range(4):
        pdf.add_blank_page()
    pages = [page.obj for page in pdf.pages]
    pdf.Root.Dests = Dictionary(chapter=Array([pages[2], Name.Fit]))
    names = pikepdf.NameTree.new(pdf)
    names["section"] = Dictionary(D=Array([pages[1], Name.XYZ, 0, 800, 0]))
    pdf.Root.Names = Dictionary(Dests=names.obj)

    def item(title: str, **entries) -> Dictionary:
        return pdf.make_indirect(Dictionary(Title=String(title), **entries))

    legacy = item("legacy", Dest=Name("/chapter"))
    action = item("action", A=Dictionary(S=Name.GoTo, D=String("section")))
    child = item("child", Dest=Array([pages[3], Name.Fit]), Parent=action)
    action.First = action.Last = child
    action.Count = -1
    empty = item("empty", Dest=Array([]))
    unknown = item("unknown", Dest=String("finns-inte"))
    uri = item("uri", A=Dictionary(S=Name.URI, URI=String("https://example.org")))
    outline(pdf, [legacy, action, empty, unknown, uri])
    path = tmp_path / "destinations.pdf"
    pdf.save(path)

    assert headings([path, path]) == [
        ("legacy", 2),
        ("action", 1),
        ("child", 3),
        ("empty", 0),
        ("unknown", 0),
        ("uri", 0),
        ("legacy", 6),
        ("action", 5),
        ("child", 7),
        ("empty", 4),
        ("unknown", 4),
        ("uri", 4),
    ]


def test_pages_in_order_with_inherited_attributes_pushed_down(joined):
    widths = [int(page.MediaBox[2]) for page in joined.pages]
    assert widths == [500, 501, 600, 601, 602, 700, 701]
    labels = ["A page 1", "A page 2", "B page 1", "B page 2", "B page 3", "C page 1", "C page 2"]
    for page, label in zip(joined.pages, labels, strict=True):
        assert label.encode() in page.Contents.read_bytes()
        assert "/Font" in page.obj.Resources  # own or pushed down from the tree
        assert page.obj.Parent.objgen == joined.Root.Pages.objgen
    assert [page.obj.get("/Rotate") for page in joined.pages[5:]] == [90, 90]
    assert joined.pages[0].obj.FSTiny == TINY
    assert joined.Root.Pages.Count == 7
    assert len(joined.Root.Pages.Kids) == 7


def test_the_result_is_valid_and_compact(joined, tmp_path):
    assert joined.check_pdf_syntax() == []
    assert joined.pdf_version == "1.7"
    data = (tmp_path / "joined.pdf").read_bytes()
    assert data.startswith(b"%PDF-1.7\n%")
    xref_at = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    assert b"/Type/XRef" in data[xref_at : xref_at + 200]
    types = [
        str(obj.get("/Type"))
        for obj in joined.objects
        if isinstance(obj, Dictionary | pikepdf.Stream)
    ]
    assert "/ObjStm" in types
    # Only one of each: the parts' catalogs, Pages trees, structure roots and outlines stay.
    for kind in ("/Catalog", "/Pages", "/StructTreeRoot", "/Outlines"):
        assert types.count(kind) == 1, kind
    titles = [
        str(obj.Title) for obj in joined.objects if isinstance(obj, Dictionary) and "/Title" in obj
    ]
    assert not [title for title in titles if title.startswith(("A ", "B "))]
    assert len(joined.trailer.ID) == 2


def test_catalog_entries_come_from_the_first_tagged_part(joined):
    root = joined.Root
    assert str(root.Lang) == "sv-SE"
    assert root.Metadata.read_bytes() == XMP
    assert root.MarkInfo.Marked is True
    assert root.ViewerPreferences.DisplayDocTitle is True
    assert str(root.OutputIntents[0].OutputConditionIdentifier) == "sRGB"
    assert root.PageMode == Name.UseOutlines


def struct_elements(element: Dictionary) -> list[tuple[Dictionary, Dictionary]]:
    """(element, parent) of every structure element below `element`."""
    found = []
    for kid in element.K if isinstance(element.K, Array) else [element.K]:
        if isinstance(kid, Dictionary) and "/S" in kid:
            found.append((kid, element))
            found += struct_elements(kid)
    return found


def test_structure_trees_are_merged_under_one_document(joined):
    root = joined.Root.StructTreeRoot
    document = root.K
    assert str(root.Type) == "/StructTreeRoot"
    assert str(document.S) == "/Document"
    assert document.P.objgen == root.objgen
    assert [str(kid.T) for kid in document.K] == [
        "A-0-H1",
        "A-0-Standard",
        "A-1-H1",
        "A-1-Standard",
        "B-sect-0",
        "B-sect-1",
        "B-sect-2",
    ]
    elements = struct_elements(document)
    assert len(elements) == 4 + 3 + 6 + 1
    for element, parent in elements:
        assert element.P.objgen == parent.objgen
        chain = element
        for _ in range(5):
            chain = chain.P
            if chain.objgen == root.objgen:
                break
        assert chain.objgen == root.objgen
    # Union of the role maps; the first part wins a conflict.
    assert dict(root.RoleMap.items()) == {"/Standard": Name.P, "/Custom": Name.Div}


def test_parent_tree_keys_are_shifted_per_part(joined):
    root = joined.Root.StructTreeRoot
    tree = pikepdf.NumberTree(root.ParentTree)
    # A: keys 0-1 (next key 2); B: keys 0-3 shifted by 2; C: untagged.
    assert sorted(tree.keys()) == [0, 1, 2, 3, 4, 5]
    assert root.ParentTreeNextKey == 6
    for index, page in enumerate(joined.pages):
        if index >= 5:
            assert "/StructParents" not in page.obj
            continue
        entry = tree[page.obj.StructParents]
        assert [str(element.S) for element in entry] == ["/H1", "/Standard"]
        assert all(element.Pg.objgen == page.obj.objgen for element in entry)
    link = joined.pages[2].obj.Annots[0]
    element = tree[link.StructParent]
    assert str(element.T) == "B-link"
    assert element.K[0].Obj.objgen == link.objgen
    # The named destination became an explicit one: B's third page.
    assert link.Dest[0].objgen == joined.pages[4].obj.objgen
    for leaf in root.ParentTree.Kids:
        assert leaf.Limits[0] <= leaf.Limits[1]


def outline_items(parent: Dictionary) -> list[tuple[str, int, int | None, list]]:
    items = []
    item = parent.get("/First")
    while item is not None:
        items.append(
            (str(item.Title), item.Dest[0].objgen, item.get("/Count"), outline_items(item))
        )
        item = item.get("/Next")
    return items


def test_outline_is_the_given_one(joined):
    numbers = [page.obj.objgen for page in joined.pages]
    outlines = joined.Root.Outlines
    assert outlines.Count == 4  # two top-level items, the first open with two children

    def plain(items):
        return [(t, numbers.index(og), count, plain(kids)) for t, og, count, kids in items]

    assert plain(outline_items(outlines)) == [
        (
            "Sammanställning – ärenden",
            0,
            2,
            [("Ärende 1", 1, -1, [("Bilaga", 6, None, [])]), ("東京 ärende", 3, None, [])],
        ),
        ("Bilagor", 5, None, []),
    ]


def test_info_has_the_given_entries_and_producer(joined):
    assert str(joined.docinfo.Title) == "Styrgruppens sammanställning"
    assert str(joined.docinfo.Producer) == "formservice"


def test_an_unreadable_part_is_reported_without_content(parts, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes("%PDF-1.4\nHemligt innehåll\n".encode())
    out = tmp_path / "joined.pdf"
    with pytest.raises(PdfJoinError) as info:
        join([parts[0], broken], out, [], {})
    assert str(info.value) == "PDF-del 2 av 2 kunde inte läsas."
    assert not out.exists()
    with pytest.raises(PdfJoinError):
        headings([broken])


def test_a_bookmark_outside_the_document_is_refused(parts, tmp_path):
    with pytest.raises(ValueError, match="page 7"):
        join(parts, tmp_path / "joined.pdf", [Bookmark("Utanför", 7)], {})
