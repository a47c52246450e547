"""The raw item codec: compact codes round-trip, and a typical event fits the byte budget."""

import base64
from dataclasses import replace
from typing import Any

import pytest
from boto3.dynamodb.types import Binary

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.store import block_codec
from aizen.store.events import _from_json, from_item, item_size, to_item

TYPICAL = RawEvent(
    site_id="site_3f9a1c2b7d4e",
    timestamp_ms=1_775_159_000_123,
    kind="pageview",
    visitor_id="9f86d081884c7d65",
    page="/blog/privacy-first-analytics",
    referrer="google.com",
    channel="Organic Search",
    country="US",
    region="US-CA",
    city="San Francisco",
    device="desktop",
    browser="Chrome",
    os="Windows",
)


def test_round_trip_with_codes() -> None:
    item = to_item(TYPICAL, 90)
    assert item["d"] == "D"
    assert item["h"] == "11"
    assert from_item(item) == TYPICAL
    click = RawEvent("site_1", 1, "outbound_click", "00000000000000aa", "/", link="https://o.test/", device="tablet")
    assert from_item(to_item(click, 90)) == click


def test_typical_event_is_at_most_150_bytes() -> None:
    assert item_size(to_item(TYPICAL, 90)) <= 150


def test_fixed_nonce_makes_the_key_deterministic() -> None:
    first, second = to_item(TYPICAL, 90, nonce=b"abcd"), to_item(TYPICAL, 90, nonce=b"abcd")
    assert first["s"] == second["s"]
    assert first["p"] == second["p"]


# One event of every kind, each with what that kind carries.
EVERY_KIND = [
    TYPICAL,
    RawEvent(
        "site_1", 2, "pageview", "00000000000000ab", "/pricing", country="DE", props='{"author":"Ann","lang":"de"}'
    ),
    RawEvent("site_1", 3, "outbound_click", "00000000000000aa", "/", link="https://o.test/", device="tablet"),
    RawEvent(
        "site_1", 4, "custom", "00000000000000aa", "/signup", name="Signup", props='{"plan":"pro"}', browser="Firefox"
    ),
    RawEvent("site_1", 5, "custom", "00000000000000aa", "/video", name="Video: Play", interactive=False),
    RawEvent("site_1", 6, "custom", "00000000000000ac", "/missing", name="404", props='{"path":"/missing"}'),
    RawEvent("site_1", 7, "engagement", "00000000000000aa", "/blog", engaged_ms=325_000, scroll_depth=100),
    RawEvent("site_1", 8, "engagement", "00000000000000ad", "/", engaged_ms=0, scroll_depth=0, channel="Direct"),
]


def _as_dynamodb_json(item: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The item as the raw reads receive it (DynamoDB's JSON, binary values base64)."""
    typed: dict[str, dict[str, str]] = {}
    for name, value in item.items():
        if isinstance(value, Binary):
            typed[name] = {"B": base64.b64encode(value.value).decode()}  # type: ignore[attr-defined]  # untyped
        elif isinstance(value, int):
            typed[name] = {"N": str(value)}
        else:
            typed[name] = {"S": value}
    return typed


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda event: f"{event.kind}-{event.timestamp_ms}")
def test_every_kind_round_trips_through_item_json_and_block(event: RawEvent) -> None:
    # single item <-> RawEvent, through both decoders
    item = to_item(event, 90)
    assert from_item(item) == event
    assert _from_json(_as_dynamodb_json(item), event.site_id) == event
    # RawEvent <-> block (in memory and packed)
    block = EventBlock.of_events([event])
    assert list(block.events(event.site_id)) == [event]
    decoded = block_codec.decode(block_codec.encode(block, event.timestamp_ms))
    assert list(decoded.events(event.site_id)) == [event]


def test_kinds_are_stored_compactly() -> None:
    items = [to_item(event, 90) for event in EVERY_KIND]
    assert [item.get("k") for item in items] == [None, None, "c", "e", "ne", "e", "g", "g"]
    assert items[3]["m"] == "Signup"
    assert items[3]["j"] == '{"plan":"pro"}'
    assert (items[6]["e"], items[6]["z"]) == (325_000, 100)
    assert "e" not in items[3]
    assert "z" not in items[0]
    assert "m" not in items[2]  # an outbound click's name is implied by its kind


def test_a_typical_engagement_report_stays_small() -> None:
    engagement = replace(TYPICAL, kind="engagement", engaged_ms=42_000, scroll_depth=87)
    assert item_size(to_item(engagement, 90)) <= 160
