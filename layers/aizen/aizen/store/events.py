"""Raw events in the Events table: compact items, sharded day partitions.

Item layout (see docs/data-model.md):
  p  partition key  "<site id>#<UTC date YYYYMMDD>#<shard>"; the shard (0..EVENT_SHARDS-1)
                    is derived from the visitor id, so a busy site's writes spread over
                    several partitions while a day's events come back with a few Queries
  s  sort key       10 bytes: the event time in ms (6 bytes, big-endian) + 4 random bytes
  x  TTL            event time + raw retention, Unix seconds
  v  visitor id     k  kind: absent for a pageview, "c" outbound click, "e" custom event,
                       "ne" custom event sent non-interactive, "g" engagement
  u  page           r  referrer   h  channel   n  country   g  region   t  city
  d  device         b  browser    o  os        l  link (clicks)
  m  event name (custom events)   j  props (JSON object text)
  e  engaged ms (N, engagement)   z  scroll depth percent (N, engagement)
Absent values are absent attributes. Two values are stored as codes to keep items small:
the device class as one letter (D, M, T) and the GA4 channel group as its index in
aizen.events.CHANNELS (a decimal string); from_item turns them back into names, and any
value without a code is stored as itself.
"""

import binascii
import heapq
import os
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import Binary

from aizen import clock
from aizen.events import CHANNELS, DEVICES, RawEvent
from aizen.names import canonical_fields
from aizen.settings import get_settings
from aizen.store.dynamo import BATCH_SIZE, dynamo_operation, events_table, raw_key, raw_query_page, write_batch

EVENT_SHARDS = 4  # part of the key format: changing it needs a data migration
_QUERY_THREADS = 8
_CODES: dict[str, dict[str, str]] = {
    "d": {device: device[0].upper() for device in DEVICES},
    "h": {channel: str(index) for index, channel in enumerate(CHANNELS)},
}
_NAMES: dict[str, dict[str, str]] = {
    attribute: {code: name for name, code in codes.items()} for attribute, codes in _CODES.items()
}
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
    ("m", "name"),
    ("j", "props"),
)
# The kind letter `k` of every kind but the pageview (absent), and its meaning.
_KIND_LETTERS: dict[tuple[str, bool], str] = {
    ("outbound_click", True): "c",
    ("custom", True): "e",
    ("custom", False): "ne",
    ("engagement", True): "g",
}
_KINDS = {letter: kind for kind, letter in _KIND_LETTERS.items()}
_NUMBERS = (("e", "engaged_ms"), ("z", "scroll_depth"))


def shard_of(visitor_id: str) -> int:
    return int(visitor_id[-2:], 16) % EVENT_SHARDS


def partition_key(site_id: str, utc_day: str, shard: int) -> str:
    return f"{site_id}#{utc_day}#{shard}"


def _utc_day(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y%m%d")


def sort_key(timestamp_ms: int, nonce: bytes | None = None) -> bytes:
    return timestamp_ms.to_bytes(6, "big") + (nonce if nonce is not None else os.urandom(4))


def to_item(event: RawEvent, retention_days: int, *, nonce: bytes | None = None) -> dict[str, Any]:
    """The stored item; a fixed 4-byte `nonce` makes the key deterministic (idempotent imports)."""
    item: dict[str, Any] = {
        "p": partition_key(event.site_id, _utc_day(event.timestamp_ms), shard_of(event.visitor_id)),
        "s": Binary(sort_key(event.timestamp_ms, nonce)),
        "x": event.timestamp_ms // 1000 + retention_days * 86400,
        "v": event.visitor_id,
        "u": event.page,
    }
    if event.kind != "pageview":
        item["k"] = _KIND_LETTERS[event.kind, event.interactive or event.kind != "custom"]
    for attribute, field in _OPTIONAL:
        value = getattr(event, field)
        if value is not None:
            codes = _CODES.get(attribute)
            item[attribute] = codes.get(value, value) if codes else value
    if event.kind == "engagement":
        for attribute, field in _NUMBERS:
            item[attribute] = getattr(event, field) or 0
    return item


def _kind_fields(letter: str | None) -> dict[str, Any]:
    """RawEvent's kind and interactive flag from the letter `k` (absent: a pageview)."""
    if letter is None:
        return {"kind": "pageview"}
    kind, interactive = _KINDS[letter]
    return {"kind": kind} if interactive else {"kind": kind, "interactive": False}


def _decode(attribute: str, value: Any) -> str:
    names = _NAMES.get(attribute)
    return names.get(value, value) if names else str(value)


def from_item(item: dict[str, Any]) -> RawEvent:
    site_id = str(item["p"]).split("#", 1)[0]
    raw_sort = bytes(item["s"])
    letter = item.get("k")
    fields: dict[str, Any] = {
        field: _decode(attribute, item[attribute]) for attribute, field in _OPTIONAL if attribute in item
    }
    if letter is not None:
        fields.update(_kind_fields(str(letter)))
        fields.update({field: int(item[attribute]) for attribute, field in _NUMBERS if attribute in item})
    return RawEvent(
        site_id=site_id,
        timestamp_ms=int.from_bytes(raw_sort[:6], "big"),
        kind=fields.pop("kind", "pageview"),
        visitor_id=str(item["v"]),
        page=str(item["u"]),
        **canonical_fields(fields),
    )


@dynamo_operation
def put_event(event: RawEvent) -> None:
    """One PutItem: the ingest hot path."""
    events_table().put_item(Item=to_item(event, get_settings().raw_retention_days))


def put_events(
    events: Sequence[RawEvent],
    *,
    nonces: Sequence[bytes] | None = None,
    threads: int = 4,
    on_written: Callable[[int], None] | None = None,
) -> int:
    """Write many events with BatchWriteItem (the import path); returns how many were written.

    `nonces` (one per event) fix the sort keys, so writing the same events again overwrites
    them instead of duplicating them. Batches run on `threads` threads; `on_written(n)` is
    called (from those threads) whenever DynamoDB confirmed n more events stored. When a
    batch gives up (aizen.store.dynamo.write_batch's bounds), no further batch starts, the
    ones in flight finish, and its ServiceUnavailable is raised: by then `on_written` has
    counted every event confirmed stored.
    """
    retention = get_settings().raw_retention_days
    table = get_settings().events_table
    items = [
        to_item(event, retention, nonce=nonces[index] if nonces is not None else None)
        for index, event in enumerate(events)
    ]
    batches = [items[start : start + BATCH_SIZE] for start in range(0, len(items), BATCH_SIZE)]
    stop = threading.Event()

    def write(batch: list[dict[str, Any]]) -> int:
        if stop.is_set():
            return 0
        try:
            write_batch(table, [{"PutRequest": {"Item": item}} for item in batch], on_written=on_written)
        except BaseException:
            stop.set()
            raise
        return len(batch)

    if threads <= 1 or len(batches) <= 1:
        return sum(write(batch) for batch in batches)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(write, batch) for batch in batches]
        return sum(future.result() for future in futures)


def item_size(item: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for an item's attributes (names + values; excludes its 100-byte overhead)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, Binary):
            raw: Any = value
            size += len(bytes(raw))
        elif isinstance(value, bytes):
            size += len(value)
        elif isinstance(value, int):
            digits = len(str(abs(value)).lstrip("0") or "0")
            size += (digits + 1) // 2 + 1
        else:
            size += len(str(value).encode())
    return size


def _utc_days(start_ms: int, end_ms: int) -> list[str]:
    first = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, UTC).date()
    return [(first + timedelta(days=offset)).strftime("%Y%m%d") for offset in range((last - first).days + 1)]


def _partition_range(partition: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    """A Query of one partition's events with start_ms <= time < end_ms.

    A string expression, like every expression of the store: boto3's `Key(...)` conditions
    go through one placeholder builder per client, reset by every request, so a request
    made on another thread (these queries run on threads) can renumber the placeholders of
    a condition being built (tests/unit/test_store_expressions.py).
    """
    return {
        "KeyConditionExpression": "p = :partition AND s BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":partition": partition,
            ":first": Binary(sort_key(start_ms, b"\x00" * 4)),
            ":last": Binary(sort_key(end_ms - 1, b"\xff" * 4)),
        },
    }


def _from_json(item: dict[str, dict[str, str]], site_id: str) -> RawEvent:
    """`from_item` for an item in DynamoDB's JSON (the raw reads: no SDK parsing per attribute)."""
    kind = item.get("k")
    fields: dict[str, Any] = {
        field: _decode(attribute, item[attribute]["S"]) for attribute, field in _OPTIONAL if attribute in item
    }
    if kind is not None:
        fields.update(_kind_fields(kind["S"]))
        fields.update({field: int(item[attribute]["N"]) for attribute, field in _NUMBERS if attribute in item})
    return RawEvent(
        site_id,
        int.from_bytes(binascii.a2b_base64(item["s"]["B"])[:6], "big"),
        fields.pop("kind", "pageview"),
        item["v"]["S"],
        item["u"]["S"],
        **canonical_fields(fields),
    )


def _raw_partition_range(partition: str, start_ms: int, end_ms: int, *, consistent: bool = False) -> dict[str, Any]:
    """`_partition_range` as a low-level Query request (DynamoDB's typed values); `consistent`: a
    strongly consistent read (the compaction job's, which must see every item written before it)."""
    query = _partition_range(partition, start_ms, end_ms)
    return {
        **({"ConsistentRead": True} if consistent else {}),
        "TableName": get_settings().events_table,
        "KeyConditionExpression": query["KeyConditionExpression"],
        "ExpressionAttributeValues": {
            ":partition": {"S": partition},
            ":first": {"B": bytes(query["ExpressionAttributeValues"][":first"])},
            ":last": {"B": bytes(query["ExpressionAttributeValues"][":last"])},
        },
    }


@dynamo_operation
def _query_partition(
    site_id: str, partition: str, start_ms: int, end_ms: int, now_seconds: int, consistent: bool = False
) -> list[RawEvent]:
    """One partition's unexpired events in [start_ms, end_ms), read as DynamoDB's JSON."""
    request = _raw_partition_range(partition, start_ms, end_ms, consistent=consistent)
    found: list[RawEvent] = []
    while True:
        page = raw_query_page(request)
        # TTL deletion is lazy: expired items may linger for days, so skip them here.
        found.extend(_from_json(item, site_id) for item in page.get("Items", []) if int(item["x"]["N"]) > now_seconds)
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = raw_key(page["LastEvaluatedKey"])


def query_events(site_id: str, start_ms: int, end_ms: int) -> Iterator[RawEvent]:
    """A site's unexpired single items with start_ms <= time < end_ms, partition by partition,
    read strongly consistent (the compaction job packs an hour again from them right after an
    import wrote them).

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
            lambda partition: _query_partition(site_id, partition, start_ms, end_ms, now_seconds, consistent=True),
            partitions,
        ):
            yield from events


ORDERED_PAGE_ITEMS = 2_000  # items per page of `events_in_time_order`: what it holds per shard


def _partition_in_order(
    site_id: str, partition: str, start_ms: int, end_ms: int, now_seconds: int
) -> Iterator[RawEvent]:
    """One partition's unexpired events in [start_ms, end_ms), in time order (the sort key's),
    a page of at most ORDERED_PAGE_ITEMS fetched when the previous one is used up; strongly
    consistent (the compaction job's reads)."""
    request = {**_raw_partition_range(partition, start_ms, end_ms, consistent=True), "Limit": ORDERED_PAGE_ITEMS}
    while True:
        page = dynamo_operation(raw_query_page)(request)
        yield from (_from_json(item, site_id) for item in page.get("Items", []) if int(item["x"]["N"]) > now_seconds)
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = raw_key(page["LastEvaluatedKey"])


def events_in_time_order(site_id: str, start_ms: int, end_ms: int) -> Generator[RawEvent]:
    """A site's unexpired single items with start_ms <= time < end_ms, in time order, read lazily:
    the shards of one UTC day at a time, merged, each a page at a time. Whatever the range
    holds, this holds at most a page per shard (the compaction job packs an hour at a time
    from it, so its memory is bounded by an hour's events)."""
    if end_ms <= start_ms:
        return
    now_seconds = int(clock.now())
    for day in _utc_days(start_ms, end_ms):
        shards = [
            _partition_in_order(site_id, partition_key(site_id, day, shard), start_ms, end_ms, now_seconds)
            for shard in range(EVENT_SHARDS)
        ]
        yield from heapq.merge(*shards, key=lambda event: event.timestamp_ms)


# Read-side helpers of the query engine (aizen.query) ---------------------------------------

_PREFETCH_DAYS = 2  # UTC days queried ahead of the one being counted: bounds memory, keeps parallelism


def _day_end_ms(utc_day: str) -> int:
    day = datetime.fromisoformat(utc_day).replace(tzinfo=UTC)  # YYYYMMDD; strptime imports _strptime (~4 ms)
    return int((day + timedelta(days=1)).timestamp() * 1000)


def query_event_days(site_id: str, start_ms: int, end_ms: int) -> Iterator[tuple[int, list[RawEvent]]]:
    """A site's unexpired events with start_ms <= time < end_ms, one UTC day at a time, in day order.

    Yields (watermark, events): every event of the range before the watermark (the end
    of that UTC day, or end_ms) has been yielded by then. A day's shards are queried in
    parallel, and at most `_PREFETCH_DAYS` days ahead are in flight, so memory holds a
    few days of events, never the whole range. Events of one day are not time-ordered.
    """
    if end_ms <= start_ms:
        return
    now_seconds = int(clock.now())
    days = _utc_days(start_ms, end_ms)
    with ThreadPoolExecutor(max_workers=min(_QUERY_THREADS, EVENT_SHARDS * (_PREFETCH_DAYS + 1))) as pool:

        def submit(day: str) -> list[Any]:
            return [
                pool.submit(
                    _query_partition, site_id, partition_key(site_id, day, shard), start_ms, end_ms, now_seconds
                )
                for shard in range(EVENT_SHARDS)
            ]

        pending = [submit(day) for day in days[: _PREFETCH_DAYS + 1]]
        for position, day in enumerate(days):
            futures = pending.pop(0)
            if position + _PREFETCH_DAYS + 1 < len(days):
                pending.append(submit(days[position + _PREFETCH_DAYS + 1]))
            events: list[RawEvent] = []
            for future in futures:
                events.extend(future.result())
            yield min(_day_end_ms(day), end_ms), events


@dynamo_operation
def _first_in_partition(partition: str, start_ms: int, end_ms: int, now_seconds: int) -> int | None:
    table = events_table()
    query = {**_partition_range(partition, start_ms, end_ms), "ProjectionExpression": "s, x", "Limit": 100}
    while True:
        page = table.query(**query)
        for item in page.get("Items", []):
            if int(item["x"]) > now_seconds:  # type: ignore[arg-type]
                return int.from_bytes(bytes(item["s"])[:6], "big")  # type: ignore[arg-type]
        if "LastEvaluatedKey" not in page:
            return None
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def earliest_event_ms(site_id: str, start_ms: int, end_ms: int) -> int | None:
    """Time of the site's first unexpired event in [start_ms, end_ms), or None (period=all).

    Walks UTC days in order, a few days' shards at a time in parallel, reading at most a
    page of keys per partition, and stops at the first day with an event.
    """
    if end_ms <= start_ms:
        return None
    now_seconds = int(clock.now())
    days = _utc_days(start_ms, end_ms)
    batch_days = max(1, _QUERY_THREADS // EVENT_SHARDS) * 2
    with ThreadPoolExecutor(max_workers=_QUERY_THREADS) as pool:
        for first in range(0, len(days), batch_days):
            partitions = [
                partition_key(site_id, day, shard)
                for day in days[first : first + batch_days]
                for shard in range(EVENT_SHARDS)
            ]
            found = [
                first_ms
                for first_ms in pool.map(
                    lambda partition: _first_in_partition(partition, start_ms, end_ms, now_seconds), partitions
                )
                if first_ms is not None
            ]
            if found:
                return min(found)
    return None
