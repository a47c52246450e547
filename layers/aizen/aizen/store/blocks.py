"""Packed event blocks in the Events table: one site's events of one UTC hour, as columns.

Item layout (docs/data-model.md, "Event blocks"):
  <site>#blocks      / hour (6 bytes, UTC ms) + generation (6 bytes, ms) + part + parts   x, c
  <site>#compaction  / 0x00                                                              w, n
  <site>#recompact   / hour (6 bytes)                                                    mark, at
  <site>#attempts    / hour (6 bytes)                                                    n, x

- A block part holds `c`, the bytes of `aizen.store.block_codec`, and `x`, the TTL: the
  hour's end plus the raw retention. An hour's events are split into parts at visitor
  boundaries so that each item stays far below DynamoDB's 400 KB; a *generation* is one
  compaction of the hour, complete when all its parts are there.
- The watermark `w` (UTC ms, an hour start) says which hours come from blocks: every hour
  before it is compacted (an hour without a block had no events), every hour from it on
  is read from the single items. It only moves forward, and only after the blocks of the
  hours it passes are written.
- A recompact marker names an hour whose single items changed after it may have been
  compacted (an import): the compaction job compacts it again once the watermark has
  passed it, then deletes the marker if its mark is unchanged.

- The watermark item's `n` counts the compaction runs that started packing the first hour
  after the watermark and never came back (killed by the timeout or out of memory); moving
  the watermark removes it. An attempts item does the same for an hour marked to be packed
  again, and expires with the hour's raw events. The job sets an hour aside after
  aizen.compaction.MAX_HOUR_ATTEMPTS such runs.

Readers take, for every hour, the newest complete generation: a compaction that died
half-way leaves an incomplete generation that nobody reads, and a re-compaction's new
generation supersedes the old one before the old one is deleted.
"""

import binascii
import queue
import secrets
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from aizen.columns import EventBlock
from aizen.names import canonical_browser, canonical_os
from aizen.settings import get_settings
from aizen.store import block_codec
from aizen.store.dynamo import (
    dynamo_operation,
    events_table,
    is_condition_failure,
    raw_key,
    raw_query_page,
    write_all,
)

HOUR_MS = 3_600_000
MAX_PART_BYTES = 300_000  # compressed; DynamoDB's item limit is 400 KB
_WATERMARK_KEY = b"\x00"
_PREFETCH_PAGES = 2
# Names stored before today's (docs/ingestion.md, "Names"): renamed once per block, when read.
_CANONICAL_NAMES = {"os": canonical_os, "browser": canonical_browser}


def block_partition(site_id: str) -> str:
    return f"{site_id}#blocks"


def _watermark_partition(site_id: str) -> str:
    return f"{site_id}#compaction"


def _recompact_partition(site_id: str) -> str:
    return f"{site_id}#recompact"


def _attempts_partition(site_id: str) -> str:
    return f"{site_id}#attempts"


def hour_of(timestamp_ms: int) -> int:
    return timestamp_ms - timestamp_ms % HOUR_MS


def block_key(hour_ms: int, generation_ms: int, part: int, parts: int) -> bytes:
    return hour_ms.to_bytes(6, "big") + generation_ms.to_bytes(6, "big") + bytes((part, parts))


# The watermark ------------------------------------------------------------------------------


@dynamo_operation
def watermark(site_id: str) -> tuple[int, int]:
    """(the start of the site's first hour that is not compacted (0: none is), the runs that
    started packing from there and never came back)."""
    item = (
        events_table()
        .get_item(Key={"p": _watermark_partition(site_id), "s": _WATERMARK_KEY}, ConsistentRead=True)
        .get("Item")
    )
    return (int(item.get("w", 0)), int(item.get("n", 0))) if item else (0, 0)  # type: ignore[arg-type]


def compacted_until(site_id: str) -> int:
    """The start of the site's first hour that is not compacted (0: none is)."""
    return watermark(site_id)[0]


@dynamo_operation
def advance_watermark(site_id: str, until_ms: int) -> bool:
    """Move the watermark forward to `until_ms`, forgetting the unfinished runs at the old one;
    False when it already was there or beyond."""
    try:
        events_table().update_item(
            Key={"p": _watermark_partition(site_id), "s": _WATERMARK_KEY},
            UpdateExpression="SET w = :w REMOVE n",
            ConditionExpression="attribute_not_exists(w) OR w < :w",
            ExpressionAttributeValues={":w": until_ms},
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


@dynamo_operation
def count_watermark_attempt(site_id: str, change: int) -> None:
    """Add `change` (1 when a run starts packing the first hour after the watermark, -1 when it
    failed for a reason other than the hour's size) to the runs that never came back from there."""
    events_table().update_item(
        Key={"p": _watermark_partition(site_id), "s": _WATERMARK_KEY},
        UpdateExpression="ADD n :change",
        ExpressionAttributeValues={":change": change},
    )


# Writing blocks -----------------------------------------------------------------------------


def encode_parts(block: EventBlock, hour_ms: int) -> list[bytes]:
    """The hour's block as parts of at most MAX_PART_BYTES, split between visitors."""
    data = block_codec.encode(block, hour_ms)
    if len(data) <= MAX_PART_BYTES or len(block.visitors) < 2:
        return [data]
    middle = block.run_starts[len(block.visitors) // 2]
    events = list(block.events(""))
    return encode_parts(EventBlock.of_events(events[:middle]), hour_ms) + encode_parts(
        EventBlock.of_events(events[middle:]), hour_ms
    )


def put_hour(site_id: str, hour_ms: int, generation_ms: int, parts: Sequence[bytes]) -> None:
    """Write one generation of an hour's block (every part; the generation counts once all are in)."""
    if len(parts) > 255:
        raise ValueError("an hour's block has at most 255 parts")
    expires = (hour_ms + HOUR_MS) // 1000 + get_settings().raw_retention_days * 86_400
    write_all(
        get_settings().events_table,
        [
            {
                "PutRequest": {
                    "Item": {
                        "p": block_partition(site_id),
                        "s": Binary(block_key(hour_ms, generation_ms, part, len(parts))),
                        "x": expires,
                        "c": Binary(data),
                    }
                }
            }
            for part, data in enumerate(parts)
        ],
    )


def hour_parts(site_id: str, hour_ms: int) -> list[bytes]:
    """The sort keys of every part of the hour's block, of every generation (complete or not)."""
    request = _hours_request(site_id, hour_ms, hour_ms + HOUR_MS)
    request["ProjectionExpression"] = "s"
    keys: list[bytes] = []
    while True:
        page = raw_query_page(request)
        keys.extend(binascii.a2b_base64(item["s"]["B"]) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = raw_key(page["LastEvaluatedKey"])


def generation_of(key: bytes) -> int:
    return int.from_bytes(key[6:12], "big")


def delete_parts(site_id: str, keys: Sequence[bytes]) -> None:
    """Delete block parts by their sort keys."""
    write_all(
        get_settings().events_table,
        [{"DeleteRequest": {"Key": {"p": block_partition(site_id), "s": Binary(key)}}} for key in keys],
    )


# Reading blocks -----------------------------------------------------------------------------


def _hours_request(site_id: str, first_ms: int, end_ms: int) -> dict[str, Any]:
    """A low-level Query of the block parts of the hours from hour_of(first_ms) up to end_ms.

    Strongly consistent: the watermark read before it may name hours whose blocks were
    written a moment earlier, and an eventually consistent read could miss them."""
    return {
        "TableName": get_settings().events_table,
        "ConsistentRead": True,
        "KeyConditionExpression": "p = :partition AND s BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":partition": {"S": block_partition(site_id)},
            ":first": {"B": hour_of(first_ms).to_bytes(6, "big")},
            ":last": {"B": hour_of(end_ms - 1).to_bytes(6, "big") + b"\xff" * 8},
        },
    }


def _pages(request: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """The Query's pages in order, the next ones fetched on a thread while the caller works."""
    pages: queue.Queue[list[dict[str, Any]] | BaseException | None] = queue.Queue(maxsize=_PREFETCH_PAGES)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                page = raw_query_page(request)
                pages.put(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = raw_key(page["LastEvaluatedKey"])
            pages.put(None)
        except BaseException as error:  # handed to the reader, which raises it
            pages.put(error)

    fetcher = threading.Thread(target=fetch, name="block-pages", daemon=True)
    fetcher.start()
    try:
        while True:
            page = pages.get()
            if page is None:
                return
            if isinstance(page, BaseException):
                raise page
            yield page
    finally:
        stop.set()
        while fetcher.is_alive():  # unblock a fetcher waiting on a full queue
            try:
                pages.get_nowait()
            except queue.Empty:
                fetcher.join(0.01)


def _newest_complete(parts: dict[int, dict[int, tuple[int, bytes]]]) -> list[bytes]:
    """The parts of the newest generation that has all its parts (none: no block)."""
    if len(parts) == 1:  # the usual hour: one generation, often of one part
        (found,) = parts.values()
        if len(found) == 1:
            ((count, data),) = found.values()
            return [data] if count == 1 else []
    for generation in sorted(parts, reverse=True):
        found = parts[generation]
        counts = {count for count, _ in found.values()}
        if len(counts) == 1 and len(found) == counts.pop():
            return [found[part][1] for part in sorted(found)]
    return []


def read_blocks(site_id: str, start_ms: int, end_ms: int, now_seconds: int) -> Iterator[tuple[int, EventBlock]]:
    """(hour start, block part) for every compacted hour overlapping [start_ms, end_ms), in hour order.

    The caller decides which hours to take from blocks (the watermark). Expired blocks are
    skipped, and events of an unexpired block that have expired by their own time (their
    time + the retention the block was written with, like a single item's TTL) are dropped.
    """
    if end_ms <= start_ms:
        return
    hour = -1
    generations: dict[int, dict[int, tuple[int, bytes]]] = {}
    expires = 0
    for items in _pages(_hours_request(site_id, start_ms, end_ms)):
        for item in items:
            key = binascii.a2b_base64(item["s"]["B"])
            item_hour = int.from_bytes(key[:6], "big")
            if item_hour != hour:
                yield from _decoded(site_id, hour, generations, expires, now_seconds)
                hour, generations = item_hour, {}
            expires = int(item["x"]["N"])
            if expires <= now_seconds:
                continue  # TTL deletion is lazy
            generation = generation_of(key)
            generations.setdefault(generation, {})[key[12]] = (key[13], binascii.a2b_base64(item["c"]["B"]))
    yield from _decoded(site_id, hour, generations, expires, now_seconds)


def _decoded(
    site_id: str, hour_ms: int, generations: dict[int, dict[int, tuple[int, bytes]]], expires: int, now_seconds: int
) -> Iterator[tuple[int, EventBlock]]:
    retention_seconds = expires - (hour_ms + HOUR_MS) // 1000
    first_unexpired_ms = (now_seconds - retention_seconds + 1) * 1000
    for data in _newest_complete(generations):
        block = block_codec.decode(data, renamed=_CANONICAL_NAMES)
        yield hour_ms, block.since(first_unexpired_ms, site_id) if hour_ms < first_unexpired_ms else block


# Hours to compact again ----------------------------------------------------------------------


def mark_recompact(site_id: str, hours: Sequence[int], now_ms: int) -> dict[int, str]:
    """Name hours whose single items are about to change, each with a new mark, pending (`w`
    false) until `mark_written`; returns the marks."""
    marks = {hour: secrets.token_hex(8) for hour in sorted(set(hours))}
    write_all(
        get_settings().events_table,
        [
            {
                "PutRequest": {
                    "Item": {
                        "p": _recompact_partition(site_id),
                        "s": Binary(hour.to_bytes(6, "big")),
                        "mark": mark,
                        "at": now_ms,
                        "w": False,
                    }
                }
            }
            for hour, mark in marks.items()
        ],
    )
    return marks


def mark_written(site_id: str, marks: dict[int, str]) -> None:
    """Note on each hour's marker, if it still holds the mark, that the single items it announced
    are all written (`w`). A marker named again since (another import) stays as it is."""
    for hour, mark in sorted(marks.items()):
        _mark_written(site_id, hour, mark)


@dynamo_operation
def _mark_written(site_id: str, hour_ms: int, mark: str) -> None:
    try:
        events_table().update_item(
            Key={"p": _recompact_partition(site_id), "s": hour_ms.to_bytes(6, "big")},
            UpdateExpression="SET w = :written",
            ConditionExpression="mark = :mark",
            ExpressionAttributeValues={":mark": mark, ":written": True},
        )
    except ClientError as error:
        if not is_condition_failure(error):
            raise


class RecompactMark(NamedTuple):
    """A marked hour's marker: its mark, when it was marked (UTC ms), and whether the import
    that marked it has written all its single items since (markers from before `w` existed
    count as written)."""

    mark: str
    at: int
    written: bool


@dynamo_operation
def recompact_hours(site_id: str) -> dict[int, RecompactMark]:
    """The marked hours: hour start -> its marker."""
    query: dict[str, Any] = {
        "KeyConditionExpression": "p = :partition",
        "ExpressionAttributeValues": {":partition": _recompact_partition(site_id)},
        "ConsistentRead": True,
    }
    marked: dict[int, RecompactMark] = {}
    while True:
        page = events_table().query(**query)
        for item in page.get("Items", []):
            marked[int.from_bytes(bytes(item["s"]), "big")] = RecompactMark(  # type: ignore[arg-type]
                str(item["mark"]),
                int(item["at"]),  # type: ignore[arg-type]
                item.get("w") is not False,
            )
        if "LastEvaluatedKey" not in page:
            return marked
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dynamo_operation
def clear_recompact(site_id: str, hour_ms: int, mark: str) -> bool:
    """Delete an hour's marker if it still holds `mark` (a newer marking stays)."""
    try:
        events_table().delete_item(
            Key={"p": _recompact_partition(site_id), "s": hour_ms.to_bytes(6, "big")},
            ConditionExpression="mark = :mark",
            ExpressionAttributeValues={":mark": mark},
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


# Unfinished attempts -------------------------------------------------------------------------


@dynamo_operation
def count_attempt(site_id: str, hour_ms: int, change: int) -> None:
    """Add `change` (1 when a run starts packing the hour, -1 when it failed for a reason other
    than the hour's size) to the hour's unfinished attempts; the item expires with the hour's
    raw events."""
    expires = (hour_ms + HOUR_MS) // 1000 + get_settings().raw_retention_days * 86_400
    events_table().update_item(
        Key={"p": _attempts_partition(site_id), "s": hour_ms.to_bytes(6, "big")},
        UpdateExpression="ADD n :change SET x = :expires",
        ExpressionAttributeValues={":change": change, ":expires": expires},
    )


@dynamo_operation
def clear_attempts(site_id: str, hour_ms: int) -> None:
    """The hour is packed: forget its unfinished attempts."""
    events_table().delete_item(Key={"p": _attempts_partition(site_id), "s": hour_ms.to_bytes(6, "big")})


@dynamo_operation
def hour_attempts(site_id: str) -> dict[int, int]:
    """The site's hours with unfinished attempts: hour start -> attempts."""
    query: dict[str, Any] = {
        "KeyConditionExpression": "p = :partition",
        "ExpressionAttributeValues": {":partition": _attempts_partition(site_id)},
        "ConsistentRead": True,
    }
    attempts: dict[int, int] = {}
    while True:
        page = events_table().query(**query)
        for item in page.get("Items", []):
            attempts[int.from_bytes(bytes(item["s"]), "big")] = int(item["n"])  # type: ignore[arg-type]
        if "LastEvaluatedKey" not in page:
            return attempts
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
