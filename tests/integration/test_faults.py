"""DynamoDB throttling and timeouts on every path: bounded retries, then 503, nothing lost.

Faults are injected at botocore's `before-send` on the store's own client (ahead of
moto), so the SDK's standard retry mode sees and retries them as real ones.
"""

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from aizen.events import RawEvent
from aizen.models import ApiKey
from aizen.periods import day_start_ms, zone
from aizen.rollup import job
from aizen.settings import Settings
from aizen.store import dynamo, rollups
from aizen.store import events as event_store
from tests.support import STATS_PATHS, FrozenClock, Owner, bearer, dashboard_headers, fail_dynamodb, invoke, keys_path

ApplyEnv = Callable[..., Settings]
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture(autouse=True)
def one_attempt(aizen_env: ApplyEnv) -> Settings:
    """One attempt per call, so an injected fault is the SDK's final answer (fast tests)."""
    return aizen_env(DYNAMODB_MAX_ATTEMPTS="1")


@pytest.fixture
def reads_time_out() -> list[str]:
    """Every Query (the stats reads; auth uses GetItem and UpdateItem) times out."""
    timed_out: list[str] = []

    def time_out(request: Any, event_name: str, **_: Any) -> None:
        if event_name.endswith(".Query"):
            timed_out.append(event_name)
            raise ReadTimeoutError(endpoint_url=request.url)

    dynamo.client().meta.events.register_first("before-send.dynamodb", time_out)
    return timed_out


QUERIES = {"StatsBreakdownFunction": "property=page"}


def _assert_unavailable(response: Any) -> None:
    assert response.status == 503, response.body
    assert response.body["error"]["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("function", sorted(STATS_PATHS))
def test_every_stats_endpoint_answers_503_when_its_reads_are_throttled(
    function: str, api_key: tuple[ApiKey, str], clock: FrozenClock
) -> None:
    # Given: DynamoDB throttles every Query (the stats reads; auth uses GetItem/UpdateItem)
    refused = fail_dynamodb(operation="Query")

    # When
    response = invoke(function, STATS_PATHS[function], query=QUERIES.get(function, ""), headers=bearer(api_key[1]))

    # Then
    _assert_unavailable(response)
    assert refused


@pytest.mark.parametrize("function", sorted(STATS_PATHS))
def test_every_stats_endpoint_answers_503_when_its_reads_time_out(
    function: str, api_key: tuple[ApiKey, str], clock: FrozenClock, reads_time_out: list[str]
) -> None:
    response = invoke(function, STATS_PATHS[function], query=QUERIES.get(function, ""), headers=bearer(api_key[1]))

    _assert_unavailable(response)
    assert reads_time_out


def test_key_list_and_revoke_answer_503_when_throttled(owner: Owner, api_key: tuple[ApiKey, str]) -> None:
    fail_dynamodb(operation="Query")
    listed = invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=dashboard_headers(owner.session))
    fail_dynamodb(operation="TransactWriteItems")
    revoked = invoke(
        "ApiKeysRevokeFunction", keys_path(owner.site.id, api_key[0].id), headers=dashboard_headers(owner.session)
    )

    _assert_unavailable(listed)
    _assert_unavailable(revoked)


def _post_pageview() -> Any:
    body = json.dumps({"n": "pageview", "u": "https://example.com/pricing", "d": "example.com"})
    return invoke(
        "IngestEventFunction",
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": UA},
        body=body,
        source_ip="198.51.100.9",
    )


def test_ingestion_accepts_an_event_only_once_it_is_written(owner: Owner, clock: FrozenClock) -> None:
    # Given: the event's write (PutItem on the events table) is throttled once
    refused = fail_dynamodb(operation="PutItem", table=dynamo.events_table().name, times=1)
    now_ms = int(clock.now() * 1000)

    # When: the tracker sends a pageview, then (as trackers do on failure) sends it again
    first = _post_pageview()
    stored_after_refusal = list(event_store.query_events(owner.site.id, now_ms - 60_000, now_ms + 60_000))
    accepted = _post_pageview()

    # Then: no 202 without a stored event, and the accepted one is stored
    assert refused == ["PutItem"]
    assert first.status == 503
    assert stored_after_refusal == []
    assert accepted.status == 202
    assert len(list(event_store.query_events(owner.site.id, now_ms - 60_000, now_ms + 60_000))) == 1


def test_the_rollup_resumes_where_throttling_stopped_it(owner: Owner, clock: FrozenClock) -> None:
    # Given: three finished days with an event each, and DynamoDB throttling the first day's reads
    tz = zone(owner.site.timezone)
    today = date.fromtimestamp(clock.now())
    for offset in (1, 2, 3):
        day = today - timedelta(days=offset)
        event_store.put_event(
            RawEvent(owner.site.id, day_start_ms(day, tz) + 3_600_000, "pageview", f"{offset:016x}", "/")
        )
    refused = fail_dynamodb(operation="Query", times=1)

    # When: the job runs twice
    first = job.run([owner.site.id])
    second = job.run([owner.site.id])

    # Then: the first run reports the site failed, the second finishes every day
    assert refused
    assert first.failed_sites == [owner.site.id]
    assert second.failed_sites == []
    rolled = rollups.rolled_up_days(owner.site.id, (today - timedelta(days=3)).isoformat(), today.isoformat())
    assert sum(record["visitors"] for record in rolled.values()) == 3
