"""Per-site, per-local-day rollup items in the main table (docs/rollups.md).

Item layout (see docs/data-model.md):
  ROLLUP#<site>#days    / <YYYY-MM-DD>                  the day: totals (visitors, pageviews, sessions,
                                                        bounces, duration_ms), `gen`, `parts` per property,
                                                        `imports` (marks of history imports, if any)
  ROLLUP#<site>#<prop>  / <YYYY-MM-DD>#<gen>#<part>     one property's value table, zlib-compressed JSON rows
  ROLLUP#<site>#dirty   / <YYYY-MM-DD>                  a day an import changed: roll it up again
  ROLLUP#<site>#attempts / <YYYY-MM-DD>                 `tries`: runs that started the day and never finished it

Separate partitions per kind keep each query reading only what it needs: an
aggregate reads one small day item per day, a page breakdown only page tables.
A rewrite puts its tables under a new generation first and the day item last,
in one PutItem: readers use only the parts of the generation the day item names,
so a crash mid-rewrite leaves the previous complete version in effect, and a
re-run rewrites the same numbers (idempotent). The parts of the generation a day
item replaced are deleted after the switch.

The day item's PutItem is conditional on the version it replaces (its `gen`, or no
item at all), so two writers of one day never silently overwrite each other: the
loser gets `RollupDayChanged` (its parts stay unnamed, like a crashed rewrite's).
"""

import json
import secrets
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Final

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from aizen.errors import RollupDayChanged
from aizen.names import canonical_rows
from aizen.store.dynamo import dynamo_operation, is_condition_failure, main_table, write_all

STORED: Final = "stored"  # `put_day(based_on=STORED)`: replace whatever version is stored now
MAX_PART_BYTES = 300_000  # compressed; DynamoDB's item limit is 400 KB
Row = list[Any]  # [value, metric, metric, ...]


def _pk(site_id: str, kind: str) -> str:
    return f"ROLLUP#{site_id}#{kind}"


def _query(pk: str, first_day: str, last_day: str) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": pk,
            ":first": first_day,
            ":last": last_day + "~",
        },  # "~" sorts after "#<part>"
    }
    while True:
        page = main_table().query(**query)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _parts(rows: Sequence[Row]) -> list[bytes]:
    """Compressed chunks of rows, each under MAX_PART_BYTES (never drops a row)."""
    parts: list[bytes] = []
    chunk: list[Row] = []
    size = 0
    for row in rows:
        encoded = len(json.dumps(row, separators=(",", ":")))
        if chunk and size + encoded > MAX_PART_BYTES:
            parts.append(zlib.compress(json.dumps(chunk, separators=(",", ":")).encode()))
            chunk, size = [], 0
        chunk.append(row)
        size += encoded + 1
    parts.append(zlib.compress(json.dumps(chunk, separators=(",", ":")).encode()))
    return parts


@dynamo_operation
def put_day(
    site_id: str,
    day: str,
    generation: str,
    totals: Mapping[str, int],
    tables: Mapping[str, Sequence[Row]],
    *,
    imports: Collection[str] = (),
    based_on: str | None = STORED,
) -> int:
    """Write one day's rollup: tables under `generation`, then the day item; returns items written.

    `imports`: marks of the history imports the totals hold (aizen.importing.history), kept on
    the day item, so they are committed with the totals or not at all.
    `based_on`: the `gen` of the day item the new totals were computed from (None: no item);
    a recomputation from raw events replaces whatever is stored (`STORED`). Raises
    `RollupDayChanged` if the day item is not that version when it is replaced."""
    table = main_table()
    day_key = {"pk": _pk(site_id, "days"), "sk": day}
    previous = table.get_item(Key=day_key, ConsistentRead=True).get("Item")
    previous_generation = None if previous is None else str(previous["gen"])
    if based_on != STORED and based_on != previous_generation:
        raise RollupDayChanged(f"The rollup of {day} changed while it was being rewritten")
    part_counts: dict[str, int] = {}
    puts: list[dict[str, Any]] = []
    for prop, rows in tables.items():
        parts = _parts(rows)
        part_counts[prop] = len(parts)
        for index, blob in enumerate(parts):
            sort_key = f"{day}#{generation}#{index:03d}"
            puts.append({"PutRequest": {"Item": {"pk": _pk(site_id, prop), "sk": sort_key, "rows": Binary(blob)}}})
    write_all(table.name, puts)
    marks = {"imports": set(imports)} if imports else {}
    condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(pk)"}
        if previous_generation is None
        else {"ConditionExpression": "gen = :replaced", "ExpressionAttributeValues": {":replaced": previous_generation}}
    )
    try:
        table.put_item(Item={**day_key, "gen": generation, "parts": part_counts, **totals, **marks}, **condition)
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        # Our parts stay unnamed (readers ignore them); a retry under this generation rewrites them.
        raise RollupDayChanged(f"The rollup of {day} changed while it was being rewritten") from error
    if previous is not None and previous_generation is not None and previous_generation != generation:
        old_parts: Any = previous.get("parts") or {}
        _delete_generation(site_id, day, previous_generation, old_parts)
    return len(puts) + 1


def _delete_generation(site_id: str, day: str, generation: str, parts: Mapping[str, Any]) -> None:
    """The parts the replaced day item named, by key (no query). Parts of a rewrite that
    crashed before its day item are never named by one: readers ignore them."""
    deletes = [
        {"DeleteRequest": {"Key": {"pk": _pk(site_id, prop), "sk": f"{day}#{generation}#{index:03d}"}}}
        for prop, count in parts.items()
        for index in range(int(count))
    ]
    write_all(main_table().name, deletes)


@dynamo_operation
def rolled_up_days(site_id: str, first_day: str, last_day: str) -> dict[str, dict[str, Any]]:
    """Day -> its day item (totals as ints, `gen`, `parts`, `imports` if any), for the days rolled up in the range."""
    days: dict[str, dict[str, Any]] = {}
    for item in _query(_pk(site_id, "days"), first_day, last_day):
        record: dict[str, Any] = {
            name: int(value) for name, value in item.items() if name not in ("pk", "sk", "gen", "parts", "imports")
        }
        record["gen"] = str(item["gen"])
        record["parts"] = {prop: int(count) for prop, count in dict(item.get("parts", {})).items()}
        if "imports" in item:
            record["imports"] = sorted(str(mark) for mark in item["imports"])
        days[str(item["sk"])] = record
    return days


@dynamo_operation
def day_tables(
    site_id: str, prop: str, first_day: str, last_day: str, days: Mapping[str, Mapping[str, Any]]
) -> Iterator[tuple[str, list[Row]]]:
    """(day, rows) of one property's tables: only the parts of the generation each day item names."""
    for item in _query(_pk(site_id, prop), first_day, last_day):
        day, generation, index = str(item["sk"]).split("#")
        record = days.get(day)
        if record is not None and record["gen"] == generation and int(index) < record["parts"].get(prop, 0):
            yield day, canonical_rows(prop, json.loads(zlib.decompress(bytes(item["rows"]))))


@dynamo_operation
def mark_dirty(site_id: str, days: Sequence[str]) -> None:
    """Mark days for re-rollup, each with a new mark: a job that read an older mark leaves it."""
    puts = [
        {"PutRequest": {"Item": {"pk": _pk(site_id, "dirty"), "sk": day, "mark": secrets.token_hex(8)}}}
        for day in sorted(set(days))
    ]
    write_all(main_table().name, puts)


@dynamo_operation
def dirty_days(site_id: str) -> dict[str, str]:
    """Day -> its current mark ("" for a mark written before marks had values)."""
    return {
        str(item["sk"]): str(item.get("mark", "")) for item in _query(_pk(site_id, "dirty"), "0000-00-00", "9999-99-99")
    }


@dynamo_operation
def clear_dirty(site_id: str, day: str, mark: str) -> bool:
    """Clear the day's mark if it is still `mark`, the one read before the day was recomputed.

    An import that marked the day again meanwhile (its events may have come after the
    recomputation read the day) left a new mark: that one stays, and the next run
    recomputes the day. Returns whether the mark was cleared."""
    condition = (
        {"ConditionExpression": "mark = :mark", "ExpressionAttributeValues": {":mark": mark}}
        if mark
        else {"ConditionExpression": "attribute_not_exists(mark)"}
    )
    try:
        main_table().delete_item(Key={"pk": _pk(site_id, "dirty"), "sk": day}, **condition)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


@dynamo_operation
def day_attempts(site_id: str) -> dict[str, int]:
    """Day -> how many rollup runs started the day without finishing it (docs/rollups.md, "A day
    too large for one run")."""
    return {
        str(item["sk"]): int(item.get("tries", 0))
        for item in _query(_pk(site_id, "attempts"), "0000-00-00", "9999-99-99")
    }


@dynamo_operation
def count_attempt(site_id: str, day: str, change: int, expires_at: int) -> None:
    """Add `change` (1 when a run starts the day, -1 when it failed for a reason other than its
    size) to the day's unfinished attempts; the item expires with the day's raw events."""
    main_table().update_item(
        Key={"pk": _pk(site_id, "attempts"), "sk": day},
        UpdateExpression="ADD tries :change SET #ttl = :ttl",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":change": change, ":ttl": expires_at},
    )


@dynamo_operation
def clear_attempts(site_id: str, day: str) -> None:
    """The day is rolled up: forget its unfinished attempts."""
    main_table().delete_item(Key={"pk": _pk(site_id, "attempts"), "sk": day})
