"""Compaction fanned out like the rollup: one site's failure or size never stops another's.

A killed invocation (Lambda's timeout, or running out of memory) is not an exception the
code can catch: here it is `InvocationKilled`, a BaseException raised where the heavy site's
hour is packed (tests/integration/test_rollup_fanout.py does the same for the rollup).
"""

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from aizen import admin, compaction
from aizen.events import RawEvent
from aizen.query import planner
from aizen.settings import Settings
from aizen.store import blocks as block_store
from aizen.store import events as event_store
from aizen_local import cli, connection
from aizen_local.queues import ensure_queues, poll_once
from aizen_local.template import PROJECT_ROOT, load_template
from tests.support import SEED_NOW, FrozenClock, InvocationKilled, invoke_job, store_single_items

HOUR_MS = 3_600_000
NOW_MS = SEED_NOW * 1000
FINISHED = block_store.hour_of(NOW_MS - compaction.GRACE_MS)


@pytest.fixture
def settings(aizen_env: Callable[..., Settings]) -> Settings:
    return aizen_env()


def _sites(count: int, settings: Settings, hours: int = 3) -> list[str]:
    """`count` sites, each with one pageview in each of its last `hours` finished hours."""
    user = admin.create_user("owner@example.com", user_id="user_1")
    site_ids = [
        admin.create_site(f"site{n}.example", "Europe/Berlin", user.id, site_id=f"site_{n}").id
        for n in range(1, count + 1)
    ]
    store_single_items(
        [
            RawEvent(site_id, FINISHED - back * HOUR_MS + 60_000, "pageview", f"{n:014x}{back:02x}", "/")
            for n, site_id in enumerate(site_ids)
            for back in range(1, hours + 1)
        ],
        settings.raw_retention_days,
    )
    return site_ids


def _heavy(site_id: str, monkeypatch: pytest.MonkeyPatch, hours: set[int] | None = None) -> dict[str, int]:
    """Packing the site's hours (or only `hours`) kills the invocation; returns the kills so far."""
    real = compaction._pack
    kills = {"count": 0}

    def pack(packed_site: str, hour_ms: int, *args: Any) -> int:
        if packed_site == site_id and (hours is None or hour_ms in hours):
            kills["count"] += 1
            raise InvocationKilled
        return real(packed_site, hour_ms, *args)

    monkeypatch.setattr(compaction, "_pack", pack)
    return kills


def test_in_one_process_a_killed_site_stops_every_site_after_it(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: three sites with finished hours; packing the second one's kills the invocation
    before, heavy, after = _sites(3, settings)
    _heavy(heavy, monkeypatch)

    # When: every site in one invocation, as the scheduled compaction used to run
    with pytest.raises(InvocationKilled):
        compaction.run()

    # Then: the site after the heavy one is never compacted (the stall the fan-out removes)
    assert block_store.compacted_until(before) == FINISHED
    assert block_store.compacted_until(after) == 0


@pytest.fixture
def queues(aizen_env: Callable[..., Settings]) -> dict[str, str]:
    urls = ensure_queues(load_template(), None)
    aizen_env(COMPACTION_QUEUE_URL=urls["CompactionQueue"])
    return urls


def _visible(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs")
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30)
    return [json.loads(message["Body"])["site_id"] for message in answer.get("Messages", [])]


def test_a_site_that_kills_its_invocation_never_stops_the_others(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch, queues: dict[str, str]
) -> None:
    # Given: three sites with finished hours; packing the second one's kills its invocation
    before, heavy, after = _sites(3, settings)
    kills = _heavy(heavy, monkeypatch)

    # When: the schedule runs the dispatcher, and Lambda's event source mapping works the queue off
    # (one message per invocation; a failed one is visible again at once, as after its visibility timeout)
    schedule = json.loads((PROJECT_ROOT / "events" / "CompactionDispatchFunction.json").read_text())
    dispatched = invoke_job("CompactionDispatchFunction", schedule)
    invocations = 0
    while poll_once(queues["CompactionQueue"], "CompactionFunction", 1, invoke_job, VisibilityTimeout=0):
        invocations += 1
        assert invocations < 20, "the queue never drains"

    # Then: the other sites are compacted; the heavy one was tried 3 times (maxReceiveCount),
    # then its message went to the dead-letter queue (CompactionDeadLetterAlarm)
    assert dispatched == {"sites_dispatched": 3}
    assert block_store.compacted_until(before) == block_store.compacted_until(after) == FINISHED
    assert block_store.compacted_until(heavy) == 0
    assert kills["count"] == 3
    assert _visible(queues["CompactionQueue"]) == []
    assert _visible(queues["CompactionDeadLetterQueue"]) == [heavy]


def test_an_hour_that_kills_every_run_is_set_aside_and_aizen_compact_retries_it(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a site with three finished hours, the second of which kills every run that packs it
    (site_id,) = _sites(1, settings)
    killer = FINISHED - 2 * HOUR_MS
    kills = _heavy(site_id, monkeypatch, hours={killer})

    # When: workers run it; the first packs the hour before, then dies on it, and so do the next three
    for _ in range(4):
        with pytest.raises(InvocationKilled):
            compaction.run_site(site_id, budget_seconds=600)
    report = compaction.run_site(site_id, budget_seconds=600)

    # Then: after 3 runs that started from the hour and never came back, the fifth sets it aside
    # (CompactionHoursSetAside); the watermark waits before it, so queries stay exact
    assert kills["count"] == 4
    assert report.hours_set_aside == [f"{site_id}/2026-04-02T17:00Z"]
    assert block_store.watermark(site_id) == (killer, compaction.MAX_HOUR_ATTEMPTS)
    assert report.lag_seconds > 0

    # And: `aizen compact --retry-set-aside` (more memory on an operator's machine) packs it
    monkeypatch.setattr(compaction, "_pack", _real_pack)
    monkeypatch.setattr(connection, "connect", lambda stack: None)  # the test's own tables
    capsys.readouterr()  # the workers' log lines
    assert cli.main(["compact", "--site", site_id, "--retry-set-aside"]) == 0
    retried = json.loads(capsys.readouterr().out)
    assert (retried["hours_compacted"], retried["hours_set_aside"]) == (2, [])
    assert block_store.watermark(site_id) == (FINISHED, 0)


_real_pack = compaction._pack


def test_a_failure_that_says_nothing_of_the_hours_size_is_not_counted_against_it(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the store refuses the hour's blocks (an exception: throttling, a lost connection)
    (site_id,) = _sites(1, settings)

    def refused(*args: object) -> int:
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(compaction, "_pack", refused)

    # When
    with pytest.raises(RuntimeError):
        compaction.run_site(site_id, budget_seconds=600)

    # Then: no attempt is left counted against the hour
    assert block_store.watermark(site_id) == (0, 0)


def test_a_site_stops_at_its_budget_and_the_next_run_resumes_at_the_hour_it_stopped(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: five finished hours, and each hour's packing takes 100 s of a 250 s budget
    (site_id,) = _sites(1, settings, hours=5)
    moments = iter(range(0, 10_000, 100))
    monkeypatch.setattr(compaction, "time", SimpleNamespace(monotonic=lambda: float(next(moments))))

    # When
    runs = [compaction.run_site(site_id, budget_seconds=250) for _ in range(3)]

    # Then: each run kept the hours it packed; the next began at the first hour left, packing none twice
    assert [run.hours_compacted for run in runs] == [2, 2, 1]
    assert [run.events_packed for run in runs] == [2, 2, 1]
    assert block_store.compacted_until(site_id) == FINISHED


def test_a_run_holds_one_hours_events_and_a_page_per_shard(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: three finished hours of 12 events each, read two items a page
    user = admin.create_user("owner@example.com", user_id="user_1")
    site_id = admin.create_site("site.example", "Europe/Berlin", user.id, site_id="site_1").id
    hours = [FINISHED - back * HOUR_MS for back in (1, 2, 3)]
    store_single_items(
        [RawEvent(site_id, hour + n * 60_000, "pageview", f"{n:016x}", "/") for hour in hours for n in range(12)],
        settings.raw_retention_days,
    )
    monkeypatch.setattr(event_store, "ORDERED_PAGE_ITEMS", 2)
    decoded = {"events": 0}
    from_json = event_store._from_json

    def counting(item: dict[str, Any], site: str) -> RawEvent:
        decoded["events"] += 1
        return from_json(item, site)

    monkeypatch.setattr(event_store, "_from_json", counting)
    read_ahead: list[int] = []

    def pack(packed_site: str, hour_ms: int, events: list[RawEvent], generation: int) -> int:
        read_ahead.append(decoded["events"] - len(events) - 12 * len(read_ahead))
        return _real_pack(packed_site, hour_ms, events, generation)

    monkeypatch.setattr(compaction, "_pack", pack)

    # When
    report = compaction.run([site_id])

    # Then: when each hour is packed, beyond its events at most a page per shard has been read
    assert report.hours_compacted == 3
    assert all(0 <= ahead <= 2 * event_store.EVENT_SHARDS for ahead in read_ahead)


def test_the_worker_budget_stops_before_the_lambda_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a message for a site
    budgets: list[float] = []

    def run_site(site_id: str, budget: float) -> compaction.CompactionReport:
        budgets.append(budget)
        return compaction.CompactionReport(sites=1)

    monkeypatch.setattr(compaction, "run_site", run_site)
    event = json.loads((PROJECT_ROOT / "events" / "CompactionFunction.json").read_text())

    # When: the worker runs with 900 s (the template's Timeout) before Lambda would end it
    assert invoke_job("CompactionFunction", event)["sites"][0]["sites"] == 1

    # Then: it starts no new hour in the last third of its time (600 s of 900 s)
    (budget,) = budgets
    assert 599 < budget <= 600
    assert load_template().resources["CompactionFunction"]["Properties"]["Timeout"] == 900


def test_the_queue_tries_a_site_as_often_as_an_hour_may_be_attempted() -> None:
    template = load_template()
    queue = template.resources["CompactionQueue"]["Properties"]
    worker = template.resources["CompactionFunction"]["Properties"]
    mapping = template.resources["CompactionFunctionQueueMapping"]["Properties"]

    assert queue["RedrivePolicy"]["maxReceiveCount"] == compaction.MAX_HOUR_ATTEMPTS
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CompactionDeadLetterQueue", "Arn"]}
    assert queue["FifoQueue"] is True
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]  # AWS's advice for a Lambda event source
    assert mapping["BatchSize"] == 1
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "CompactionMaxConcurrency"}
    assert "Events" not in worker  # the schedule runs the dispatcher, never the worker


def test_a_new_sites_first_run_packs_an_import_older_than_the_site_before_passing_it(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a site created now (its watermark starts the day before), and an import of an older
    # event, which marks its hour before writing it, as `aizen import` does
    (site_id,) = _sites(1, settings, hours=1)
    older = RawEvent(site_id, NOW_MS - 5 * 86_400_000, "pageview", "00000000000000ff", "/imported")
    marks = compaction.mark_hours(site_id, [older])
    store_single_items([older], settings.raw_retention_days)
    compaction.marks_written(site_id, marks)

    # When: a run that stops after its forward pass (killed before it packs marked hours again)
    monkeypatch.setattr(compaction, "recompact_marked", lambda *args, **kwargs: [])
    compaction.run_site(site_id, budget_seconds=600)

    # Then: the watermark passed the imported hour only after packing it: readers find the event
    assert block_store.compacted_until(site_id) == FINISHED
    pages = [
        event.page
        for _, blocks in planner.raw_chunks(site_id, older.timestamp_ms, older.timestamp_ms + 1)
        for block in blocks
        for event in block.events(site_id)
    ]
    assert pages == ["/imported"]
