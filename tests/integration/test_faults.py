"""DynamoDB throttling, timeouts and unprocessed writes on every path: bounded retries, then
503 (the import: an error saying what is in), nothing lost, and a re-run finishes the work.

Faults are injected at botocore's `before-send` on the store's own client (ahead of
moto), so the SDK's standard retry mode sees and retries them as real ones.
"""

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from aizen.events import RawEvent
from aizen.importing import service as importer
from aizen.models import ApiKey
from aizen.periods import day_start_ms, zone
from aizen.rollup import job
from aizen.settings import Settings
from aizen.store import dynamo, rollups
from aizen.store import events as event_store
from aizen_local import cli, connection
from tests.support import (
    STATS_PATHS,
    FrozenClock,
    Owner,
    bearer,
    dashboard_headers,
    fail_dynamodb,
    invoke,
    keys_path,
    leave_unprocessed,
    main_table_items,
    stored_event_count,
    time_out_dynamodb,
)

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

    for store_client in dynamo.clients():
        store_client.meta.events.register_first("before-send.dynamodb", time_out)
    return timed_out


QUERIES = {"StatsBreakdownFunction": "property=page"}


def _assert_unavailable(response: Any) -> None:
    assert response.status == 503, response.body
    assert response.body["error"]["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) >= 1


# (error, landed): a read timeout may come after DynamoDB applied the write (only the answer
# was lost) or before; a connect timeout never reaches the table.
TIMEOUTS = [
    pytest.param(ReadTimeoutError, False, id="read-timeout-not-applied"),
    pytest.param(ReadTimeoutError, True, id="read-timeout-applied"),
    pytest.param(ConnectTimeoutError, False, id="connect-timeout"),
]
Timeout = type[ReadTimeoutError] | type[ConnectTimeoutError]


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


def _three_days_of_events(owner: Owner, clock: FrozenClock) -> date:
    """One event on each of the three finished days before today; returns today."""
    tz = zone(owner.site.timezone)
    today = date.fromtimestamp(clock.now())
    for offset in (1, 2, 3):
        day = today - timedelta(days=offset)
        event_store.put_event(
            RawEvent(owner.site.id, day_start_ms(day, tz) + 3_600_000, "pageview", f"{offset:016x}", "/")
        )
    return today


def test_the_rollup_resumes_where_throttling_stopped_it(owner: Owner, clock: FrozenClock) -> None:
    # Given: three finished days with an event each, and DynamoDB throttling the first day's reads
    today = _three_days_of_events(owner, clock)
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


# Writes time out: the endpoints ------------------------------------------------------------------


def _assert_design_error(response: Any) -> None:
    """503, Retry-After, and docs/api.md's error shape with nothing else in it."""
    _assert_unavailable(response)
    assert set(response.body) == {"error"}
    assert set(response.body["error"]) == {"code", "message"}
    assert "Timeout" not in response.body["error"]["message"]


def _events_now(owner: Owner, clock: FrozenClock) -> list[RawEvent]:
    now_ms = int(clock.now() * 1000)
    return list(event_store.query_events(owner.site.id, now_ms - 60_000, now_ms + 60_000))


@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_ingestion_answers_503_when_the_event_write_times_out(
    owner: Owner, clock: FrozenClock, aizen_env: ApplyEnv, error: Timeout, landed: bool
) -> None:
    # Given: two attempts per call, and both attempts of the event's PutItem time out
    aizen_env(DYNAMODB_MAX_ATTEMPTS="2")
    timed_out = time_out_dynamodb(
        operation="PutItem", table=dynamo.events_table().name, times=2, landed=landed, error=error
    )

    # When: the tracker sends a pageview, gets the 503, and sends it again
    refused = _post_pageview()
    stored_after_refusal = _events_now(owner, clock)
    accepted = _post_pageview()

    # Then: bounded retries, then 503; a write applied before its answer was lost is stored,
    # and the tracker's resend stores a second event (event keys are not derived from the payload)
    assert timed_out == ["PutItem", "PutItem"]
    _assert_design_error(refused)
    assert accepted.status == 202
    assert len(stored_after_refusal) == (1 if landed else 0)
    assert len(_events_now(owner, clock)) == (2 if landed else 1)


@pytest.mark.parametrize("write", ["site salt", "rate-limit salt", "rate counter"])
@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_ingestion_answers_503_when_a_write_before_the_event_times_out(
    owner: Owner, clock: FrozenClock, error: Timeout, landed: bool, write: str
) -> None:
    # Given: one of the writes that precede the event's times out: the day's first event
    # creates the site's visitor-id salt and the salt that names ingestion's per-IP rate
    # counter (PutItem); the counter itself (UpdateItem) comes before the body is read
    operation, containing = {
        "site salt": ("PutItem", f"SALT#{owner.site.id}"),
        "rate-limit salt": ("PutItem", "SALT#ratelimit"),
        "rate counter": ("UpdateItem", "RATE#ip#event#"),
    }[write]
    timed_out = time_out_dynamodb(operation=operation, containing=containing, times=1, landed=landed, error=error)

    # When
    refused = _post_pageview()
    stored_after_refusal = _events_now(owner, clock)
    accepted = _post_pageview()

    # Then: nothing is stored before those writes answered; the resend is stored once
    assert timed_out == [operation]
    _assert_design_error(refused)
    assert stored_after_refusal == []
    assert accepted.status == 202
    assert len(_events_now(owner, clock)) == 1


@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_key_creation_answers_503_when_its_write_times_out(owner: Owner, error: Timeout, landed: bool) -> None:
    # Given
    timed_out = time_out_dynamodb(operation="TransactWriteItems", times=1, landed=landed, error=error)
    session = dashboard_headers(owner.session)

    # When: the dashboard creates a key, gets the 503, and tries again
    refused = invoke("ApiKeysCreateFunction", keys_path(owner.site.id), headers=session, body='{"name": "k"}')
    retried = invoke("ApiKeysCreateFunction", keys_path(owner.site.id), headers=session, body='{"name": "k"}')
    listed = invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=session)

    # Then: an applied write left a key whose token nobody saw; it is listed, so it can be revoked
    assert timed_out == ["TransactWriteItems"]
    _assert_design_error(refused)
    assert retried.status == 201
    assert len(listed.body["keys"]) == (2 if landed else 1)


@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_key_revocation_answers_503_when_its_write_times_out(
    owner: Owner, api_key: tuple[ApiKey, str], error: Timeout, landed: bool
) -> None:
    # Given
    timed_out = time_out_dynamodb(operation="TransactWriteItems", times=1, landed=landed, error=error)
    path = keys_path(owner.site.id, api_key[0].id)

    # When: the dashboard revokes a key, gets the 503, and tries again
    refused = invoke("ApiKeysRevokeFunction", path, headers=dashboard_headers(owner.session))
    retried = invoke("ApiKeysRevokeFunction", path, headers=dashboard_headers(owner.session))

    # Then: revoking twice is fine, and the key is revoked
    assert timed_out == ["TransactWriteItems"]
    _assert_design_error(refused)
    assert retried.status == 200
    assert (
        invoke("StatsRealtimeFunction", STATS_PATHS["StatsRealtimeFunction"], headers=bearer(api_key[1])).status == 401
    )


@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_a_stats_request_answers_503_when_the_rate_counter_times_out(
    api_key: tuple[ApiKey, str], clock: FrozenClock, error: Timeout, landed: bool
) -> None:
    # Given: the rate counter's UpdateItem (the first write of every stats request) times out
    timed_out = time_out_dynamodb(operation="UpdateItem", containing="RATE#", times=1, landed=landed, error=error)

    # When
    refused = invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"], headers=bearer(api_key[1]))
    retried = invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"], headers=bearer(api_key[1]))

    # Then: an applied increment counts against the address's window, like any request
    assert timed_out == ["UpdateItem"]
    _assert_design_error(refused)
    assert retried.status == 200
    [ip_window] = [item for item in main_table_items() if str(item["pk"]).startswith("RATE#ip#")]
    assert ip_window["hits"] == (2 if landed else 1)


# Writes time out or stay throttled: the rollup job ------------------------------------------------


def _assert_rolled_up_once(owner: Owner, today: date) -> None:
    rolled = rollups.rolled_up_days(owner.site.id, (today - timedelta(days=3)).isoformat(), today.isoformat())
    assert sorted(rolled) == [(today - timedelta(days=offset)).isoformat() for offset in (3, 2, 1)]
    assert [record["visitors"] for record in rolled.values()] == [1, 1, 1]
    assert list(rollups.dirty_days(owner.site.id)) == []


@pytest.mark.parametrize("operation", ["BatchWriteItem", "PutItem"])
@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_the_rollup_resumes_where_a_write_timeout_stopped_it(
    owner: Owner, clock: FrozenClock, operation: str, error: Timeout, landed: bool
) -> None:
    # Given: three finished days, and the first day's table parts (BatchWriteItem) or day item (PutItem) timing out
    today = _three_days_of_events(owner, clock)
    timed_out = time_out_dynamodb(operation=operation, containing="ROLLUP#", times=1, landed=landed, error=error)

    # When: the job runs twice
    first = job.run([owner.site.id])
    second = job.run([owner.site.id])

    # Then: the first run reports the site failed, the second finishes every day, each counted once
    assert timed_out == [operation]
    assert first.failed_sites == [owner.site.id]
    assert second.failed_sites == []
    _assert_rolled_up_once(owner, today)


def test_the_rollup_gives_up_on_unprocessed_items_that_never_drain_and_resumes(
    owner: Owner, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: DynamoDB leaves every write of the rollup's table parts unprocessed, for a while
    today = _three_days_of_events(owner, clock)
    sleeps: list[float] = []
    monkeypatch.setattr(dynamo, "_sleep", sleeps.append)
    left = leave_unprocessed(table=dynamo.main_table().name, times=dynamo.MAX_IDLE_ROUNDS + 1)

    # When: the job runs twice
    first = job.run([owner.site.id])
    second = job.run([owner.site.id])

    # Then: the first run stopped after a bounded number of rounds (not forever), the second finished
    assert len(left) == dynamo.MAX_IDLE_ROUNDS + 1
    assert len(sleeps) == dynamo.MAX_IDLE_ROUNDS
    assert first.failed_sites == [owner.site.id]
    assert second.failed_sites == []
    _assert_rolled_up_once(owner, today)


# Writes stay throttled, never drain or time out: the import ----------------------------------------

# 100 events of yesterday (stored raw, 25 a BatchWriteItem) and one a day on three days a year ago
# (added to those days' rollups). With one writer thread, the third raw batch holds line 61.
RAW_LINES = 100
HISTORY_DAYS = ["2025-01-10", "2025-02-10", "2025-03-10"]
STUCK_PAGE = "/stuck-in-the-third-batch"


def _import_lines() -> list[str]:
    lines = [
        json.dumps(
            {
                "timestamp": f"2026-04-01T12:{number // 60:02d}:{number % 60:02d}Z",
                "name": "pageview",
                "url": f"https://example.com{STUCK_PAGE if number == 60 else '/'}",
                "visitor_id": f"v{number}",
            }
        )
        for number in range(RAW_LINES)
    ]
    lines += [
        json.dumps(
            {"timestamp": f"{day}T18:00:00Z", "name": "pageview", "url": "https://example.com/", "visitor_id": day}
        )
        for day in HISTORY_DAYS
    ]
    return lines


def _history_visitors(owner: Owner) -> dict[str, int]:
    rolled = rollups.rolled_up_days(owner.site.id, HISTORY_DAYS[0], HISTORY_DAYS[-1])
    return {day: record["visitors"] for day, record in rolled.items()}


def _assert_everything_in_once(owner: Owner) -> None:
    assert stored_event_count() == RAW_LINES
    assert _history_visitors(owner) == dict.fromkeys(HISTORY_DAYS, 1)
    assert list(rollups.dirty_days(owner.site.id)) == ["2026-04-01"]


def test_an_import_whose_raw_writes_stay_throttled_says_what_is_in_and_a_rerun_finishes(
    owner: Owner, clock: FrozenClock, aizen_env: ApplyEnv
) -> None:
    # Given: two attempts per call, and DynamoDB throttling both attempts of the raw batch holding line 61
    aizen_env(DYNAMODB_MAX_ATTEMPTS="2")
    refused = fail_dynamodb(operation="BatchWriteItem", containing=STUCK_PAGE, times=2)

    # When: the file is imported, and then imported again
    with pytest.raises(importer.ImportInterrupted) as caught:
        importer.import_events(owner.site.id, _import_lines(), threads=1)
    stored_after_the_failure = stored_event_count()
    due_after_the_failure = list(rollups.dirty_days(owner.site.id))
    summary = importer.import_events(owner.site.id, _import_lines(), threads=1)

    # Then: bounded retries; the error names exactly what is in (the first two batches, no history)
    assert refused == ["BatchWriteItem", "BatchWriteItem"]
    interrupted = caught.value
    assert interrupted.status == 503
    assert interrupted.progress.as_dict() == {
        "raw_events_stored": 50,
        "raw_events": RAW_LINES,
        "history_days_added": [],
        "history_days_already_in": [],
        "history_days_not_added": HISTORY_DAYS,
    }
    assert "50 of 100 raw events" in interrupted.message
    assert "Re-run the same file" in interrupted.message
    assert stored_after_the_failure == 50
    assert due_after_the_failure == ["2026-04-01"]  # the job rolls up the day with what is in
    # and the re-run lands every event once
    assert (summary.imported, summary.extra["rollup_days"]) == (RAW_LINES + 3, 3)
    _assert_everything_in_once(owner)


def test_an_import_whose_history_writes_stay_throttled_says_which_days_are_in_and_a_rerun_adds_no_day_twice(
    owner: Owner, clock: FrozenClock
) -> None:
    # Given: DynamoDB throttling the write of the second history day's rollup
    refused = fail_dynamodb(operation="PutItem", containing=HISTORY_DAYS[1], times=1)

    # When: the file is imported, and then imported again
    with pytest.raises(importer.ImportInterrupted) as caught:
        importer.import_events(owner.site.id, _import_lines())
    visitors_after_the_failure = _history_visitors(owner)
    summary = importer.import_events(owner.site.id, _import_lines())

    # Then: every raw event and the first history day were in; the re-run skipped that day
    assert refused == ["PutItem"]
    assert caught.value.progress.as_dict() == {
        "raw_events_stored": RAW_LINES,
        "raw_events": RAW_LINES,
        "history_days_added": HISTORY_DAYS[:1],
        "history_days_already_in": [],
        "history_days_not_added": HISTORY_DAYS[1:],
    }
    assert f"1 of 3 day(s): {HISTORY_DAYS[0]}" in caught.value.message
    assert visitors_after_the_failure == {HISTORY_DAYS[0]: 1}
    assert (summary.extra["rollup_days"], summary.extra["rollup_days_already_in"]) == (2, 1)
    _assert_everything_in_once(owner)


@pytest.mark.parametrize("table", ["events", "main"])
def test_an_import_whose_unprocessed_items_never_drain_stops_after_bounded_rounds(
    owner: Owner, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    # Given: DynamoDB leaving every BatchWriteItem of the raw events (events table) or of the
    # history's rollup parts (main table; a history-only file) unprocessed, however often it is resent
    sleeps: list[float] = []
    monkeypatch.setattr(dynamo, "_sleep", sleeps.append)
    name = dynamo.events_table().name if table == "events" else dynamo.main_table().name
    left = leave_unprocessed(table=name)
    lines = _import_lines() if table == "events" else _import_lines()[RAW_LINES:]

    # When
    with pytest.raises(importer.ImportInterrupted) as caught:
        importer.import_events(owner.site.id, lines, threads=1)

    # Then: one batch was resent a bounded number of times, with pauses, then the import stopped
    assert len(left) == dynamo.MAX_IDLE_ROUNDS + 1
    assert len(sleeps) == dynamo.MAX_IDLE_ROUNDS
    written = caught.value.progress.as_dict()
    assert (written["raw_events_stored"], written["history_days_added"]) == (0, [])
    assert stored_event_count() == 0
    assert _history_visitors(owner) == {}


@pytest.mark.parametrize("stage", ["raw", "history"])
@pytest.mark.parametrize(("error", "landed"), TIMEOUTS)
def test_an_import_stopped_by_a_write_timeout_can_be_rerun_as_it_is(
    owner: Owner, clock: FrozenClock, stage: str, error: Timeout, landed: bool
) -> None:
    # Given: the third raw batch, or the second history day's rollup, timing out
    if stage == "raw":
        timed_out = time_out_dynamodb(
            operation="BatchWriteItem", containing=STUCK_PAGE, times=1, landed=landed, error=error
        )
    else:
        timed_out = time_out_dynamodb(
            operation="PutItem", containing=HISTORY_DAYS[1], times=1, landed=landed, error=error
        )

    # When: the file is imported, and then imported again
    with pytest.raises(importer.ImportInterrupted) as caught:
        importer.import_events(owner.site.id, _import_lines(), threads=1)
    importer.import_events(owner.site.id, _import_lines(), threads=1)

    # Then: what the error confirmed is a lower bound (an applied write's answer was lost),
    # and the re-run ends where an uninterrupted import ends: no event, no history day twice
    assert len(timed_out) == 1
    confirmed = caught.value.progress.as_dict()
    assert confirmed["raw_events_stored"] == (50 if stage == "raw" else RAW_LINES)
    assert confirmed["history_days_added"] == ([] if stage == "raw" else HISTORY_DAYS[:1])
    _assert_everything_in_once(owner)


def test_the_cli_says_what_an_interrupted_import_wrote_without_a_stack_trace(
    owner: Owner,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given: a file whose third raw batch DynamoDB keeps throttling (the tables are the test's own)
    monkeypatch.setattr(connection, "connect", lambda stack: None)
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(_import_lines()) + "\n")
    fail_dynamodb(operation="BatchWriteItem", containing=STUCK_PAGE)

    # When
    status = cli.main(["import", "--site", owner.site.id, str(path), "--no-progress"])

    # Then: exit status 1, nothing on stdout, and one JSON error on stderr saying exactly what is in
    # (the other writer threads' batches included)
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert "Traceback" not in captured.err
    error = json.loads(captured.err)["error"]
    assert error["code"] == "service_unavailable"
    assert error["safe_to_rerun"] is True
    # (which of the writer threads' batches got in before the stuck one gave up depends on their
    # scheduling: whole batches, fewer than all, and exactly the number the error reports)
    stored = stored_event_count()
    assert stored < RAW_LINES
    assert stored % 25 == 0
    assert error["written"]["raw_events_stored"] == stored
    assert error["written"]["history_days_not_added"] == HISTORY_DAYS
    assert f"{stored} of {RAW_LINES} raw events confirmed stored" in error["message"]
