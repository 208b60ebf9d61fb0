"""Join PDF files into one, streaming, with the tagged parts' structure trees merged.

The digest is converted by LibreOffice in chunks (one tagged PDF/A file per chunk) and the
cases' attachments follow them; the joined file can have ~14,000 pages and millions of
objects. No library joins tagged PDFs in bounded memory: pikepdf/qpdf and pypdf hold every
object of the result in memory (qpdf ~1.4 KB an object), and their page copying leaves the
structure trees behind. So this module writes the result itself: it opens one part at a time
(lazily, with pikepdf), walks the objects reachable from what it copies (pages, structure
elements, parent-tree values, the catalog entries it keeps), writes each one at once with
renumbered references, and closes the part. What it keeps between parts is small: the page
numbers, the merged Document element's kids, the parent tree's leaves and one integer of
cross-reference data per object. Non-stream objects go into compressed object streams and
the file ends with a cross-reference stream.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Object, Stream

PRODUCER = "formservice"
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
#: Objects (and bytes) per object stream before it is written.
OBJECTS_PER_STREAM = 200
BYTES_PER_STREAM = 1 << 20
#: Keys per parent-tree leaf, and kids per intermediate node.
TREE_FANOUT = 1000
COMPRESSION = 6
#: Page attributes a page may inherit from its Pages tree nodes.
INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
#: Catalog entries taken from the first tagged part that has them.
CATALOG_KEYS = ("/Lang", "/MarkInfo", "/Metadata", "/OutputIntents", "/ViewerPreferences")

#: A cross-reference entry of an object in an object stream: flag | stream << 16 | index.
_IN_STREAM = 1 << 63
_SPECIAL_KEYS = frozenset({"/StructParent", "/StructParents", "/Dest", "/D"})
_DROP = object()
_KEY_BYTES: dict[str, bytes] = {}


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
            destinations = _Destinations(pdf)
            for item in _outline_items(pdf.Root):
                page = _item_page(item, positions, destinations, len(pages))
                result.append((str(item.get("/Title", "")), offset + page))
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
            joiner = _Joiner(_Output(file))
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
        except pikepdf.PdfError as exc:
            raise PdfJoinError(message) from exc


class _Output:
    """The output file: object streams, stream objects and the cross-reference stream."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._position = 0
        #: Per object number: its offset, or _IN_STREAM | stream << 16 | index; 0 = unused.
        self._xref = array("Q", [0])
        self._batch: list[tuple[int, bytes]] = []
        self._batch_bytes = 0
        self._write(HEADER)

    def reserve(self) -> int:
        """A new object number, to be written later with `put` or `put_stream`."""
        self._xref.append(0)
        return len(self._xref) - 1

    def put(self, number: int, body: bytes) -> None:
        """Write a non-stream object (into the current object stream)."""
        self._batch.append((number, body))
        self._batch_bytes += len(body)
        if len(self._batch) >= OBJECTS_PER_STREAM or self._batch_bytes >= BYTES_PER_STREAM:
            self._flush()

    def put_stream(self, number: int, dictionary: bytes, data: bytes) -> None:
        """Write a stream object; `dictionary` already holds the /Length of `data`."""
        self._xref[number] = self._position
        self._write(b"%d 0 obj\n%s\nstream\n" % (number, dictionary))
        self._write(data)
        self._write(b"\nendstream\nendobj\n")

    def finish(self, root: int, info: int) -> None:
        """Write the pending object stream, the cross-reference stream and the trailer."""
        self._flush()
        number = self.reserve()
        start = self._xref[number] = self._position
        wide = max(start, number) >= 1 << 32
        row = struct.Struct(">BQH" if wide else ">BIH")
        compressor = zlib.compressobj(COMPRESSION)
        chunks = []
        for begin in range(0, len(self._xref), 65536):
            rows = bytearray(row.pack(0, 0, 0xFFFF) if begin == 0 else b"")
            for entry in self._xref[max(begin, 1) : begin + 65536]:
                if entry & _IN_STREAM:
                    rows += row.pack(2, (entry & ~_IN_STREAM) >> 16, entry & 0xFFFF)
                elif entry:
                    rows += row.pack(1, entry, 0)
                else:
                    rows += row.pack(0, 0, 0)
            chunks.append(compressor.compress(bytes(rows)))
        chunks.append(compressor.flush())
        data = b"".join(chunks)
        file_id = os.urandom(16).hex().encode()
        dictionary = (
            b"<</Type/XRef/Size %d/W[1 %d 2]/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]"
            b"/Filter/FlateDecode/Length %d>>"
            % (number + 1, 8 if wide else 4, root, info, file_id, file_id, len(data))
        )
        self.put_stream(number, dictionary, data)
        self._write(b"startxref\n%d\n%%%%EOF\n" % start)

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        number = self.reserve()
        offsets = []
        offset = 0
        for index, (member, body) in enumerate(batch):
            offsets.append(b"%d %d" % (member, offset))
            offset += len(body) + 1
            self._xref[member] = _IN_STREAM | number << 16 | index
        header = b" ".join(offsets) + b"\n"
        data = zlib.compress(header + b"\n".join(body for _, body in batch), COMPRESSION)
        dictionary = b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>" % (
            len(batch),
            len(header),
            len(data),
        )
        self.put_stream(number, dictionary, data)

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._position += len(data)


class _Destinations:
    """Named destinations of one part: the catalog's /Dests and the /Names /Dests tree."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self._root = pdf.Root
        self._tree: pikepdf.NameTree | None | bool = False

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
        if self._tree is False:
            names = self._root.get("/Names")
            dests = names.get("/Dests") if isinstance(names, Dictionary) else None
            self._tree = pikepdf.NameTree(dests) if isinstance(dests, Dictionary) else None
        return self._tree  # type: ignore[return-value]


class _Copier:
    """Copies the objects of one part, renumbered, to the output as they are reached.

    `struct_offset` is what the part's /StructParent(s) keys are shifted by; None for an
    untagged part, whose keys are dropped (nothing in the merged parent tree refers to them).
    """

    def __init__(self, output: _Output, pdf: pikepdf.Pdf, struct_offset: int | None) -> None:
        self.output = output
        self.numbers: dict[tuple[int, int], int] = {}
        self.pending: list[tuple[int, Object]] = []
        self.struct_offset = struct_offset
        self.max_struct_parent = -1
        self.destinations = _Destinations(pdf)

    def alias(self, obj: Object, number: int) -> None:
        """Write references to `obj` as references to `number` (and never copy `obj`)."""
        if obj.is_indirect:
            self.numbers[obj.objgen] = number

    def claim(self, obj: Object) -> int:
        """A new number for `obj`, which the caller writes (a page seen twice gets two)."""
        number = self.output.reserve()
        if obj.is_indirect:
            self.numbers.setdefault(obj.objgen, number)
        return number

    def ref(self, obj: Object) -> int:
        """The new number of an indirect object; a new one is queued for copying."""
        key = obj.objgen
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = self.output.reserve()
            self.pending.append((number, obj))
        return number

    def drain(self) -> None:
        """Copy the queued objects and everything they reach."""
        while self.pending:
            number, obj = self.pending.pop()
            if isinstance(obj, Stream):
                data = obj.read_raw_bytes()
                items = [(key, value) for key, value in obj.items() if key != "/Length"]
                items.append(("/Length", len(data)))
                self.output.put_stream(number, self.dictionary(items, obj), data)
            else:
                self.output.put(number, self.body(obj))

    def value(self, value: object) -> bytes:
        """PDF syntax of a value as pikepdf hands it out; `bytes` pass as they are."""
        if isinstance(value, Object):
            if value.is_indirect:
                return b"%d 0 R" % self.ref(value)
            return self.body(value)
        if value is None:
            return b"null"
        if value is True:
            return b"true"
        if value is False:
            return b"false"
        if isinstance(value, int):
            return b"%d" % value
        if isinstance(value, Decimal):
            return _real(value)
        if isinstance(value, bytes):
            return value
        raise TypeError(f"Cannot write {type(value).__name__} as a PDF object.")

    def body(self, obj: Object) -> bytes:
        """PDF syntax of a (direct or resolved) non-stream object."""
        if isinstance(obj, Dictionary):
            return self.dictionary(obj.items(), obj)
        if isinstance(obj, Array):
            return b"[" + b" ".join([self.value(item) for item in obj]) + b"]"
        # Names, strings and scalars held as objects: qpdf escapes them correctly.
        return obj.unparse(resolved=True)

    def dictionary(self, items: Iterable[tuple[str, object]], owner: Object | None) -> bytes:
        entries = []
        for key, value in items:
            if key in _SPECIAL_KEYS:
                value = self._special(key, value, owner)
                if value is _DROP:
                    continue
            name = _KEY_BYTES.get(key)
            if name is None:
                name = _KEY_BYTES[key] = Name(key).unparse()
            entries.append(name + b" " + self.value(value))
        return b"<<" + b" ".join(entries) + b">>"

    def _special(self, key: str, value: object, owner: Object | None) -> object:
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
                return _DROP
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

    def __init__(self, output: _Output) -> None:
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
        copier = _Copier(self.output, pdf, self.struct_offset if tagged else None)
        pages, nodes = _page_tree(root)
        copier.alias(root, self.catalog)
        for node in nodes:
            copier.alias(node, self.pages_root)
        numbers = [copier.claim(page) for page, _ in pages]
        for (page, inherited), number in zip(pages, numbers, strict=True):
            self._copy_page(copier, page, inherited, number)
        self.pages.extend(numbers)
        span = self._merge_tree(copier, root, tree) if tagged else 0
        copier.drain()
        if tagged:
            self.struct_offset += max(span, copier.max_struct_parent + 1)

    def _copy_page(
        self, copier: _Copier, page: Dictionary, inherited: dict[str, object], number: int
    ) -> None:
        """Write a page with its inherited attributes pushed down and the new /Parent."""
        items: list[tuple[str, object]] = [
            (key, value) for key, value in page.items() if key != "/Parent"
        ]
        present = {key for key, _ in items}
        items += [(key, value) for key, value in inherited.items() if key not in present]
        items.append(("/Parent", b"%d 0 R" % self.pages_root))
        self.output.put(number, copier.dictionary(items, page))

    def _merge_tree(self, copier: _Copier, catalog: Dictionary, tree: Dictionary) -> int:
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
        self, copier: _Copier, kid: object, document: Dictionary | None
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

    def _write_leaf(self, copier: _Copier, entries: list[tuple[int, Object]]) -> None:
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


def _real(value: Decimal) -> bytes:
    """A real number in PDF syntax: never in exponent notation."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text.encode()


def _page_tree(
    catalog: Dictionary,
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
        if kind != Name.Document and isinstance(role_map, Dictionary) and kind is not None:
            kind = role_map.get(kind)
        if kind == Name.Document:
            return _as_list(document.get("/K")), document
    return kids, None


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _number_tree(node: object) -> list[tuple[int, Object]]:
    """All entries of a number tree (/Kids with /Limits, or /Nums), sorted by key."""
    entries: dict[int, Object] = {}
    seen: set[tuple[int, int]] = set()
    stack = [node]
    while stack:
        node = stack.pop()
        if not isinstance(node, Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        nums = node.get("/Nums")
        if isinstance(nums, Array):
            items = list(nums)
            for key, value in zip(items[::2], items[1::2], strict=False):
                if isinstance(key, int) and value is not None:
                    entries.setdefault(key, value)
        kids = node.get("/Kids")
        if isinstance(kids, Array):
            stack.extend(kids)
    return sorted(entries.items(), key=lambda entry: entry[0])


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_outline(outline: Sequence[Bookmark], count: int) -> None:
    for item in outline:
        if not 0 <= item.page < count:
            raise ValueError(f"Bookmark page {item.page} is not in 0..{count - 1}.")
        _check_outline(item.children, count)


def _outline_items(catalog: Dictionary) -> Iterator[Dictionary]:
    """A part's outline items, pre-order."""
    outlines = catalog.get("/Outlines")
    if not isinstance(outlines, Dictionary):
        return
    seen: set[tuple[int, int]] = set()
    stack = [outlines.get("/First")]
    while stack:
        item = stack.pop()
        if not isinstance(item, Dictionary):
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        yield item
        stack.append(item.get("/Next"))
        stack.append(item.get("/First"))


def _item_page(
    item: Dictionary,
    positions: dict[tuple[int, int], int],
    destinations: _Destinations,
    count: int,
) -> int:
    """The page index (in its part) an outline item leads to; 0 when that is unknown."""
    dest = item.get("/Dest")
    action = item.get("/A")
    if dest is None and isinstance(action, Dictionary) and action.get("/S") == Name.GoTo:
        dest = action.get("/D")
    if isinstance(dest, Name | pikepdf.String):
        dest = destinations.lookup(dest)
    if isinstance(dest, Dictionary):
        dest = dest.get("/D")
    if not isinstance(dest, Array) or len(dest) == 0:
        return 0
    target = dest[0]
    if isinstance(target, Dictionary):
        return positions.get(target.objgen, 0)
    if isinstance(target, int) and 0 <= target < count:
        return target
    return 0
