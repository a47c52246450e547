"""The raw item codec: compact codes round-trip, and a typical event fits the byte budget."""

from aizen.events import RawEvent
from aizen.store.events import from_item, item_size, to_item

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
