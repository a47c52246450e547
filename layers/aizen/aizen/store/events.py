"""Raw events in the Events table: compact items, sharded day partitions.

Item layout (see docs/data-model.md):
  p  partition key  "<site id>#<UTC date YYYYMMDD>#<shard>"; the shard (0..EVENT_SHARDS-1)
                    is derived from the visitor id, so a busy site's writes spread over
                    several partitions while a day's events come back with a few Queries
  s  sort key       10 bytes: the event time in ms (6 bytes, big-endian) + 4 random bytes
  x  TTL            event time + raw retention, Unix seconds
  v  visitor id     k  kind ("c" for an outbound click; absent for a pageview)
  u  page           r  referrer   h  channel   n  country   g  region   t  city
  d  device         b  browser    o  os        l  link (clicks)
Absent values are absent attributes.
"""

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary

from aizen import clock
from aizen.events import RawEvent
from aizen.settings import get_settings
from aizen.store.dynamo import dynamo_operation, events_table

EVENT_SHARDS = 4  # part of the key format: changing it needs a data migration
_QUERY_THREADS = 8
_OPTIONAL = (
    ("r", "referrer"),
    ("h", "channel"),
    ("n", "country"),
    ("g", "region"),
    ("t", "city"),
    ("d", "device"),
    ("b", "browser"),
    ("o", "os"),
    ("l", "link"),
)


def shard_of(visitor_id: str) -> int:
    return int(visitor_id[-2:], 16) % EVENT_SHARDS


def partition_key(site_id: str, utc_day: str, shard: int) -> str:
    return f"{site_id}#{utc_day}#{shard}"


def _utc_day(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y%m%d")


def sort_key(timestamp_ms: int, nonce: bytes | None = None) -> bytes:
    return timestamp_ms.to_bytes(6, "big") + (nonce if nonce is not None else os.urandom(4))


def to_item(event: RawEvent, retention_days: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "p": partition_key(event.site_id, _utc_day(event.timestamp_ms), shard_of(event.visitor_id)),
        "s": Binary(sort_key(event.timestamp_ms)),
        "x": event.timestamp_ms // 1000 + retention_days * 86400,
        "v": event.visitor_id,
        "u": event.page,
    }
    if event.kind == "outbound_click":
        item["k"] = "c"
    for attribute, field in _OPTIONAL:
        value = getattr(event, field)
        if value is not None:
            item[attribute] = value
    return item


def from_item(item: dict[str, Any]) -> RawEvent:
    site_id = str(item["p"]).split("#", 1)[0]
    raw_sort = bytes(item["s"])
    return RawEvent(
        site_id=site_id,
        timestamp_ms=int.from_bytes(raw_sort[:6], "big"),
        kind="outbound_click" if item.get("k") == "c" else "pageview",
        visitor_id=str(item["v"]),
        page=str(item["u"]),
        **{field: item[attribute] for attribute, field in _OPTIONAL if attribute in item},
    )


@dynamo_operation
def put_event(event: RawEvent) -> None:
    """One PutItem: the ingest hot path."""
    events_table().put_item(Item=to_item(event, get_settings().raw_retention_days))


def _utc_days(start_ms: int, end_ms: int) -> list[str]:
    first = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, UTC).date()
    return [(first + timedelta(days=offset)).strftime("%Y%m%d") for offset in range((last - first).days + 1)]


@dynamo_operation
def _query_partition(partition: str, start_ms: int, end_ms: int, now_seconds: int) -> list[RawEvent]:
    table = events_table()
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("p").eq(partition)
        & Key("s").between(Binary(sort_key(start_ms, b"\x00" * 4)), Binary(sort_key(end_ms - 1, b"\xff" * 4))),
    }
    found: list[RawEvent] = []
    while True:
        page = table.query(**query)
        # TTL deletion is lazy: expired items may linger for days, so skip them here.
        found.extend(from_item(item) for item in page.get("Items", []) if int(item["x"]) > now_seconds)  # type: ignore[arg-type]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def query_events(site_id: str, start_ms: int, end_ms: int) -> Iterator[RawEvent]:
    """A site's unexpired events with start_ms <= time < end_ms, partition by partition.

    The partitions (UTC days times shards) are queried in parallel; events come back
    grouped by partition, not globally ordered by time.
    """
    if end_ms <= start_ms:
        return
    now_seconds = int(clock.now())
    partitions = [
        partition_key(site_id, day, shard) for day in _utc_days(start_ms, end_ms) for shard in range(EVENT_SHARDS)
    ]
    with ThreadPoolExecutor(max_workers=min(_QUERY_THREADS, len(partitions))) as pool:
        for events in pool.map(
            lambda partition: _query_partition(partition, start_ms, end_ms, now_seconds), partitions
        ):
            yield from events
