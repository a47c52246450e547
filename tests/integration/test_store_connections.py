"""The store's connection objects are built once per process, not once per request or partition."""

from typing import Any

import pytest

from aizen.models import ApiKey
from aizen.store import dynamo
from tests.support import bearer, invoke


def test_a_30_day_query_builds_each_table_object_once(
    api_key: tuple[ApiKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh process's connections, with every Table(...) boto3 builds counted
    _, token = api_key
    dynamo.reset_connections()
    service_resource = dynamo.resource()
    built: list[str] = []
    build_table = service_resource.Table

    def counted_table(name: str) -> Any:
        built.append(name)
        return build_table(name)

    monkeypatch.setattr(service_resource, "Table", counted_table)

    # When two 30-day aggregates read 124 event partitions each (31 UTC days x 4 shards)
    for _ in range(2):
        response = invoke("StatsAggregateFunction", "/api/v1/stats/aggregate", headers=bearer(token))
        assert response.status == 200

    # Then each table got one Table object (boto3 builds a class for each, ~0.3 ms)
    assert sorted(built) == ["test-events", "test-main"]


def test_reset_connections_forgets_the_table_objects() -> None:
    events = dynamo.events_table()

    dynamo.reset_connections()

    assert dynamo.events_table() is not events
    assert dynamo.events_table().meta.client is dynamo.client()
