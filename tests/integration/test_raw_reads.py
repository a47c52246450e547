"""What a raw read asks DynamoDB for (aizen.query.planner.raw_chunks): no more than its events need."""

import json

from aizen.events import FUTURE_SKEW_MS, RawEvent
from aizen.query import planner
from aizen.store import events as event_store
from tests.support import SEED_NOW, FrozenClock, make_owner, record_dynamodb_calls, store_single_items

DAY_MS = 86_400_000


def _event(site_id: str, timestamp_ms: int, visitor: str) -> RawEvent:
    return RawEvent(site_id, timestamp_ms, "pageview", visitor, "/")


def test_single_items_are_read_up_to_the_clock_and_its_skew_not_to_the_end_of_the_range(clock: FrozenClock) -> None:
    # Given: events just before "now" and as far ahead of it as an import accepts, and a range
    # that runs into the next UTC day (a local day in a zone west of UTC)
    site_id = make_owner().site.id
    now_ms = SEED_NOW * 1000
    events = [
        _event(site_id, now_ms - 60_000, "00000000000000a1"),
        _event(site_id, now_ms + FUTURE_SKEW_MS, "00000000000000b2"),
    ]
    store_single_items(events, 90)
    start_ms, end_ms = now_ms - now_ms % DAY_MS, now_ms - now_ms % DAY_MS + DAY_MS + 7 * 3_600_000
    calls = record_dynamodb_calls()

    # When
    read = [
        event
        for _, blocks in planner.raw_chunks(site_id, start_ms, end_ms)
        for block in blocks
        for event in block.events(site_id)
    ]

    # Then: both events, and no partition of the next UTC day was queried
    assert sorted(read, key=lambda event: event.timestamp_ms) == events
    partitions = {
        json.loads(call.body)["ExpressionAttributeValues"][":partition"]["S"]
        for call in calls
        if call.operation == "Query"
    }
    today = event_store.partition_key(site_id, "20260402", 0).rsplit("#", 1)[0]
    assert {partition.rsplit("#", 1)[0] for partition in partitions} == {today}
