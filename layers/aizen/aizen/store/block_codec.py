"""The byte format of a packed event block (docs/data-model.md, "Event blocks"). Pure: no I/O.

A block is one `aizen.columns.EventBlock` as columns, each stored on its own, so that a query
decompresses only the columns it reads (version 3):

    header     "<BIIQIIB": format version (3), events n, runs r, base time (UTC ms), the smallest
               and the largest time minus the base, how the visitor ids are stored (below)
    lengths    uint32 each: the stored byte length of the core, of the visitor ids, of each
               attribute of aizen.columns.ATTRIBUTES and of the numbers
    times      n x uint32, uncompressed: each event's time minus the base
    core       zlib of: n kind bytes (the kind codes of aizen.columns: 0 pageview, 1 outbound
               click, 2 custom event, 3 custom event marked non-interactive, 4 engagement), then
               packed ints: the length of each of the r runs (one visitor's events each)
    visitors   form 1 (every id 16 lowercase hex digits, as ingestion and imports make them): the
               8 bytes each id spells, uncompressed; form 0: zlib of the ids joined by NUL
    then per attribute of aizen.columns.ATTRIBUTES, zlib of (nothing: every event lacks it):
      dictionary  uint32 count k (entry 0 is always the absent value), then entries 1..k-1:
                  0x00, uint32 byte length and the entries joined by NUL; or, when an entry
                  holds a NUL, 0x01, packed ints of their UTF-8 lengths and their bytes
      codes       packed ints: n codes into the dictionary
    numbers    zlib of (nothing: every value is 0): packed ints, n values per number of
               aizen.columns.NUMBERS (engaged ms, scroll depth; 0 on events other than engagement)

Versions 1 and 2 (blocks packed before) are one zlib stream of the header "<BIIQ" (version, n,
r, base), the times, the kinds, the run lengths, the visitor ids (uint32 byte length, then
joined by NUL), each attribute's dictionary and codes as above, and (version 2) the numbers.
Version 1, written before custom events existed, ends after the `link` attribute: no `name`
and `props` attributes, no numbers, kinds 0 and 1 only. Both still decode; `encode` always
writes version 3. (A zlib stream's first byte is never 3, which tells the formats apart.)

"packed ints" are one typecode byte (B, H, I or Q: the narrowest that holds the largest
value) and the values in that width. Widths are little-endian, the byte order of both
Lambda architectures (x86_64 and arm64); the codec refuses to run elsewhere.

Why columns, dictionaries and zlib rather than one JSON document: a block of an hour
holds a few distinct pages, referrers and countries, each repeated for hundreds of
events; dictionary codes make each event's attributes a few bytes that zlib squeezes
further, and decoding is C-level slicing (`memoryview.cast`) instead of per-event
parsing, which is what makes raw reads fast (docs/performance.md). Why each column on its
own, and times and visitor ids uncompressed: decompressing was the largest part of decoding,
and most of it was columns a query does not read (a filtered aggregate reads 2 of the 12
attributes) or columns zlib hardly shrinks (times by 12 %; hex visitor ids are smaller as
their bytes than deflated). An attribute's dictionary and codes are decompressed and decoded
only when a query first reads them.
"""

import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from aizen.columns import ATTRIBUTES, NUMBERS, EventBlock

FORMAT_VERSION = 3
# The attributes each version stores, in order (later versions append).
_VERSION_ATTRIBUTES = {1: ATTRIBUTES[: ATTRIBUTES.index("link") + 1], 2: ATTRIBUTES, 3: ATTRIBUTES}
_HEADER = struct.Struct("<BIIQ")  # versions 1 and 2, inside their zlib stream
# Version 3: header, time span, visitor form, then the stored lengths of the core, the visitors,
# each attribute and the numbers
_COLUMNS_HEADER = struct.Struct("<BIIQIIB" + "I" * (3 + len(ATTRIBUTES)))
_ATTRIBUTE_INDEX = {attribute: index for index, attribute in enumerate(ATTRIBUTES)}
_VISITORS_JOINED, _VISITORS_HEX = 0, 1
_HEX_DIGITS = "0123456789abcdef"
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


def _dictionary(attribute: str, dictionary: Sequence[str | None]) -> list[bytes]:
    """A dictionary's stored form (its entry 0, the absent value, is implied)."""
    entries = [value for value in dictionary[1:] if value is not None]
    if len(entries) != len(dictionary) - 1:
        raise ValueError(f"{attribute}: only entry 0 of a dictionary may be the absent value")
    if any("\x00" in entry for entry in entries):
        encoded = [entry.encode() for entry in entries]
        return [_LENGTH.pack(len(entries) + 1), _SPLIT_BY_LENGTHS, _packed([len(entry) for entry in encoded]), *encoded]
    joined = "\x00".join(entries).encode()
    return [_LENGTH.pack(len(entries) + 1), _SPLIT_BY_NUL, _LENGTH.pack(len(joined)), joined]


def encode(block: EventBlock, base_ms: int) -> bytes:
    """The packed bytes (version 3) of a block whose events are at or after `base_ms` (its hour)."""
    count = len(block)
    offsets = [timestamp - base_ms for timestamp in block.timestamps]
    if offsets and (min(offsets) < 0 or max(offsets) > 0xFFFF_FFFF):
        raise ValueError("every event of a block must lie within 49 days after its base time")
    visitors = block.visitors
    if any("\x00" in visitor for visitor in visitors):
        raise ValueError("visitor ids must not contain NUL")
    starts = block.run_starts
    core = bytes(block.kinds) + _packed([starts[run + 1] - starts[run] for run in range(len(visitors))])
    joined = "".join(visitors)
    if len(joined) == 16 * len(visitors) and not joined.strip(_HEX_DIGITS):  # every id 16 lowercase hex digits
        form, stored_visitors = _VISITORS_HEX, bytes.fromhex(joined)
    else:
        form, stored_visitors = _VISITORS_JOINED, zlib.compress("\x00".join(visitors).encode())
    attributes = [
        b""
        if len(block.dictionaries[attribute]) == 1  # every event lacks it
        else zlib.compress(
            b"".join([*_dictionary(attribute, block.dictionaries[attribute]), _packed(block.codes[attribute])])
        )
        for attribute in ATTRIBUTES
    ]
    numbers = b""
    if any(any(block.numbers[number]) for number in NUMBERS):
        numbers = zlib.compress(b"".join(_packed(block.numbers[number]) for number in NUMBERS))
    columns = [zlib.compress(core), stored_visitors, *attributes, numbers]
    span = (min(offsets), max(offsets)) if offsets else (0, 0)
    header = _COLUMNS_HEADER.pack(FORMAT_VERSION, count, len(visitors), base_ms, *span, form, *map(len, columns))
    return b"".join([header, array("I", offsets).tobytes(), *columns])


def _inflated(stored: memoryview | bytes) -> bytes:
    try:
        return zlib.decompress(stored)
    except zlib.error as error:
        raise BlockFormatError(f"not a compressed block: {error}") from None


class _Reader:
    """Walks a decompressed payload."""

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
        {attribute: (typecode, start, end)}. One tight loop (~10 us a block of version 1 or 2):
        the decoding runs only for the attributes a query reads."""
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

    def entries(
        self,
        attribute: str,
        span: tuple[int, int, int, list[int] | None],
        renamed: Mapping[str, Callable[[str], str]] | None,
    ) -> list[str | None]:
        """The dictionary at `span` (from `attribute_spans`), renamed by `renamed[attribute]` if given."""
        size, start, end, lengths = span
        payload = self.payload
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

    def codes(self, span: tuple[str, int, int]) -> memoryview:
        typecode, start, end = span
        values: memoryview = self.view[start:end].cast(typecode)  # type: ignore[call-overload]
        return values


class _Sections(dict[str, Any]):
    """An attribute's dictionary or codes, decoded from the payload when first asked for.

    Most queries read a few of a block's attributes (a filter's, a breakdown's): the others
    are never decompressed, split into strings or cast (docs/performance.md, "Raw reads"). A
    plain dict once read: assignment replaces an entry, and iteration sees only what was decoded."""

    def __init__(self, decode_one: Callable[[str], Any]) -> None:
        super().__init__()
        self._decode_one = decode_one

    def __missing__(self, attribute: str) -> Any:
        value = self[attribute] = self._decode_one(attribute)
        return value


def _column(
    payload: bytes, attribute: str, count: int, renamed: Mapping[str, Callable[[str], str]] | None
) -> tuple[list[str | None], Sequence[int]]:
    """A version 3 attribute's dictionary and codes, from its decompressed bytes."""
    reader = _Reader(payload)
    dictionary: tuple[int, int, int, list[int] | None]
    codes: tuple[str, int, int]
    if payload[_LENGTH.size : _LENGTH.size + 1] == _SPLIT_BY_NUL:  # the usual case, without the general walk
        size, _, length = _DICTIONARY_HEAD.unpack_from(payload)
        offset = _DICTIONARY_HEAD.size + length
        dictionary = (size, _DICTIONARY_HEAD.size, offset, None)
        typecode, width = _WIDTH_OF_BYTE.get(payload[offset] if offset < len(payload) else 0, ("", 0))
        codes = (typecode, offset + 1, offset + 1 + count * width)
        reader.offset = codes[2] if width else len(payload) + 1
    else:
        dictionary_spans, code_spans = reader.attribute_spans((attribute,), count)
        dictionary, codes = dictionary_spans[attribute], code_spans[attribute]
    if reader.offset != len(payload):
        raise BlockFormatError(f"{attribute}: the column's sizes do not add up")
    return reader.entries(attribute, dictionary, renamed), reader.codes(codes)


def decode(data: bytes, renamed: Mapping[str, Callable[[str], str]] | None = None) -> EventBlock:
    """The block that `encode` packed (any version). Its attributes' dictionaries and codes are
    decoded when first read; `renamed[attribute]`, if given, maps each of that dictionary's
    values then."""
    if data[:1] == bytes((FORMAT_VERSION,)):
        return _decode_columns(data, renamed)
    return _decode_stream(data, renamed)


def _decode_columns(data: bytes, renamed: Mapping[str, Callable[[str], str]] | None) -> EventBlock:
    """A version 3 block: only the times, kinds, runs and visitor ids are decoded now."""
    try:
        _, count, runs, base_ms, first, last, form, core_length, visitors_length, *lengths = (
            _COLUMNS_HEADER.unpack_from(data)
        )
    except struct.error:
        raise BlockFormatError("block ends early") from None
    view = memoryview(data)
    core_start = _COLUMNS_HEADER.size + 4 * count
    visitors_start = core_start + core_length
    ends = list(accumulate(lengths, initial=visitors_start + visitors_length))  # of each attribute, the numbers
    if ends[-1] != len(data):
        raise BlockFormatError("block ends early" if ends[-1] > len(data) else "block sizes do not add up")
    times = view[_COLUMNS_HEADER.size : core_start].cast("I").tolist()
    core = _inflated(view[core_start:visitors_start])
    kinds = core[:count]
    typecode, width = _WIDTH_OF_BYTE.get(core[count] if len(core) > count else 0, ("", 0))
    if not width or len(core) != count + 1 + runs * width:
        raise BlockFormatError("block sizes do not add up")
    run_starts = [0, *accumulate(memoryview(core)[count + 1 :].cast(typecode))]  # type: ignore[call-overload]
    stored_visitors = view[visitors_start : ends[0]]
    if form == _VISITORS_HEX and len(stored_visitors) == 8 * runs:
        visitors = stored_visitors.hex("\x00", 8).split("\x00") if runs else []
    elif form == _VISITORS_JOINED:
        visitors = _inflated(stored_visitors).decode().split("\x00") if runs else []
    else:
        raise BlockFormatError("the visitor ids do not add up")
    if run_starts[-1] != count or len(visitors) != runs:
        raise BlockFormatError("block sizes do not add up")
    columns: dict[str, tuple[list[str | None], Sequence[int]]] = {}

    def column(attribute: str) -> tuple[list[str | None], Sequence[int]]:
        found = columns.get(attribute)
        if found is None:
            index = _ATTRIBUTE_INDEX[attribute]
            start, end = ends[index], ends[index + 1]
            if start == end:
                found = ([None], bytes(count))  # every event lacks it
            else:
                found = _column(_inflated(view[start:end]), attribute, count, renamed)
            columns[attribute] = found
        return found

    numbers: _Sections | None = None
    if ends[-2] != ends[-1]:

        def number(name: str) -> Sequence[int]:
            reader = _Reader(_inflated(view[ends[-2] : ends[-1]]))
            values = {number: reader.ints(count) for number in NUMBERS}
            if reader.offset != len(reader.payload):
                raise BlockFormatError("the numbers' sizes do not add up")
            assert numbers is not None
            numbers.update(values)
            return values[name]

        numbers = _Sections(number)
    return EventBlock(
        times,
        kinds,
        visitors,
        run_starts,
        _Sections(lambda attribute: column(attribute)[0]),
        _Sections(lambda attribute: column(attribute)[1]),
        numbers,
        base_ms=base_ms,
        span=(first, last),
    )


def _absent[T](attribute: str, empty: T) -> T:
    """An attribute that an older version did not store: every event lacks it."""
    if attribute not in ATTRIBUTES:
        raise KeyError(attribute)
    return empty


def _decode_stream(data: bytes, renamed: Mapping[str, Callable[[str], str]] | None) -> EventBlock:
    """A version 1 or 2 block: one zlib stream, whose attributes are found now and decoded when read."""
    reader = _Reader(_inflated(data))
    version, count, runs, base_ms = _HEADER.unpack(reader.take(_HEADER.size))
    attributes = _VERSION_ATTRIBUTES.get(version)
    if attributes is None or version == FORMAT_VERSION:
        raise BlockFormatError(f"unknown block format version {version}")
    times = reader.take(4 * count).cast("I").tolist()
    kinds = bytes(reader.take(count))
    run_starts = [0, *accumulate(reader.ints(runs))]
    joined_visitors = bytes(reader.take(reader.length()))
    visitors = joined_visitors.decode().split("\x00") if runs else []
    dictionary_spans, code_spans = reader.attribute_spans(attributes, count)
    numbers: dict[str, Sequence[int]] | None = None
    if version >= 2:
        numbers = {number: reader.ints(count) for number in NUMBERS}
    if reader.offset != len(reader.payload) or run_starts[-1] != count or len(visitors) != runs:
        raise BlockFormatError("block sizes do not add up")

    def dictionary(attribute: str) -> list[str | None]:
        if attribute not in dictionary_spans:
            return _absent(attribute, [None])
        return reader.entries(attribute, dictionary_spans[attribute], renamed)

    def codes(attribute: str) -> Sequence[int]:
        if attribute not in code_spans:
            return _absent(attribute, bytes(count))
        return reader.codes(code_spans[attribute])

    return EventBlock(
        times, kinds, visitors, run_starts, _Sections(dictionary), _Sections(codes), numbers, base_ms=base_ms
    )
