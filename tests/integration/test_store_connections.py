"""The store's connection objects are built once per process, not once per request or partition."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aizen.models import ApiKey
from aizen.settings import get_settings
from aizen.store import dynamo
from tests.support import bearer, invoke


@pytest.fixture
def built_tables(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A fresh process's connections, with every Table(...) boto3 builds counted (and slowed,
    so that threads asking at once would all miss a cache that does not hold them back)."""
    dynamo.reset_connections()
    service_resource = dynamo.resource()
    built: list[str] = []
    build_table = service_resource.Table

    def counted_table(name: str) -> Any:
        built.append(name)
        time.sleep(0.02)
        return build_table(name)

    monkeypatch.setattr(service_resource, "Table", counted_table)
    return built


def test_a_30_day_query_builds_each_table_object_once(api_key: tuple[ApiKey, str], built_tables: list[str]) -> None:
    # Given a key
    _, token = api_key

    # When two 30-day aggregates read 124 event partitions each (31 UTC days x 4 shards, in threads)
    for _ in range(2):
        response = invoke("StatsAggregateFunction", "/api/v1/stats/aggregate", headers=bearer(token))
        assert response.status == 200

    # Then each table got one Table object (boto3 builds a class for each, ~0.3 ms)
    assert sorted(built_tables) == ["test-events", "test-main"]


def test_threads_asking_at_once_share_one_table_object(built_tables: list[str]) -> None:
    # When eight threads ask for the events table at the same moment
    with ThreadPoolExecutor(max_workers=8) as pool:
        tables = list(pool.map(lambda _: dynamo.events_table(), range(8)))

    # Then one Table object was built, and every thread got it
    assert built_tables == [get_settings().events_table]
    assert all(table is tables[0] for table in tables)


def test_reset_connections_forgets_the_table_objects() -> None:
    events = dynamo.events_table()

    dynamo.reset_connections()

    assert dynamo.events_table() is not events
    assert dynamo.events_table().meta.client is dynamo.client()
