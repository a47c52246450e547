"""The embedded store's partition-indexed Query answers exactly as moto's own Query, page for page.

The same tables (from template.yaml) and the same items are queried twice: first through moto's
`Table.query` as shipped, then after `index_partitions()` gave the tables the partition-indexed
Query. Every answer, every page of every paginated query, must be identical.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from aizen.settings import get_settings
from aizen_local.partition_index import PartitionIndexedTable, index_partitions
from aizen_local.store import EmbeddedDynamoDB, ensure_tables
from aizen_local.template import load_template

pytestmark = pytest.mark.moto_as_shipped  # they compare the patches with moto as shipped

PARTITIONS = 12
ITEMS_PER_PARTITION = 24
COUNTRIES = ("US", "DE", "FR")


@dataclass(frozen=True)
class KeyedTable:
    name: str
    hash_name: str
    sort_name: str
    sort_type: str  # "S" or "B"


def _sort_values(rng: random.Random, sort_type: str) -> list[Any]:
    """Distinct sort keys of varied lengths sharing prefixes, so that begins_with and the
    comparisons meet equal prefixes, shorter keys and (for binary) bytes above 0x7f."""
    values: set[Any] = set()
    while len(values) < ITEMS_PER_PARTITION:
        if sort_type == "B":
            values.add(bytes([rng.choice((0x00, 0x41, 0x7F, 0x80, 0xFF))]) + rng.randbytes(rng.randint(0, 3)))
        else:
            prefix = rng.choice(("day#", "day#2026-", "key#", "Key#", "rate#"))
            values.add(prefix + "".join(rng.choices("0123456789abc", k=rng.randint(0, 4))))
    return sorted(values)


def _fill(client: Any, table: KeyedTable, rng: random.Random) -> dict[str, list[Any]]:
    """PARTITIONS partitions of ITEMS_PER_PARTITION items; returns each partition's sort keys."""
    partitions: dict[str, list[Any]] = {}
    for number in range(PARTITIONS):
        partition = f"site_{number}#2026-11-{number + 1:02d}"
        partitions[partition] = _sort_values(rng, table.sort_type)
        for sort in partitions[partition]:
            item: dict[str, Any] = {
                table.hash_name: {"S": partition},
                table.sort_name: {table.sort_type: sort},
                "c": {"S": rng.choice(COUNTRIES)},
                "n": {"N": str(rng.randint(0, 100))},
                "pad": {"S": "x" * rng.randint(0, 64)},
            }
            if rng.random() < 0.5:
                item["o"] = {"M": {"k": {"S": "v"}, "l": {"L": [{"N": "1"}, {"S": "two"}]}}}
            client.put_item(TableName=table.name, Item=item)
    return partitions


def _key_conditions(table: KeyedTable, partition: str, sorts: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every key-condition form, with values taken from the partition's own keys (edges included)."""
    low, middle, high = sorts[3], sorts[len(sorts) // 2], sorts[-4]
    prefix = middle[:1] if table.sort_type == "B" else middle[:5]
    hash_only = "#h = :h"
    values = {":h": {"S": partition}}

    def value(sort: Any) -> dict[str, Any]:
        return {table.sort_type: sort}

    yield hash_only, values
    yield f"{hash_only} AND #s = :a", {**values, ":a": value(middle)}
    yield f"{hash_only} AND #s < :a", {**values, ":a": value(middle)}
    yield f"{hash_only} AND #s <= :a", {**values, ":a": value(middle)}
    yield f"{hash_only} AND #s > :a", {**values, ":a": value(middle)}
    yield f"{hash_only} AND #s >= :a", {**values, ":a": value(middle)}
    yield f"{hash_only} AND #s BETWEEN :a AND :b", {**values, ":a": value(low), ":b": value(high)}
    yield f"{hash_only} AND begins_with(#s, :a)", {**values, ":a": value(prefix)}


# Each variant adds to a query: a filter, a projection, Select COUNT, a Limit (pages followed).
VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"FilterExpression": "c = :c", "ExpressionAttributeValues": {":c": {"S": "US"}}},
    {"FilterExpression": "attribute_exists(o) AND n > :n", "ExpressionAttributeValues": {":n": {"N": "40"}}},
    {"ProjectionExpression": "#h, #s, c, o.l[1]"},
    {"Select": "COUNT", "FilterExpression": "c <> :c", "ExpressionAttributeValues": {":c": {"S": "DE"}}},
    {"Limit": 7},
    {
        "Limit": 5,
        "FilterExpression": "c = :c",
        "ExpressionAttributeValues": {":c": {"S": "FR"}},
        "ProjectionExpression": "#s, n",
    },
)


def _answers(client: Any, table: KeyedTable, partitions: dict[str, list[Any]]) -> list[tuple[str, list[Any]]]:
    """Every query of the matrix, each as the list of its pages (ResponseMetadata dropped)."""
    present = list(partitions)
    queried = {present[5]: partitions[present[5]], "site_absent#2026-11-01": partitions[present[3]]}
    answers = []
    for partition, sorts in queried.items():
        for condition, condition_values in _key_conditions(table, partition, sorts):
            for variant in VARIANTS:
                for forward in (True, False):
                    expressions = f"{condition} {variant.get('FilterExpression')} {variant.get('ProjectionExpression')}"
                    key_names = {"#h": table.hash_name, "#s": table.sort_name}  # DynamoDB refuses unused names
                    request = {
                        "TableName": table.name,
                        "KeyConditionExpression": condition,
                        "ExpressionAttributeNames": {
                            key: name for key, name in key_names.items() if key in expressions
                        },
                        **variant,
                        "ExpressionAttributeValues": {
                            **condition_values,
                            **variant.get("ExpressionAttributeValues", {}),
                        },
                        "ScanIndexForward": forward,
                    }
                    answers.append((repr(request), _pages(client, request)))
    return answers


def _pages(client: Any, request: dict[str, Any]) -> list[Any]:
    pages = []
    while True:
        page = client.query(**request)
        page.pop("ResponseMetadata")
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def _moto_table(name: str) -> Table:
    """The moto table object of that name, in whichever account and region holds it."""
    (table,) = [
        table
        for account in dynamodb_backends.values()
        for backend in account.values()
        for table in backend.tables.values()
        if table.name == name
    ]
    return table


@pytest.fixture
def whole_table_walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose whole item list moto's `Table.all_items` built, in call order."""
    walks: list[str] = []
    walk = Table.all_items

    def counted(table: Table) -> Any:
        walks.append(table.name)
        return walk(table)

    monkeypatch.setattr(Table, "all_items", counted)
    return walks


def test_partition_indexed_query_answers_as_moto_does_page_for_page(whole_table_walks: list[str]) -> None:
    # Given the template's two tables, each with many partitions (Events: S/B keys, Main: S/S keys)
    settings = get_settings()
    tables = (KeyedTable(settings.events_table, "p", "s", "B"), KeyedTable(settings.main_table, "pk", "sk", "S"))
    client = boto3.client("dynamodb")
    rng = random.Random(13)  # noqa: S311 - test data, not secrets
    data = {table: _fill(client, table, rng) for table in tables}

    # When every query of the matrix runs through moto's own Query, then through the indexed one
    moto_answers = {table: _answers(client, table, data[table]) for table in tables}
    moto_walks = len(whole_table_walks)
    assert index_partitions() == len(load_template().tables())
    indexed_answers = {table: _answers(client, table, data[table]) for table in tables}

    # Then every answer is the same, page for page, and the indexed Query never walked a whole table
    for table in tables:
        assert [request for request, _ in indexed_answers[table]] == [request for request, _ in moto_answers[table]]
        for (request, indexed), (_, expected) in zip(indexed_answers[table], moto_answers[table], strict=True):
            assert indexed == expected, request
    assert moto_walks > 0
    assert whole_table_walks[moto_walks:] == []
    # and the matrix did meet items, pagination, empty answers and counts
    pages = [page for table in tables for _, answer in moto_answers[table] for page in answer]
    assert any(page["Items"] for page in pages if "Items" in page)
    assert any("LastEvaluatedKey" in page for page in pages)
    assert any(page["Count"] == 0 for page in pages)
    assert any("Items" not in page and page["Count"] > 0 for page in pages)


def test_a_query_of_an_absent_partition_adds_no_partition_to_the_table() -> None:
    # Given an indexed Events table with one partition
    settings = get_settings()
    client = boto3.client("dynamodb")
    client.put_item(TableName=settings.events_table, Item={"p": {"S": "site_1#2026-11-01#0"}, "s": {"B": b"\x01"}})
    index_partitions()
    table = _moto_table(settings.events_table)

    # When an absent partition is queried
    answer = client.query(
        TableName=settings.events_table,
        KeyConditionExpression="p = :p",
        ExpressionAttributeValues={":p": {"S": "site_2#2026-11-01#0"}},
    )

    # Then nothing is found, and moto's item map did not grow an empty partition
    assert isinstance(table, PartitionIndexedTable)
    assert answer["Items"] == []
    assert len(table.items) == 1


def test_the_embedded_store_indexes_the_tables_it_creates() -> None:
    # Given the embedded store (moto's server over loopback HTTP)
    store = EmbeddedDynamoDB().start()
    try:
        # When the template's tables are created through it
        names = {logical_id: f"embedded-{logical_id}" for logical_id in load_template().tables()}
        ensure_tables(load_template(), names, store.endpoint)
        client = boto3.client("dynamodb", endpoint_url=store.endpoint)
        client.put_item(TableName="embedded-EventsTable", Item={"p": {"S": "site_1#d#0"}, "s": {"B": b"\x02"}})
        answer = client.query(
            TableName="embedded-EventsTable",
            KeyConditionExpression="p = :p",
            ExpressionAttributeValues={":p": {"S": "site_1#d#0"}},
        )
    finally:
        store.stop()

    # Then every one answers Query from the partition, and a query over HTTP finds the item
    assert {name: type(_moto_table(name)) for name in names.values()} == dict.fromkeys(
        names.values(), PartitionIndexedTable
    )
    assert answer["Items"] == [{"p": {"S": "site_1#d#0"}, "s": {"B": b"\x02"}}]


def test_pages_of_large_items_end_where_moto_ends_them() -> None:
    # Given one partition of large items: two runs of seven 100 KB items (700 KB), each followed,
    # outside it, by a 1 KB item and then a 390 KB one, which takes moto's page past 1 MB
    settings = get_settings()
    client = boto3.client("dynamodb")
    sizes = [100_000] * 7 + [1_000, 390_000] + [50_000] * 12 + [390_000, 1_000] + [100_000] * 7
    partition = "site_1#2026-11-01#0"
    for number, size in enumerate(sizes):
        item: dict[str, Any] = {"p": {"S": partition}, "s": {"B": bytes([number])}, "pad": {"S": "x" * size}}
        client.put_item(TableName=settings.events_table, Item=item)

    def key(number: int) -> dict[str, bytes]:
        return {"B": bytes([number])}

    requests = [
        {
            "TableName": settings.events_table,
            "KeyConditionExpression": f"p = :p AND {condition}",
            "ExpressionAttributeValues": {":p": {"S": partition}, **values},
            "ScanIndexForward": forward,
            **({"Limit": limit} if limit else {}),
        }
        for condition, values in (
            ("s BETWEEN :a AND :b", {":a": key(0), ":b": key(6)}),
            ("s >= :a", {":a": key(23)}),
        )
        for forward in (True, False)
        for limit in (None, 4)
    ]

    # When each query runs through moto's own Query, then through the indexed one
    expected = [_pages(client, request) for request in requests]
    index_partitions()
    answers = [_pages(client, request) for request in requests]

    # Then every page is the same, and moto did end pages at an item outside the range
    assert answers == expected
    assert any(pages[-1]["Count"] == 0 for pages in expected)  # a page ended early: an empty last page
