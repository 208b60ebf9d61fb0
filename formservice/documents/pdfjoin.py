"""Join PDF files into one, streaming, with the tagged parts' structure trees merged.

The digest is converted by LibreOffice in chunks (one tagged PDF/A file per chunk) and the
cases' attachments follow them; the joined file can have ~14,000 pages and millions of
objects. No library joins tagged PDFs: pikepdf/qpdf and pypdf copy pages but leave the
structure trees behind (a joined file would lose its tags, and with them PDF/UA reading
order), and they hold the whole result in memory. So the merge rules are ours, written on
top of the streaming writer (`pdfwriter`): parts are opened one at a time (lazily, with
pikepdf) and copied as reached; each tagged part's structure elements go under one merged
Document element, its parent-tree keys (read with `pikepdf.NumberTree`) and its pages'
/StructParent(s) shifted past the previous parts'; role and class maps and catalog entries
come from the first part that has them; named destinations of links become explicit ones;
the parts' outlines are dropped for the one given (`headings` reads them with
`Pdf.open_outline()`). What is kept between parts is small: the page numbers, the merged
Document element's kids and the parent tree's leaves.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, GoToAction, Name, Object, OutlineItem

from .pdfwriter import DROP, Copier, Output

PRODUCER = "formservice"
#: Keys per parent-tree leaf, and kids per intermediate node.
TREE_FANOUT = 1000
#: Page attributes a page may inherit from its Pages tree nodes.
INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
#: Catalog entries taken from the first tagged part that has them.
CATALOG_KEYS = ("/Lang", "/MarkInfo", "/Metadata", "/OutputIntents", "/ViewerPreferences")


class PdfJoinError(Exception):
    """A part could not be read; the message names the part by position, not by content."""


@dataclass
class Bookmark:
    title: str
    page: int  # 0-based page index in the joined document
    children: list[Bookmark] = field(default_factory=list)


def page_counts(parts: Sequence[Path]) -> list[int]:
    """Number of pages of each part (cheap: does not load the objects)."""
    counts = []
    for index, path in enumerate(parts):
        with _open(path, index, len(parts)) as pdf:
            counts.append(len(_page_tree(pdf.Root)[0]))
    return counts


def headings(parts: Sequence[Path]) -> list[tuple[str, int]]:
    """Every outline item the parts carry, in document order, with its page in the joined
    document; an item whose destination cannot be resolved gets its part's first page."""
    result: list[tuple[str, int]] = []
    offset = 0
    for index, path in enumerate(parts):
        with _open(path, index, len(parts)) as pdf:
            pages = _page_tree(pdf.Root)[0]
            positions: dict[tuple[int, int], int] = {}
            for position, (page, _) in enumerate(pages):
                positions.setdefault(page.objgen, position)
            # Read only: used as a context manager, the outline would be written back.
            for item in _outline_items(pdf.open_outline().root):
                target = _item_page(pdf, item, positions, len(pages))
                result.append((item.title, offset + target))
            offset += len(pages)
    return result


def join(
    parts: Sequence[Path], out: Path, outline: Sequence[Bookmark], info: Mapping[str, str]
) -> int:
    """Write one PDF to `out`: all pages of all parts in order; the structure trees of the
    tagged parts merged into one; the given outline (the parts' own outlines are dropped);
    document info from `info` (keys like "/Title"). Returns the number of pages."""
    if not parts:
        raise ValueError("join() needs at least one part.")
    try:
        with open(out, "wb", buffering=1 << 20) as file:
            joiner = _Joiner(Output(file))
            for index, path in enumerate(parts):
                joiner.add(path, index, len(parts))
            return joiner.finish(outline, info)
    except BaseException:
        Path(out).unlink(missing_ok=True)
        raise


@contextmanager
def _open(path: Path, index: int, total: int) -> Iterator[pikepdf.Pdf]:
    """Open one part lazily; what qpdf cannot read becomes a `PdfJoinError`."""
    message = f"PDF-del {index + 1} av {total} kunde inte läsas."
    try:
        # Inherited attributes are pushed down while copying; scalars come as Python values.
        pdf = pikepdf.open(path, inherit_page_attributes=False, conversion_mode="implicit")
    except (pikepdf.PdfError, OSError) as exc:
        raise PdfJoinError(message) from exc
    with pdf:
        try:
            yield pdf
        except (pikepdf.PdfError, pikepdf.OutlineStructureError) as exc:
            raise PdfJoinError(message) from exc


class _Destinations:
    """Named destinations of one part: the catalog's /Dests and the /Names /Dests tree."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self._root = pdf.Root
        self._tree: pikepdf.NameTree | None = None
        self._tree_read = False

    def lookup(self, name: Object) -> Object | None:
        """The explicit destination (an array) that `name` stands for, if any."""
        found = None
        if isinstance(name, Name):
            dests = self._root.get("/Dests")
            if isinstance(dests, Dictionary):
                found = dests.get(name)
        if found is None and (tree := self._names()) is not None:
            key = str(name)[1:] if isinstance(name, Name) else str(name)
            found = tree.get(key)
        if isinstance(found, Dictionary):
            found = found.get("/D")
        return found if isinstance(found, Array) else None

    def _names(self) -> pikepdf.NameTree | None:
        if not self._tree_read:
            self._tree_read = True
            names = self._root.get("/Names")
            dests = names.get("/Dests") if isinstance(names, Dictionary) else None
            self._tree = pikepdf.NameTree(dests) if isinstance(dests, Dictionary) else None
        return self._tree


class _PartCopier(Copier):
    """Copies the objects of one part: structure keys shifted, named destinations resolved.

    `struct_offset` is what the part's /StructParent(s) keys are shifted by; None for an
    untagged part, whose keys are dropped (nothing in the merged parent tree refers to them).
    """

    special_keys = frozenset({"/StructParent", "/StructParents", "/Dest", "/D"})

    def __init__(self, output: Output, pdf: pikepdf.Pdf, struct_offset: int | None) -> None:
        super().__init__(output)
        self.struct_offset = struct_offset
        self.max_struct_parent = -1
        self.destinations = _Destinations(pdf)

    def special(self, key: str, value: object, owner: Object | None) -> object:
        """Shift (or drop) structure keys; resolve named destinations.

        Link annotations are all kept: an explicit destination points at a page of the
        same part, which is copied too, so the link stays valid. A named destination would
        dangle (the parts' name trees are not copied), so it is replaced by the explicit
        destination it names; one the part cannot resolve was broken already and is kept.
        """
        if key in ("/StructParent", "/StructParents"):
            if not isinstance(value, int) or isinstance(value, bool):
                return value
            if self.struct_offset is None:
                return DROP
            self.max_struct_parent = max(self.max_struct_parent, value)
            return value + self.struct_offset
        if not isinstance(value, Name | pikepdf.String):
            return value
        if key == "/D" and (owner is None or owner.get("/S") != Name.GoTo):
            return value
        explicit = self.destinations.lookup(value)
        return value if explicit is None else explicit


class _Joiner:
    """What the joined document collects from the parts, and its last objects."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.catalog = output.reserve()
        self.pages_root = output.reserve()
        self.pages = array("Q")
        self.struct_root: int | None = None
        self.document = 0
        self.document_kids = array("Q")
        self.struct_offset = 0
        self.leaves: list[tuple[int, int, int]] = []  # parent-tree leaves: number, lo, hi
        self.role_map: dict[str, bytes] = {}
        self.class_map: dict[str, bytes] = {}
        self.catalog_entries: dict[str, bytes] = {}

    def add(self, path: Path, index: int, total: int) -> None:
        """Copy one part. Its `Pdf` (qpdf: ~1.5 KB an object read) is released on return,
        before the next part is opened."""
        with _open(path, index, total) as pdf:
            self._copy(pdf)

    def _copy(self, pdf: pikepdf.Pdf) -> None:
        """Copy the pages of a part, and its structure tree if it has one."""
        root = pdf.Root
        tree = root.get("/StructTreeRoot")
        tagged = isinstance(tree, Dictionary)
        copier = _PartCopier(self.output, pdf, self.struct_offset if tagged else None)
        pages, nodes = _page_tree(root)
        copier.alias(root, self.catalog)
        for node in nodes:
            copier.alias(node, self.pages_root)
        numbers = [copier.claim(page) for page, _ in pages]
        for (page, inherited), number in zip(pages, numbers, strict=True):
            self._copy_page(copier, page, inherited, number)
        self.pages.extend(numbers)
        span = self._merge_tree(copier, root, tree) if isinstance(tree, Dictionary) else 0
        copier.drain()
        if tagged:
            self.struct_offset += max(span, copier.max_struct_parent + 1)

    def _copy_page(
        self, copier: _PartCopier, page: Dictionary, inherited: dict[str, object], number: int
    ) -> None:
        """Write a page with its inherited attributes pushed down and the new /Parent."""
        items: list[tuple[str, object]] = [
            (key, value) for key, value in page.items() if key != "/Parent"
        ]
        present = {key for key, _ in items}
        items += [(key, value) for key, value in inherited.items() if key not in present]
        items.append(("/Parent", b"%d 0 R" % self.pages_root))
        self.output.put(number, copier.dictionary(items, page))

    def _merge_tree(self, copier: _PartCopier, catalog: Object, tree: Dictionary) -> int:
        """Copy a part's structure tree under the merged Document element; returns the
        part's span of parent-tree keys as far as its tree tells."""
        if self.struct_root is None:
            self.struct_root = self.output.reserve()
            self.document = self.output.reserve()
        kids, document = _top_elements(tree)
        # Elements whose /P is the old root or Document now point at the merged ones.
        copier.alias(tree, self.struct_root if document is not None else self.document)
        if document is not None:
            copier.alias(document, self.document)
        for kid in kids:
            number = self._document_kid(copier, kid, document)
            if number is not None:
                self.document_kids.append(number)
        entries = _number_tree(tree.get("/ParentTree"))
        for chunk in _chunks(entries, TREE_FANOUT):
            self._write_leaf(copier, chunk)
        for key, target in (("/RoleMap", self.role_map), ("/ClassMap", self.class_map)):
            mapping = tree.get(key)
            if isinstance(mapping, Dictionary):
                for name, value in mapping.items():
                    if name not in target:
                        target[name] = copier.value(value)
        for key in CATALOG_KEYS:
            if key not in self.catalog_entries and key in catalog:
                self.catalog_entries[key] = copier.value(catalog.get(key))
        next_key = tree.get("/ParentTreeNextKey")
        span = next_key if isinstance(next_key, int) else 0
        return max(span, entries[-1][0] + 1) if entries else span

    def _document_kid(
        self, copier: _PartCopier, kid: object, document: Dictionary | None
    ) -> int | None:
        """The number of a kid of the merged Document: an element, or a marked-content
        reference (an MCID of the old Document becomes one, with the old Document's page)."""
        page = document.get("/Pg") if document is not None else None
        if isinstance(kid, int) and not isinstance(kid, bool):
            if page is None:
                return None
            kid = Dictionary(Type=Name.MCR, MCID=kid)
        if not isinstance(kid, Dictionary):
            return None
        if kid.is_indirect:
            return copier.ref(kid)
        items = list(kid.items())
        if page is not None and "/Pg" not in kid and "/MCID" in kid:
            items.append(("/Pg", page))
        number = self.output.reserve()
        self.output.put(number, copier.dictionary(items, kid))
        return number

    def _write_leaf(self, copier: _PartCopier, entries: list[tuple[int, Object]]) -> None:
        """One parent-tree leaf of the part's entries, with the keys shifted."""
        offset = copier.struct_offset or 0
        low, high = entries[0][0] + offset, entries[-1][0] + offset
        nums = b" ".join(b"%d %s" % (key + offset, copier.value(value)) for key, value in entries)
        number = self.output.reserve()
        self.output.put(number, b"<</Limits[%d %d]/Nums[%s]>>" % (low, high, nums))
        self.leaves.append((number, low, high))

    def finish(self, outline: Sequence[Bookmark], info: Mapping[str, str]) -> int:
        """Write the Pages root, structure tree, outline, catalog, info and trailer."""
        count = len(self.pages)
        _check_outline(outline, count)
        kids = b" ".join(b"%d 0 R" % number for number in self.pages)
        self.output.put(self.pages_root, b"<</Type/Pages/Count %d/Kids[%s]>>" % (count, kids))
        entries = [b"/Type/Catalog/Pages %d 0 R" % self.pages_root]
        entries += [
            Name(key).unparse() + b" " + value for key, value in self.catalog_entries.items()
        ]
        if self.struct_root is not None:
            self._write_struct_tree()
            entries.append(b"/StructTreeRoot %d 0 R" % self.struct_root)
            if "/MarkInfo" not in self.catalog_entries:
                entries.append(b"/MarkInfo<</Marked true>>")
        if outline:
            entries.append(b"/Outlines %d 0 R/PageMode/UseOutlines" % self._write_outline(outline))
        self.output.put(self.catalog, b"<<" + b" ".join(entries) + b">>")
        self.output.finish(self.catalog, self._write_info(info))
        return count

    def _write_struct_tree(self) -> None:
        assert self.struct_root is not None
        parent_tree = self._write_parent_tree()
        kids = b" ".join(b"%d 0 R" % number for number in self.document_kids)
        self.output.put(
            self.document,
            b"<</Type/StructElem/S/Document/P %d 0 R/K[%s]>>" % (self.struct_root, kids),
        )
        entries = [
            b"/Type/StructTreeRoot/K %d 0 R" % self.document,
            b"/ParentTree %d 0 R/ParentTreeNextKey %d" % (parent_tree, self.struct_offset),
        ]
        for key, mapping in (("/RoleMap", self.role_map), ("/ClassMap", self.class_map)):
            if mapping:
                pairs = b" ".join(Name(name).unparse() + b" " + v for name, v in mapping.items())
                entries.append(Name(key).unparse() + b"<<" + pairs + b">>")
        self.output.put(self.struct_root, b"<<" + b" ".join(entries) + b">>")

    def _write_parent_tree(self) -> int:
        """The root of the merged parent tree over the leaves (levels added as needed)."""
        level = self.leaves
        while len(level) > TREE_FANOUT:
            upper = []
            for chunk in _chunks(level, TREE_FANOUT):
                number = self.output.reserve()
                low, high = chunk[0][1], chunk[-1][2]
                kids = b" ".join(b"%d 0 R" % kid for kid, _, _ in chunk)
                self.output.put(number, b"<</Limits[%d %d]/Kids[%s]>>" % (low, high, kids))
                upper.append((number, low, high))
            level = upper
        number = self.output.reserve()
        kids = b" ".join(b"%d 0 R" % kid for kid, _, _ in level)
        self.output.put(number, b"<</Kids[%s]>>" % kids if level else b"<</Nums[]>>")
        return number

    def _write_outline(self, outline: Sequence[Bookmark]) -> int:
        root = self.output.reserve()
        first, last, visible = self._write_outline_level(outline, root, 0)
        self.output.put(
            root, b"<</Type/Outlines/First %d 0 R/Last %d 0 R/Count %d>>" % (first, last, visible)
        )
        return root

    def _write_outline_level(
        self, items: Sequence[Bookmark], parent: int, depth: int
    ) -> tuple[int, int, int]:
        """Write sibling items; returns the first, the last, and how many items show when
        their parent is open. Top-level items are open (positive /Count), deeper ones
        closed (negative /Count): the digest's case list stays one click away."""
        numbers = [self.output.reserve() for _ in items]
        visible = len(items)
        for index, (item, number) in enumerate(zip(items, numbers, strict=True)):
            entries = [
                b"/Title " + pikepdf.String(item.title).unparse(),
                b"/Parent %d 0 R" % parent,
                b"/Dest[%d 0 R/Fit]" % self.pages[item.page],
            ]
            if index > 0:
                entries.append(b"/Prev %d 0 R" % numbers[index - 1])
            if index < len(items) - 1:
                entries.append(b"/Next %d 0 R" % numbers[index + 1])
            if item.children:
                first, last, shown = self._write_outline_level(item.children, number, depth + 1)
                count = shown if depth == 0 else -shown
                visible += shown if depth == 0 else 0
                entries.append(b"/First %d 0 R/Last %d 0 R/Count %d" % (first, last, count))
            self.output.put(number, b"<<" + b" ".join(entries) + b">>")
        return numbers[0], numbers[-1], visible

    def _write_info(self, info: Mapping[str, str]) -> int:
        values = {"/Producer": PRODUCER}
        values.update({key if key.startswith("/") else f"/{key}": v for key, v in info.items()})
        entries = [
            Name(key).unparse() + b" " + pikepdf.String(v).unparse() for key, v in values.items()
        ]
        number = self.output.reserve()
        self.output.put(number, b"<<" + b" ".join(entries) + b">>")
        return number


def _page_tree(
    catalog: Object,
) -> tuple[list[tuple[Dictionary, dict[str, object]]], list[Object]]:
    """The pages in order, each with what it inherits from the tree, and the tree's nodes."""
    pages: list[tuple[Dictionary, dict[str, object]]] = []
    nodes: list[Object] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[object, dict[str, object]]] = [(catalog.get("/Pages"), {})]
    while stack:
        node, inherited = stack.pop()
        if not isinstance(node, Dictionary):
            continue
        kids = node.get("/Kids")
        if not isinstance(kids, Array):
            pages.append((node, inherited))
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        nodes.append(node)
        own = {key: node.get(key) for key in INHERITABLE if key in node}
        inherited = {**inherited, **own}
        stack.extend((kid, inherited) for kid in reversed(list(kids)))
    return pages, nodes


def _top_elements(tree: Dictionary) -> tuple[list[object], Dictionary | None]:
    """The elements that become kids of the merged Document, and the part's own Document
    element (None when the root's /K is not a single /Document element)."""
    kids = _as_list(tree.get("/K"))
    if len(kids) == 1 and isinstance(kids[0], Dictionary):
        document = kids[0]
        kind = document.get("/S")
        role_map = tree.get("/RoleMap")
        if kind != Name.Document and isinstance(role_map, Dictionary) and isinstance(kind, Name):
            kind = role_map.get(kind)
        if kind == Name.Document:
            return _as_list(document.get("/K")), document
    return kids, None


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _number_tree(node: object) -> list[tuple[int, Object]]:
    """All entries of a number tree, sorted by key (qpdf reads, and repairs, the tree)."""
    if not isinstance(node, Dictionary):
        return []
    return [(key, value) for key, value in pikepdf.NumberTree(node).items() if value is not None]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_outline(outline: Sequence[Bookmark], count: int) -> None:
    for item in outline:
        if not 0 <= item.page < count:
            raise ValueError(f"Bookmark page {item.page} is not in 0..{count - 1}.")
        _check_outline(item.children, count)


def _outline_items(items: list[OutlineItem]) -> Iterator[OutlineItem]:
    """Outline items and their children, pre-order."""
    for item in items:
        yield item
        yield from _outline_items(item.children)


def _item_page(
    pdf: pikepdf.Pdf, item: OutlineItem, positions: dict[tuple[int, int], int], count: int
) -> int:
    """The page index (in its part) an outline item leads to; 0 when that is unknown."""
    try:
        destination = item.resolved_destination(pdf)
        action = item.parsed_action
        if destination is None and isinstance(action, GoToAction):
            destination = action.resolve_destination(pdf)
    except pikepdf.OutlineStructureError:  # an empty destination array
        return 0
    target = destination.page if destination is not None else None
    if isinstance(target, Dictionary):
        return positions.get(target.objgen, 0)
    if isinstance(target, int) and 0 <= target < count:
        return target
    return 0
