"""The packed block format (aizen.store.block_codec) and EventBlock (aizen.columns), without DynamoDB."""

import base64
import dataclasses
import random
import zlib
from typing import Any

import pytest

from aizen.columns import ATTRIBUTES, CUSTOM, CUSTOM_NON_INTERACTIVE, ENGAGEMENT, OUTBOUND_CLICK, PAGEVIEW, EventBlock
from aizen.events import RawEvent
from aizen.names import canonical_os
from aizen.store import block_codec
from aizen.store.blocks import HOUR_MS, MAX_PART_BYTES, encode_parts

HOUR = 1_775_156_400_000  # an hour start


def _kind_fields(rng: random.Random) -> dict[str, object]:
    """A kind and the fields that kind carries: pageviews (some with props), outbound clicks,
    custom events (some non-interactive, some with props) and engagement reports."""
    kind = rng.choice(["pageview", "pageview", "outbound_click", "custom", "engagement"])
    props = rng.choice([None, '{"plan":"pro"}', '{"a":"\\u00fc","url":"https://example.com/x"}'])
    if kind == "pageview":
        return {"kind": kind, "props": props}
    if kind == "outbound_click":
        return {"kind": kind, "link": rng.choice([None, "https://example.com/x"])}
    if kind == "custom":
        name = rng.choice(["Signup", "File Download", "Ünïcode \x00 name"])
        return {"kind": kind, "name": name, "props": props, "interactive": rng.random() < 0.8}
    return {"kind": kind, "engaged_ms": rng.choice([0, 1_500, 600_000, 5_000_000]), "scroll_depth": rng.randrange(101)}


def _events(count: int, seed: int = 1, visitors: int = 50) -> list[RawEvent]:
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    return [
        RawEvent(
            site_id="site_1",
            timestamp_ms=HOUR + rng.randrange(HOUR_MS),
            visitor_id=f"{rng.randrange(visitors):016x}",
            page=rng.choice(["/", "/pricing", "/blog/ünïcode", "/a\x00b"]),
            referrer=rng.choice([None, "google.com"]),
            country=rng.choice([None, "US", "DE"]),
            city=rng.choice([None, "Zürich"]),
            device=rng.choice(["desktop", "mobile"]),
            os=rng.choice([None, "macOS"]),
            **_kind_fields(rng),  # type: ignore[arg-type]
        )
        for _ in range(count)
    ]


def _sorted(events: list[RawEvent]) -> list[RawEvent]:
    return sorted(events, key=lambda event: (event.visitor_id, event.timestamp_ms, event.kind, event.page, repr(event)))


def test_a_block_holds_exactly_its_events_sorted_into_one_run_per_visitor() -> None:
    events = _events(500)

    block = EventBlock.of_events(events)

    assert _sorted(list(block.events("site_1"))) == _sorted(events)
    assert len(block.visitors) == len(set(block.visitors)) == len({event.visitor_id for event in events})
    for visitor, start, end in block.runs():
        times = block.timestamps[start:end]
        assert times == sorted(times)
        assert {event.visitor_id for event in block.events("site_1", start, end)} == {visitor}


@pytest.mark.parametrize("count", [0, 1, 700])
def test_decode_gives_back_what_encode_packed(count: int) -> None:
    # Given: events with absent values, non-ASCII values and a page holding a NUL
    events = _events(count)

    # When
    decoded = block_codec.decode(block_codec.encode(EventBlock.of_events(events), HOUR))

    # Then
    assert _sorted(list(decoded.events("site_1"))) == _sorted(events)


def test_an_hour_of_typical_events_packs_into_a_few_bytes_each() -> None:
    events = [event for event in _events(3_000, visitors=1_000) if "\x00" not in event.page]

    packed = block_codec.encode(EventBlock.of_events(events), HOUR)

    assert len(packed) / len(events) < 20


# A block packed by format version 2 (one zlib stream): a visitor's pageview, outbound click, custom
# event, non-interactive custom event and engagement report, and another visitor's pageview,
# captured from that version's encoder; its OS is stored under an old name ("Mac OS X").
VERSION_2_BLOCK = base64.b64decode(
    "eJxjYmNgYGAC4gb+if5zGRkYXjAzMFxgZ2DYwc3AsICfgaFDmIFBQxmogJGJmYXBiZVREcg2QAGJhmgCSUZAQxgYuIBYn0G/oCgzOTMv3YkRBJiYYDLp+fnp"
    "Oal6yfm5TowgMQYICQROEApsBisQu7gyhAYjawcJhgbrOjtCVDKCBXmBODgxT8GtKDEvObM4OR9ZEuTL3PykzJxUqCi6ZWBVHEDsm5is4B+sEAGxDyIODAaG"
    "jJKSgmIrff18vZLU4hJ9J4hzwW7kBtmcmZ5XWsAQkJNY6QSxFKyTD4irlQpyEvOUrJQKivKVap0gHvVkQAMFgowI95gzAABhCjNx"
)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-3], "block ends early"),
        (lambda data: data + b"\x00", "block sizes do not add up"),
        (lambda data: b"not zlib", "not a compressed block"),
        (lambda data: VERSION_2_BLOCK[:-3], "not a compressed block"),
    ],
)
def test_damaged_bytes_are_refused(damage: object, message: str) -> None:
    data = block_codec.encode(EventBlock.of_events(_events(10)), HOUR)

    with pytest.raises(block_codec.BlockFormatError, match=message):
        block_codec.decode(damage(data))  # type: ignore[operator]


def test_events_outside_the_blocks_time_range_are_refused() -> None:
    with pytest.raises(ValueError, match="within 49 days"):
        block_codec.encode(EventBlock.of_events(_events(3)), HOUR + HOUR_MS)


def test_a_big_hour_is_split_between_visitors_into_parts_under_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a part limit small enough that 2,000 events need several parts
    monkeypatch.setattr("aizen.store.blocks.MAX_PART_BYTES", 4_000)
    events = _events(2_000, visitors=400)

    # When
    parts = encode_parts(EventBlock.of_events(events), HOUR)

    # Then: every part is small enough, no visitor is in two parts, and together they hold every event
    decoded = [block_codec.decode(part) for part in parts]
    assert len(parts) > 2
    assert all(len(part) <= 4_000 for part in parts)
    visitors = [visitor for block in decoded for visitor in block.visitors]
    assert len(visitors) == len(set(visitors))
    assert _sorted([event for block in decoded for event in block.events("site_1")]) == _sorted(events)
    assert MAX_PART_BYTES == 300_000


def test_since_drops_only_the_events_before_its_time() -> None:
    events = _events(300)
    cut = HOUR + HOUR_MS // 2

    kept = EventBlock.of_events(events).since(cut, "site_1")

    assert _sorted(list(kept.events("site_1"))) == _sorted([event for event in events if event.timestamp_ms >= cut])


# A block packed by format version 1 (before custom events): a pageview and an outbound click
# of one visitor, a pageview of another, captured from that version's encoder.
VERSION_1_BLOCK = base64.b64decode(
    "eJxdkD0KwjAYQL9URBC0gxdQXFw06uhm/JmEDsEDpDG2QU1KGsHR0dUDeD+P4VelFQ08CC/kfSGkBgABcg3v0YMAPFHcOgCDPkoCLCA93Ix/lpj8iXhaZKCJ"
    "UKCZ01KbhBESBKVOrE2OaiTtiZHPQGgjkUuE0bLLlXAyxRvwDtWR5Qq2vGoUZsuHiznDV71NC+HCdNdOGKlzaYuTWhneqfzgbQYnG+ujqjINZK2d2ttLMaxK"
    "b7Q5f02IpN5n+YxSO/Iq95ThX7wAXPQxUg=="
)


def test_version_1_blocks_still_decode_without_the_new_columns() -> None:
    # When
    block = block_codec.decode(VERSION_1_BLOCK)

    # Then: the same events, with no names, props or engagement figures
    shared: dict[str, Any] = {
        "channel": "Organic Search",
        "country": "DE",
        "device": "desktop",
        "browser": "Firefox",
        "os": "Linux",
    }
    assert list(block.events("site_1")) == [
        RawEvent("site_1", HOUR + 1000, "pageview", "00000000000000a1", "/", referrer="google.com", **shared),
        RawEvent("site_1", HOUR + 5000, "outbound_click", "00000000000000a1", "/", link="https://o.test/", **shared),
        RawEvent(
            "site_1", HOUR + 9000, "pageview", "00000000000000b2", "/pricing",
            country="US", region="US-CA", city="San Francisco", device="mobile",
        ),
    ]  # fmt: skip
    assert block.values("name") == block.values("props") == [None, None, None]
    assert list(block.numbers["engaged_ms"]) == list(block.numbers["scroll_depth"]) == [0, 0, 0]
    # and packing it again writes the current version, which reads back the same
    assert list(block_codec.decode(block_codec.encode(block, HOUR)).events("site_1")) == list(block.events("site_1"))


def test_version_2_blocks_still_decode_with_every_column() -> None:
    # When: read as the store reads blocks (old names renamed)
    block = block_codec.decode(VERSION_2_BLOCK, renamed={"os": canonical_os})

    # Then
    visitor = "00000000000000a1"
    shared: dict[str, Any] = {"country": "DE", "os": "macOS"}
    assert list(block.events("s")) == [
        RawEvent("s", HOUR + 1000, "pageview", visitor, "/", referrer="google.com", **shared),
        RawEvent("s", HOUR + 2000, "outbound_click", visitor, "/", link="https://o.test/", **shared),
        RawEvent("s", HOUR + 3000, "custom", visitor, "/", name="Signup", props='{"plan":"pro"}', **shared),
        RawEvent("s", HOUR + 4000, "custom", visitor, "/", name="Play", interactive=False, **shared),
        RawEvent("s", HOUR + 5000, "engagement", visitor, "/", engaged_ms=70_000, scroll_depth=55, **shared),
        RawEvent(
            "s", HOUR + 9000, "pageview", "00000000000000b2", "/pricing",
            country="US", region="US-CA", city="San Francisco", device="mobile",
        ),
    ]  # fmt: skip
    # and packing it again writes the current version (3), which reads back the same
    packed = block_codec.encode(block, HOUR)
    assert packed[0] == block_codec.FORMAT_VERSION == 3
    assert list(block_codec.decode(packed).events("s")) == list(block.events("s"))


def test_each_column_is_decompressed_only_when_a_query_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a packed block with engagement figures
    events = _events(300)
    data = block_codec.encode(EventBlock.of_events(events), HOUR)
    inflated: list[int] = []
    decompress = zlib.decompress

    def counted(stored: bytes) -> bytes:
        inflated.append(len(stored))
        return decompress(stored)

    monkeypatch.setattr(zlib, "decompress", counted)

    # When: decoded, then one attribute read, then the engagement figures
    block = block_codec.decode(data)
    after_decode = len(inflated)
    block.value("country", 0)
    after_country = len(inflated)
    engaged, scrolled = block.numbers["engaged_ms"], block.numbers["scroll_depth"]

    # Then: decoding inflated the kinds and runs only (times and hex visitor ids are stored
    # uncompressed), the attribute one column more, the two numbers one more together
    assert (after_decode, after_country, len(inflated)) == (1, 2, 3)
    assert sorted(engaged) == sorted(event.engaged_ms or 0 for event in events)
    assert sorted(scrolled) == sorted(event.scroll_depth or 0 for event in events)
    assert sum(inflated) < len(data) // 2


@pytest.mark.parametrize("visitor", ["00000000000000a1", "v1", "00000000000000A1", "00000000000000a", "ünï"])
def test_visitor_ids_of_any_form_read_back_the_same(visitor: str) -> None:
    # Given: hex ids as ingestion makes them (stored as their bytes), beside other ids (stored as text)
    events = [
        RawEvent("s", HOUR + 1, "pageview", visitor, "/"),
        RawEvent("s", HOUR + 2, "pageview", "00000000000000b2", "/"),
    ]

    block = block_codec.decode(block_codec.encode(EventBlock.of_events(events), HOUR))

    assert sorted(block.visitors) == sorted([visitor, "00000000000000b2"])
    assert _sorted(list(block.events("s"))) == _sorted(events)


def test_columns_every_event_lacks_take_no_bytes() -> None:
    # Given: pageviews without referrers, places, links, names, props or engagement figures
    events = [RawEvent("s", HOUR + second * 1000, "pageview", f"{second % 7:016x}", "/") for second in range(100)]
    bare = block_codec.encode(EventBlock.of_events(events), HOUR)

    # When: one event gets a referrer
    with_referrer = block_codec.encode(
        EventBlock.of_events([dataclasses.replace(events[0], referrer="google.com"), *events[1:]]), HOUR
    )

    # Then: the referrer column is all the second block adds
    assert len(bare) < len(with_referrer) < len(bare) + 40
    decoded = block_codec.decode(bare)
    assert decoded.values("referrer") == decoded.values("props") == [None] * 100
    assert list(decoded.numbers["engaged_ms"]) == [0] * 100


def test_a_packed_blocks_time_span_comes_from_its_header() -> None:
    events = _events(100)

    decoded = block_codec.decode(block_codec.encode(EventBlock.of_events(events), HOUR))

    offsets = [event.timestamp_ms - HOUR for event in events]
    assert decoded._span == (min(offsets), max(offsets)) == decoded.span
    assert EventBlock.of_events(events).span == (min(offsets) + HOUR, max(offsets) + HOUR)


def test_kinds_and_engagement_figures_are_columns() -> None:
    events = [
        RawEvent("s", HOUR + 1, "pageview", "00000000000000a1", "/"),
        RawEvent("s", HOUR + 2, "outbound_click", "00000000000000a1", "/", link="https://o.test/"),
        RawEvent("s", HOUR + 3, "custom", "00000000000000a1", "/", name="Signup", props='{"plan":"pro"}'),
        RawEvent("s", HOUR + 4, "custom", "00000000000000a1", "/", name="Play", interactive=False),
        RawEvent("s", HOUR + 5, "engagement", "00000000000000a1", "/", engaged_ms=70_000, scroll_depth=55),
    ]

    block = block_codec.decode(block_codec.encode(EventBlock.of_events(events), HOUR))

    assert bytes(block.kinds) == bytes([PAGEVIEW, OUTBOUND_CLICK, CUSTOM, CUSTOM_NON_INTERACTIVE, ENGAGEMENT])
    assert block.values("name") == [None, None, "Signup", "Play", None]
    assert block.values("props") == [None, None, '{"plan":"pro"}', None, None]
    assert list(block.numbers["engaged_ms"]) == [0, 0, 0, 0, 70_000]
    assert list(block.numbers["scroll_depth"]) == [0, 0, 0, 0, 55]


def test_decode_reads_an_attributes_dictionary_and_codes_only_when_a_query_asks_for_them() -> None:
    # Given: a packed block
    events = _events(200)
    data = block_codec.encode(EventBlock.of_events(events), HOUR)

    # When: a query reads one attribute of one event
    block = block_codec.decode(data)
    block.value("country", 0)

    # Then: only that attribute was decoded, and the others still decode to their values
    assert set(block.dictionaries) == set(block.codes) == {"country"}
    assert _sorted(list(block.events("site_1"))) == _sorted(events)
    assert set(block.dictionaries) == set(ATTRIBUTES)


def test_decode_renames_a_dictionarys_values_when_it_is_read() -> None:
    events = _events(50)

    block = block_codec.decode(
        block_codec.encode(EventBlock.of_events(events), HOUR), renamed={"os": lambda name: f"{name}!"}
    )

    assert sorted({event.os for event in block.events("site_1")}, key=str) == sorted(
        {None if event.os is None else f"{event.os}!" for event in events}, key=str
    )


def test_a_decoded_blocks_times_stay_offsets_from_its_hour_until_timestamps_are_asked_for() -> None:
    events = _events(100)
    block = EventBlock.of_events(events)

    decoded = block_codec.decode(block_codec.encode(block, HOUR))

    assert decoded.base_ms == HOUR
    assert decoded.times == [timestamp - HOUR for timestamp in block.timestamps]
    assert decoded.timestamps == block.timestamps
    assert (block.base_ms, block.times) == (0, block.timestamps)
