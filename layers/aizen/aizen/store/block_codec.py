"""The byte format of a packed event block (docs/data-model.md, "Event blocks"). Pure: no I/O.

A block is one `aizen.columns.EventBlock` as zlib-compressed columns:

    header     "<BIIQ": format version, events n, runs r, base time (UTC ms)
    times      n x uint32: each event's time minus the base
    kinds      n bytes: the kind codes of aizen.columns (0 pageview, 1 outbound click, 2 custom
               event, 3 custom event marked non-interactive, 4 engagement)
    runs       packed ints: the length of each of the r runs (one visitor's events each)
    visitors   uint32 byte length, then the r visitor ids joined by NUL
    then per attribute of aizen.columns.ATTRIBUTES:
      dictionary  uint32 count k (entry 0 is always the absent value), then entries 1..k-1:
                  0x00, uint32 byte length and the entries joined by NUL; or, when an entry
                  holds a NUL, 0x01, packed ints of their UTF-8 lengths and their bytes
      codes       packed ints: n codes into the dictionary
    then per number of aizen.columns.NUMBERS (engaged ms, scroll depth):
      values      packed ints: n values (0 on events other than engagement)

Version 1 (blocks written before custom events existed) ends after the `link` attribute:
no `name` and `props` attributes, no numbers, kinds 0 and 1 only; it still decodes, with
those columns absent. Version 2 adds them; `encode` always writes version 2.

"packed ints" are one typecode byte (B, H, I or Q: the narrowest that holds the largest
value) and the values in that width. Widths are little-endian, the byte order of both
Lambda architectures (x86_64 and arm64); the codec refuses to run elsewhere.

Why columns, dictionaries and zlib rather than one JSON document: a block of an hour
holds a few distinct pages, referrers and countries, each repeated for hundreds of
events; dictionary codes make each event's attributes a few bytes that zlib squeezes
further, and decoding is C-level slicing (`memoryview.cast`) instead of per-event
parsing, which is what makes raw reads fast (docs/performance.md). An attribute's
dictionary and codes are decoded only when a query first reads them: `decode` finds where
each lies and leaves the rest to the attributes the query needs.
"""

import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from aizen.columns import ATTRIBUTES, NUMBERS, EventBlock

FORMAT_VERSION = 2
# The attributes each version stores, in order (later versions append).
_VERSION_ATTRIBUTES = {1: ATTRIBUTES[: ATTRIBUTES.index("link") + 1], 2: ATTRIBUTES}
_HEADER = struct.Struct("<BIIQ")
_LENGTH = struct.Struct("<I")
# A dictionary's entries, how they are stored, and (split by NUL) their byte length
_DICTIONARY_HEAD = struct.Struct("<IBI")
_TYPECODES = (("B", 0xFF), ("H", 0xFFFF), ("I", 0xFFFF_FFFF), ("Q", 0xFFFF_FFFF_FFFF_FFFF))
_WIDTH = {typecode: array(typecode).itemsize for typecode, _ in _TYPECODES}
_WIDTH_OF_BYTE = {ord(typecode): (typecode, width) for typecode, width in _WIDTH.items()}
# How a dictionary's entries are stored: joined by NUL (one split decodes them), or, when an
# entry holds a NUL itself, as their lengths and bytes.
_SPLIT_BY_NUL, _SPLIT_BY_LENGTHS = b"\x00", b"\x01"

if sys.byteorder != "little":  # pragma: no cover - both Lambda architectures are little-endian
    raise ImportError("aizen.store.block_codec needs a little-endian machine")


class BlockFormatError(ValueError):
    """Bytes that are not a block of a known format."""


def _packed(values: Sequence[int]) -> bytes:
    largest = max(values, default=0)
    typecode = next(code for code, limit in _TYPECODES if largest <= limit)
    return typecode.encode() + array(typecode, values).tobytes()


def encode(block: EventBlock, base_ms: int) -> bytes:
    """The compressed bytes of a block whose events are at or after `base_ms` (its hour)."""
    count = len(block)
    offsets = [timestamp - base_ms for timestamp in block.timestamps]
    if offsets and (min(offsets) < 0 or max(offsets) > 0xFFFF_FFFF):
        raise ValueError("every event of a block must lie within 49 days after its base time")
    if any("\x00" in visitor for visitor in block.visitors):
        raise ValueError("visitor ids must not contain NUL")
    starts = block.run_starts
    visitors = "\x00".join(block.visitors).encode()
    parts = [
        _HEADER.pack(FORMAT_VERSION, count, len(block.visitors), base_ms),
        array("I", offsets).tobytes(),
        bytes(block.kinds),
        _packed([starts[run + 1] - starts[run] for run in range(len(block.visitors))]),
        _LENGTH.pack(len(visitors)),
        visitors,
    ]
    for attribute in ATTRIBUTES:
        entries = [value for value in block.dictionaries[attribute][1:] if value is not None]
        if len(entries) != len(block.dictionaries[attribute]) - 1:
            raise ValueError(f"{attribute}: only entry 0 of a dictionary may be the absent value")
        if any("\x00" in entry for entry in entries):
            encoded = [entry.encode() for entry in entries]
            parts += [_LENGTH.pack(len(entries) + 1), _SPLIT_BY_LENGTHS, _packed([len(entry) for entry in encoded])]
            parts += encoded
        else:
            joined = "\x00".join(entries).encode()
            parts += [_LENGTH.pack(len(entries) + 1), _SPLIT_BY_NUL, _LENGTH.pack(len(joined)), joined]
        parts.append(_packed(block.codes[attribute]))
    parts += [_packed(block.numbers[number]) for number in NUMBERS]
    return zlib.compress(b"".join(parts))


class _Reader:
    """Walks the decompressed payload."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.view = memoryview(payload)
        self.offset = 0

    def take(self, size: int) -> memoryview:
        start = self.offset
        self.offset += size
        if self.offset > len(self.view):
            raise BlockFormatError("block ends early")
        return self.view[start : self.offset]

    def length(self) -> int:
        value: int = _LENGTH.unpack(self.take(_LENGTH.size))[0]
        return value

    def ints(self, count: int) -> memoryview:
        typecode = chr(self.take(1)[0])
        if typecode not in _WIDTH:
            raise BlockFormatError(f"unknown integer width {typecode!r}")
        values: memoryview = self.take(count * _WIDTH[typecode]).cast(typecode)  # type: ignore[call-overload]
        return values

    def attribute_spans(
        self, attributes: Sequence[str], count: int
    ) -> tuple[dict[str, tuple[int, int, int, list[int] | None]], dict[str, tuple[str, int, int]]]:
        """Where each attribute's dictionary and codes lie, found without decoding them:
        {attribute: (entries, start, end, their UTF-8 lengths when not split by NUL)},
        {attribute: (typecode, start, end)}. One tight loop (~10 us a block): it runs for
        every block read, the decoding only for the attributes a query reads."""
        payload, offset = self.payload, self.offset
        dictionaries: dict[str, tuple[int, int, int, list[int] | None]] = {}
        codes: dict[str, tuple[str, int, int]] = {}
        try:
            for attribute in attributes:
                size, split, length = _DICTIONARY_HEAD.unpack_from(payload, offset)
                if split == _SPLIT_BY_NUL[0]:
                    offset += _DICTIONARY_HEAD.size
                    dictionaries[attribute] = (size, offset, offset + length, None)
                else:
                    self.offset = offset + _DICTIONARY_HEAD.size - _LENGTH.size
                    lengths = self.ints(size - 1).tolist()
                    offset = self.offset
                    length = sum(lengths)
                    dictionaries[attribute] = (size, offset, offset + length, lengths)
                offset += length
                typecode, width = _WIDTH_OF_BYTE[payload[offset]]
                codes[attribute] = (typecode, offset + 1, offset + 1 + count * width)
                offset += 1 + count * width
        except KeyError as error:
            raise BlockFormatError(f"unknown integer width {chr(error.args[0])!r}") from None
        except (struct.error, IndexError):
            raise BlockFormatError("block ends early") from None
        if offset > len(payload):
            raise BlockFormatError("block ends early")
        self.offset = offset
        return dictionaries, codes


class _Sections(dict[str, Any]):
    """An attribute's dictionary or codes, decoded from the payload when first asked for.

    Most queries read a few of a block's attributes (a filter's, a breakdown's): the others
    are never split into strings or cast (docs/performance.md, "Raw reads"). A plain dict
    once read: assignment replaces an entry, and iteration sees only what was decoded."""

    def __init__(self, decode_one: Callable[[str], Any]) -> None:
        super().__init__()
        self._decode_one = decode_one

    def __missing__(self, attribute: str) -> Any:
        value = self[attribute] = self._decode_one(attribute)
        return value


def _absent[T](attribute: str, empty: T) -> T:
    """An attribute that an older version did not store: every event lacks it."""
    if attribute not in ATTRIBUTES:
        raise KeyError(attribute)
    return empty


def decode(data: bytes, renamed: Mapping[str, Callable[[str], str]] | None = None) -> EventBlock:
    """The block that `encode` packed. Its attributes' dictionaries and codes are decoded when
    first read; `renamed[attribute]`, if given, maps each of that dictionary's values then."""
    try:
        payload = zlib.decompress(data)
    except zlib.error as error:
        raise BlockFormatError(f"not a compressed block: {error}") from None
    reader = _Reader(payload)
    version, count, runs, base_ms = _HEADER.unpack(reader.take(_HEADER.size))
    attributes = _VERSION_ATTRIBUTES.get(version)
    if attributes is None:
        raise BlockFormatError(f"unknown block format version {version}")
    times = reader.take(4 * count).cast("I").tolist()
    kinds = bytes(reader.take(count))
    run_starts = [0, *accumulate(reader.ints(runs))]
    position = run_starts[-1]
    joined_visitors = bytes(reader.take(reader.length()))
    visitors = joined_visitors.decode().split("\x00") if runs else []
    dictionary_spans, code_spans = reader.attribute_spans(attributes, count)
    numbers: dict[str, Sequence[int]] | None = None
    if version >= 2:
        numbers = {number: reader.ints(count) for number in NUMBERS}
    if reader.offset != len(payload) or position != count or len(visitors) != runs:
        raise BlockFormatError("block sizes do not add up")

    def dictionary(attribute: str) -> list[str | None]:
        if attribute not in dictionary_spans:
            return _absent(attribute, [None])
        size, start, end, lengths = dictionary_spans[attribute]
        entries: list[str | None] = [None]
        if lengths is None:
            if size > 1:
                entries += payload[start:end].decode().split("\x00")
        else:
            for length in lengths:
                entries.append(payload[start : start + length].decode())
                start += length
        if len(entries) != size:
            raise BlockFormatError(f"{attribute}: the dictionary does not hold {size} entries")
        rename = renamed.get(attribute) if renamed else None
        if rename is not None:
            entries = [None if entry is None else rename(entry) for entry in entries]
        return entries

    def codes(attribute: str) -> Sequence[int]:
        if attribute not in code_spans:
            return _absent(attribute, bytes(count))
        typecode, start, end = code_spans[attribute]
        values: memoryview = reader.view[start:end].cast(typecode)  # type: ignore[call-overload]
        return values

    return EventBlock(
        times, kinds, visitors, run_starts, _Sections(dictionary), _Sections(codes), numbers, base_ms=base_ms
    )
