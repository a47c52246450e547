"""Every DynamoDB request a function's code makes is one its IAM statements in template.yaml allow.

moto does not enforce IAM. Here each function's real handler runs its paths (the stats routes
with rollups and raw events to read, key management's list, create and revoke, ingestion with
new salts, the rollup rewriting and clearing days); the store's requests are recorded and judged
by tests/iam_policies.py, as AWS would judge them. A grant narrowed below what the code does fails
here; tests/unit/test_security_template.py shows the same statements refuse what the code never does.
"""

import json
import os
from collections.abc import Callable
from datetime import date, timedelta

import boto3
import pytest

from aizen import compaction
from aizen.events import RawEvent
from aizen.ingest import visitors
from aizen.periods import day_start_ms, zone
from aizen.rollup import job
from aizen.store import events as event_store
from aizen.store import rollups
from aizen_local.apigw import LocalLambdaContext
from aizen_local.functions import load_handler
from aizen_local.queues import ensure_queues
from aizen_local.template import load_template
from tests.iam_policies import IamRequest, RequestReader, allows, statements
from tests.support import (
    STATS_PATHS,
    DynamoCall,
    FrozenClock,
    Owner,
    bearer,
    dashboard_headers,
    invoke,
    keys_path,
    make_key,
    record_dynamodb_calls,
)

TEMPLATE = load_template()
DAY = 86_400
STATS_QUERIES = {
    "StatsAggregateFunction": "period=7d&metrics=visitors,pageviews,bounce_rate,visit_duration",
    "StatsTimeseriesFunction": "period=7d&metrics=visitors,pageviews",
    "StatsBreakdownFunction": "period=7d&property=page&metrics=visitors,pageviews",
    "StatsRealtimeFunction": "minutes=30",
}


def _denied(function: str, calls: list[DynamoCall]) -> list[str]:
    """The recorded requests `function`'s statements would refuse on AWS (nothing, it must be)."""
    reader = RequestReader(TEMPLATE, os.environ)
    policy = statements(TEMPLATE, function)
    assert calls, f"{function} made no DynamoDB request: the test exercised nothing"
    return [
        f"{request.action} {request.table} {request.leading_keys} {request.attributes} {request.return_values}"
        for call in calls
        for request in reader.requests(call.operation, call.body)
        if not allows(policy, request)
    ]


def _traffic(owner: Owner, clock: FrozenClock) -> None:
    """Raw events over the last days and those days rolled up, so the stats read both."""
    tz = zone(owner.site.timezone)
    today = date.fromtimestamp(clock.now())
    for offset in range(1, 5):
        start = day_start_ms(today - timedelta(days=offset), tz)
        for visitor in ("a" * 16, "b" * 16):
            event_store.put_event(RawEvent(owner.site.id, start + 3_600_000, "pageview", visitor, "/pricing"))
    event_store.put_event(RawEvent(owner.site.id, int(clock.now() * 1000) - 60_000, "pageview", "c" * 16, "/"))
    job.run([owner.site.id])


@pytest.mark.parametrize("function", sorted(STATS_PATHS))
def test_the_stats_paths_requests_are_all_allowed(function: str, owner: Owner, clock: FrozenClock) -> None:
    _traffic(owner, clock)
    _, token = make_key(owner.site.id)
    calls = record_dynamodb_calls()

    answer = invoke(function, STATS_PATHS[function], headers=bearer(token), query=STATS_QUERIES[function])

    assert answer.status == 200, answer.body
    assert {call.operation for call in calls} >= {"GetItem", "UpdateItem", "Query"}
    assert _denied(function, calls) == []


def test_key_managements_requests_are_all_allowed(owner: Owner, clock: FrozenClock) -> None:
    headers = dashboard_headers(owner.session)

    calls = record_dynamodb_calls()
    created = invoke("ApiKeysCreateFunction", keys_path(owner.site.id), method="POST", headers=headers,
                     body='{"name": "reporting"}')  # fmt: skip
    assert created.status == 201
    assert _denied("ApiKeysCreateFunction", calls) == []

    calls = record_dynamodb_calls()
    assert invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=headers).status == 200
    assert _denied("ApiKeysListFunction", calls) == []

    calls = record_dynamodb_calls()
    key_id = created.body["key"]["id"]
    assert (
        invoke("ApiKeysRevokeFunction", keys_path(owner.site.id, key_id), method="DELETE", headers=headers).status
        == 200
    )
    assert _denied("ApiKeysRevokeFunction", calls) == []


def test_goal_managements_requests_are_all_allowed(owner: Owner, clock: FrozenClock) -> None:
    headers = dashboard_headers(owner.session)
    path = f"/api/sites/{owner.site.id}/goals"

    calls = record_dynamodb_calls()
    created = invoke("GoalsCreateFunction", path, method="POST", headers=headers, body='{"event": "Signup"}')
    assert created.status == 201
    assert invoke("GoalsCreateFunction", path, method="POST", headers=headers, body='{"page": "/a/**"}').status == 201
    assert invoke("GoalsCreateFunction", path, method="POST", headers=headers, body='{"event": "Signup"}').status == 409
    assert _denied("GoalsCreateFunction", calls) == []

    calls = record_dynamodb_calls()
    assert invoke("GoalsListFunction", path, headers=headers).status == 200
    assert _denied("GoalsListFunction", calls) == []

    calls = record_dynamodb_calls()
    goal_id = created.body["goal"]["id"]
    assert invoke("GoalsDeleteFunction", f"{path}/{goal_id}", method="DELETE", headers=headers).status == 200
    assert invoke("GoalsDeleteFunction", f"{path}/{goal_id}", method="DELETE", headers=headers).status == 404
    assert _denied("GoalsDeleteFunction", calls) == []


def test_ingestions_requests_are_all_allowed(owner: Owner, clock: FrozenClock) -> None:
    calls = record_dynamodb_calls()

    answer = invoke("IngestEventFunction", "/api/event", method="POST", headers={"User-Agent": "Mozilla/5.0"},
                    body='{"n": "pageview", "u": "https://example.com/", "d": "example.com"}')  # fmt: skip
    visitors.reset_cache()  # the salts again, this time found (GetItem only)
    invoke("IngestEventFunction", "/api/event", method="POST", headers={"User-Agent": "Mozilla/5.0"},
           body='{"n": "pageview", "u": "https://example.com/", "d": "example.com"}')  # fmt: skip

    assert answer.status == 202
    assert {call.operation for call in calls} == {"BatchGetItem", "GetItem", "PutItem", "UpdateItem"}
    assert _denied("IngestEventFunction", calls) == []


def test_the_compactions_requests_are_all_allowed(owner: Owner, clock: FrozenClock) -> None:
    # Given: raw events over the last days, packed once; then an import marks an hour to pack again
    _traffic(owner, clock)
    compaction.run()
    stored = RawEvent(owner.site.id, int(clock.now() * 1000) - 2 * DAY * 1000, "pageview", "d" * 16, "/later")
    marks = compaction.mark_hours(owner.site.id, [stored])
    event_store.put_event(stored)
    compaction.marks_written(owner.site.id, marks)
    clock.advance(3_600)  # one more finished hour for the forward pass
    event = {"Records": [{"body": json.dumps({"site_id": owner.site.id})}]}

    # When: the worker compacts the site of a queue message
    calls = record_dynamodb_calls()
    context = LocalLambdaContext(function_name="CompactionFunction", timeout_seconds=900)  # the template's Timeout
    result = load_handler("CompactionFunction")(event, context)

    # Then: the forward pass, its attempt, the re-compaction and the rollup marking are all allowed
    assert result["sites"][0]["hours_recompacted"] == 1
    assert {call.operation for call in calls} >= {"Query", "GetItem", "UpdateItem", "BatchWriteItem", "DeleteItem"}
    assert _denied("CompactionFunction", calls) == []


def test_the_rollups_requests_are_all_allowed(
    owner: Owner, clock: FrozenClock, aizen_env: Callable[..., object]
) -> None:
    _traffic(owner, clock)
    rolled = rollups.rolled_up_days(owner.site.id, "2000-01-01", "2100-01-01")
    rollups.mark_dirty(owner.site.id, list(rolled))  # an import changed them: rewrite, delete, clear
    clock.advance(DAY)
    event = {"Records": [{"body": json.dumps({"site_id": owner.site.id})}]}

    calls = record_dynamodb_calls()
    context = LocalLambdaContext(function_name="RollupFunction", timeout_seconds=900)  # the template's Timeout
    result = load_handler("RollupFunction")(event, context)

    assert result["sites"][0]["days_left"] == 0
    assert {call.operation for call in calls} >= {"Query", "GetItem", "PutItem", "BatchWriteItem", "DeleteItem"}
    assert "UpdateItem" in {call.operation for call in calls}  # the day's attempt
    assert _denied("RollupFunction", calls) == []


# SQS operation -> the IAM action that authorises it (SendMessageBatch is sqs:SendMessage).
SQS_ACTIONS = {"SendMessage": "sqs:SendMessage", "SendMessageBatch": "sqs:SendMessage"}


def test_the_rollup_dispatchers_requests_are_all_allowed(
    owner: Owner, clock: FrozenClock, aizen_env: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the queue from the template, and the SQS requests of the default session recorded
    queue_url = ensure_queues(TEMPLATE, None)["RollupQueue"]
    aizen_env(ROLLUP_QUEUE_URL=queue_url)
    sqs_operations: list[str] = []
    session = boto3.Session()
    session.events.register("before-call.sqs", lambda model, **_: sqs_operations.append(model.name))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    calls = record_dynamodb_calls()

    # When
    result = load_handler("RollupDispatchFunction")({}, LocalLambdaContext(function_name="RollupDispatchFunction"))

    # Then: listing the sites and sending to the rollup queue, nothing more
    policy = statements(TEMPLATE, "RollupDispatchFunction")
    assert result == {"sites_dispatched": 1}
    assert _denied("RollupDispatchFunction", calls) == []
    assert sqs_operations == ["SendMessageBatch"]
    assert all(allows(policy, IamRequest(SQS_ACTIONS[name], "RollupQueue", ())) for name in sqs_operations)


def test_the_compaction_dispatchers_requests_are_all_allowed(
    owner: Owner, clock: FrozenClock, aizen_env: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the queue from the template, and the SQS requests of the default session recorded
    queue_url = ensure_queues(TEMPLATE, None)["CompactionQueue"]
    aizen_env(COMPACTION_QUEUE_URL=queue_url)
    sqs_operations: list[str] = []
    session = boto3.Session()
    session.events.register("before-call.sqs", lambda model, **_: sqs_operations.append(model.name))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    calls = record_dynamodb_calls()

    # When
    context = LocalLambdaContext(function_name="CompactionDispatchFunction")
    result = load_handler("CompactionDispatchFunction")({}, context)

    # Then: listing the sites and sending to the compaction queue, nothing more
    policy = statements(TEMPLATE, "CompactionDispatchFunction")
    assert result == {"sites_dispatched": 1}
    assert _denied("CompactionDispatchFunction", calls) == []
    assert sqs_operations == ["SendMessageBatch"]
    assert all(allows(policy, IamRequest(SQS_ACTIONS[name], "CompactionQueue", ())) for name in sqs_operations)
