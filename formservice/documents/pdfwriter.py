"""A streaming PDF writer: objects go to the file as soon as they are reached.

No library writes a PDF in bounded memory: pikepdf/qpdf and pypdf build the whole result in
memory before they write it (qpdf ~1.4 KB an object), and the digest's joined file can have
~14,000 pages and millions of objects. So this module is ours. `Output` writes numbered
objects: non-stream objects go into compressed object streams, streams are written at once,
and the file ends with a cross-reference stream; between objects it keeps one integer of
cross-reference data per object. `Copier` copies the objects of one source document (opened
lazily with pikepdf) to an `Output`, renumbered, as they are reached; what the copy changes
on the way (the merge rules) a subclass says in `special`.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO

from pikepdf import Array, Dictionary, Name, Object, Stream

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
#: Objects (and bytes) per object stream before it is written.
OBJECTS_PER_STREAM = 200
BYTES_PER_STREAM = 1 << 20
COMPRESSION = 6
#: What `Copier.special` returns for an entry to leave out of its dictionary.
DROP = object()

#: A cross-reference entry of an object in an object stream: flag | stream << 16 | index.
_IN_STREAM = 1 << 63
_KEY_BYTES: dict[str, bytes] = {}


class Output:
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


class Copier:
    """Copies the objects of one source document, renumbered, to the output as they are
    reached; one `Copier` per source, dropped with it.

    Dictionary entries whose key is in `special_keys` pass through `special` first, which may
    change the value or leave the entry out (`DROP`).
    """

    special_keys: frozenset[str] = frozenset()

    def __init__(self, output: Output) -> None:
        self.output = output
        self.numbers: dict[tuple[int, int], int] = {}
        self.pending: list[tuple[int, Object]] = []

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
                items: list[tuple[str, object]] = [
                    (key, value) for key, value in obj.items() if key != "/Length"
                ]
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
        """PDF syntax of a dictionary with these entries; `owner` is the dictionary they come
        from (None for a new one)."""
        entries = []
        for key, value in items:
            if key in self.special_keys:
                value = self.special(key, value, owner)
                if value is DROP:
                    continue
            name = _KEY_BYTES.get(key)
            if name is None:
                name = _KEY_BYTES[key] = Name(key).unparse()
            entries.append(name + b" " + self.value(value))
        return b"<<" + b" ".join(entries) + b">>"

    def special(self, key: str, value: object, owner: Object | None) -> object:
        """The value to write for `key` (one of `special_keys`) in `owner`, or `DROP`."""
        return value


def _real(value: Decimal) -> bytes:
    """A real number in PDF syntax: never in exponent notation."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text.encode()
