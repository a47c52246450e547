"""The compaction job and the exactly-once rule (docs/data-model.md, "Event blocks").

Every case asks the endpoints the same questions before and after, and holds the answers
against tests/stats_reference.py: a crash between writing blocks and moving the
watermark, a re-run, a query that runs while an hour is compacted, an import into an
already compacted hour (and the same import again), expired blocks, one failing site.
"""

import json
import random
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen import compaction
from aizen.events import RawEvent
from aizen.importing import service as importer
from aizen.query import planner
from aizen.settings import Settings
from aizen.store import accounts, rollups
from aizen.store import blocks as block_store
from tests import stats_reference as ref
from tests.support import SEED_NOW, FrozenClock, bearer, invoke, make_key, make_owner, store_single_items

HOUR = 3_600
TZ = ZoneInfo("America/Los_Angeles")
QUESTIONS = [
    (
        "StatsAggregateFunction",
        "/api/v1/stats/aggregate",
        {"period": "7d", "metrics": "visitors,pageviews,bounce_rate,visit_duration"},
    ),
    (
        "StatsAggregateFunction",
        "/api/v1/stats/aggregate",
        {"period": "today", "metrics": "visitors,pageviews,bounce_rate,visit_duration"},
    ),
    (
        "StatsAggregateFunction",
        "/api/v1/stats/aggregate",
        {"period": "7d", "country": "US", "metrics": "visitors,pageviews"},
    ),
    (
        "StatsBreakdownFunction",
        "/api/v1/stats/breakdown",
        {"period": "7d", "property": "page", "metrics": "visitors,pageviews"},
    ),
    ("StatsTimeseriesFunction", "/api/v1/stats/timeseries", {"period": "24h", "metrics": "visitors,pageviews"}),
]


# The tests' sites were created 9 days before the seed's now: the job starts their watermark the
# day before, instead of walking the empty partitions of the whole raw window.
CREATED = SEED_NOW - 9 * 86_400


def _answers(token: str) -> list[Any]:
    answers = []
    for function, path, params in QUESTIONS:
        response = invoke(function, path, query="&".join(f"{k}={v}" for k, v in params.items()), headers=bearer(token))
        assert response.status == 200, response.body
        answers.append(response.body)
    return answers


def _seed_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The reference's numbers for the metrics QUESTIONS ask (the seed's four)."""
    return {name: metrics[name] for name in ("visitors", "pageviews", "bounce_rate", "visit_duration")}


def _expected(events: list[RawEvent], now_ms: int) -> list[Any]:
    """The reference's numbers for the aggregate questions (the others are compared before/after)."""
    week = ref.expected_range("7d", TZ, now_ms, None, None)
    today = ref.expected_range("today", TZ, now_ms, None, None)
    metrics = _seed_metrics(ref.aggregate(events, TZ, {}, week))
    return [
        metrics,
        _seed_metrics(ref.aggregate(events, TZ, {}, today)),
        {
            name: value
            for name, value in ref.aggregate(events, TZ, {"country": "US"}, week).items()
            if name in ("visitors", "pageviews")
        },
    ]


@pytest.fixture
def site(clock: FrozenClock, aizen_env: Any) -> tuple[str, str, list[RawEvent], Settings]:
    """A site with 8 days of random traffic stored as single items, and a key."""
    settings: Settings = aizen_env(IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000")
    owner = make_owner(site_created_at=CREATED)
    _, token = make_key(owner.site.id)
    events = ref.random_traffic(zlib.crc32(b"compaction"), owner.site.id, SEED_NOW * 1000, visitors=40, days=8)
    store_single_items(events, settings.raw_retention_days)
    return owner.site.id, token, events, settings


def test_compacted_hours_and_the_tail_answer_like_single_items(site: Any, clock: FrozenClock) -> None:
    # Given: a site never compacted
    site_id, token, events, _ = site
    before = _answers(token)
    assert [answer["metrics"] for answer in before[:3]] == _expected(events, SEED_NOW * 1000)

    # When: the job packs every finished hour
    report = compaction.run()

    # Then: the same answers, from blocks for the finished hours and single items for the rest
    assert report.hours_compacted > 50
    assert report.events_packed > len(events) * 0.9
    assert not report.failed_sites
    watermark = block_store.compacted_until(site_id)
    assert watermark == block_store.hour_of(SEED_NOW * 1000 - compaction.GRACE_MS)
    assert _answers(token) == before
    # a re-run has nothing left to pack and changes nothing
    assert compaction.run().hours_compacted == 0
    assert _answers(token) == before


def test_a_crash_before_the_watermark_moves_counts_nothing_twice(
    site: Any, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a compaction that writes a day's blocks, then dies before moving the watermark
    site_id, token, _, _ = site
    before = _answers(token)

    def crash(*_: Any) -> bool:
        raise RuntimeError("killed")

    advance_watermark = block_store.advance_watermark
    monkeypatch.setattr(block_store, "advance_watermark", crash)
    report = compaction.run()
    assert report.failed_sites == [site_id]
    assert block_store.compacted_until(site_id) == 0

    # Then: the written blocks are ignored (the hours still come from single items) ...
    assert _answers(token) == before

    # ... and the next run packs them again, exactly once
    monkeypatch.setattr(block_store, "advance_watermark", advance_watermark)
    assert compaction.run().failed_sites == []
    assert _answers(token) == before


def test_an_hour_compacted_while_a_query_reads_counts_once(
    site: Any, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: half the hours compacted
    site_id, token, _, _ = site
    before = _answers(token)
    clock.advance(-3 * 86_400)
    compaction.run()
    clock.advance(3 * 86_400)
    assert 0 < block_store.compacted_until(site_id) < SEED_NOW * 1000

    # When: every query reads the watermark, then the job compacts the rest before the blocks are read
    read_blocks = block_store.read_blocks

    def compacting_meanwhile(*args: Any) -> Iterator[Any]:
        compaction.run()
        return read_blocks(*args)

    monkeypatch.setattr(block_store, "read_blocks", compacting_meanwhile)

    # Then: the answers are exact
    assert _answers(token) == before


def test_an_import_into_compacted_hours_is_packed_again_and_counted_once(
    site: Any, clock: FrozenClock, tmp_path: Any
) -> None:
    # Given: a compacted site
    site_id, token, _, _ = site
    compaction.run()
    lines = [
        json.dumps(
            {
                "timestamp": f"2026-04-0{day}T1{hour}:15:00.000Z",
                "name": "pageview",
                "url": "https://example.com/imported",
                "visitor_id": f"imported-{day}-{hour}",
            }
        )
        for day in (1, 2)
        for hour in range(4)
    ]

    # When: a file adds 8 pageviews to compacted hours, twice (re-importing is idempotent)
    for _ in range(2):
        summary = importer.import_events(site_id, lines)
        assert summary.imported == 8

    # Then: the hours were packed again, each pageview counts once, and nothing is left marked
    assert block_store.recompact_hours(site_id) == {}
    stored = [event for event in planner_events(site_id) if event.page == "/imported"]
    assert len(stored) == 8
    answer = invoke(
        "StatsBreakdownFunction",
        "/api/v1/stats/breakdown",
        query="period=7d&property=page&metrics=visitors,pageviews&limit=1000",
        headers=bearer(token),
    ).body
    row = next(row for row in answer["results"] if row["value"] == "/imported")
    assert row == {"value": "/imported", "visitors": 8, "pageviews": 8}
    # the days the hours belong to are marked for the rollup job
    assert {"2026-04-01", "2026-04-02"} <= set(rollups.dirty_days(site_id))


def _imported_lines(page: str) -> list[str]:
    """Eight pageviews of `page`, in four finished hours of each of two days before the seed's now."""
    return [
        json.dumps(
            {
                "timestamp": f"2026-04-0{day}T1{hour}:15:00.000Z",
                "name": "pageview",
                "url": f"https://example.com{page}",
                "visitor_id": f"imported-{day}-{hour}",
            }
        )
        for day in (1, 2)
        for hour in range(4)
    ]


def test_an_import_the_job_has_not_reached_yet_is_packed_once(site: Any, clock: FrozenClock) -> None:
    # Given: a site the job has not compacted yet, and an import into its finished hours (their
    # markers wait for the job, whose watermark has not passed them)
    site_id, _, events, _ = site
    importer.import_events(site_id, _imported_lines("/imported"))
    assert len(block_store.recompact_hours(site_id)) == 8

    # When: the job runs
    report = compaction.run()

    # Then: its forward pass packed the imported hours with the rest, once, and cleared their markers
    assert (report.failed_sites, report.hours_recompacted) == ([], 0)
    finished_ms = block_store.hour_of(SEED_NOW * 1000 - compaction.GRACE_MS)
    assert report.events_packed == sum(event.timestamp_ms < finished_ms for event in events) + 8
    assert block_store.recompact_hours(site_id) == {}
    assert len([event for event in planner_events(site_id) if event.page == "/imported"]) == 8


def test_the_job_leaves_the_marker_of_an_import_still_writing(site: Any, clock: FrozenClock) -> None:
    # Given: a compacted site, and an import that marked an hour and has written half of its events
    site_id, _, _, settings = site
    compaction.run()
    hour_ms = (SEED_NOW - 2 * 86_400) // HOUR * HOUR * 1000
    late = [RawEvent(site_id, hour_ms + n * 60_000, "pageview", f"late-{n:011d}", "/late") for n in range(4)]
    marks = compaction.mark_hours(site_id, late)
    store_single_items(late[:2], settings.raw_retention_days)

    # When: the job runs meanwhile, then the import writes the rest, notes it, and packs its hours
    during = compaction.run()
    marked_during = block_store.recompact_hours(site_id)
    store_single_items(late[2:], settings.raw_retention_days)
    compaction.marks_written(site_id, marks)
    site_record = accounts.get_site(site_id)
    assert site_record is not None
    compaction.recompact_marked(site_record)

    # Then: the job left the pending marker (packing the half would have cleared it), and the
    # import's own packing holds all four events
    assert (during.failed_sites, during.hours_recompacted) == ([], 0)
    assert list(marked_during) == [hour_ms]
    assert not marked_during[hour_ms].written
    assert block_store.recompact_hours(site_id) == {}
    assert len([event for event in planner_events(site_id) if event.page == "/late"]) == 4


def planner_events(site_id: str) -> list[RawEvent]:
    """Every raw event the planner reads (blocks and single items) over the last 8 days."""
    now_ms = SEED_NOW * 1000
    return [
        event
        for _, blocks in planner.raw_chunks(site_id, now_ms - 9 * 86_400_000, now_ms + 1)
        for block in blocks
        for event in block.events(site_id)
    ]


def test_expired_blocks_and_events_are_not_read(site: Any, clock: FrozenClock) -> None:
    # Given: a compacted site
    site_id, _, events, settings = site
    compaction.run()
    assert len(planner_events(site_id)) == len(events)

    # When: time passes until the first events expire (moto never deletes TTL'd items)
    oldest = min(event.timestamp_ms for event in events)
    clock.current = oldest / 1000 + settings.raw_retention_days * 86_400 + HOUR / 2

    # Then: reads skip exactly the events whose own TTL has passed, inside blocks too
    now = clock.current
    alive = [event for event in events if event.timestamp_ms // 1000 + settings.raw_retention_days * 86_400 > now]
    read = [
        event
        for _, blocks in planner.raw_chunks(site_id, oldest, int(now * 1000))
        for block in blocks
        for event in block.events(site_id)
    ]
    assert 0 < len(read) == len(alive) < len(events)


def test_one_failing_site_does_not_stop_the_others(
    clock: FrozenClock, aizen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: two sites with events, the first of which fails to compact
    aizen_env()
    first = make_owner(site_id="site_a", domain="a.example", user_id="user_a", site_created_at=CREATED).site
    second = make_owner(site_id="site_b", domain="b.example", user_id="user_b", site_created_at=CREATED).site
    for site in (first, second):
        store_single_items(
            [RawEvent(site.id, SEED_NOW * 1000 - 5 * HOUR * 1000, "pageview", "00000000000000aa", "/")], 90
        )
    pack = compaction._pack

    def failing(site_id: str, *args: Any) -> int:
        if site_id == first.id:
            raise RuntimeError("boom")
        return pack(site_id, *args)

    monkeypatch.setattr(compaction, "_pack", failing)

    # When
    report = compaction.run()

    # Then: the second site is compacted, the first is reported and keeps its single items
    assert report.failed_sites == [first.id]
    assert block_store.compacted_until(second.id) > 0
    assert block_store.compacted_until(first.id) <= block_store.hour_of(SEED_NOW * 1000 - 5 * HOUR * 1000)


def _with_custom_events_and_engagement(events: list[RawEvent], seed: int) -> list[RawEvent]:
    """The traffic plus, after its pageviews, custom events (some non-interactive, some with
    props) and engagement reports, some of them alone in a session of their own."""
    rng = random.Random(seed)  # noqa: S311 - test traffic
    added: list[RawEvent] = []
    for event in events:
        if event.kind != "pageview":
            continue
        roll = rng.random()
        if roll < 0.3:
            added.append(
                replace(
                    event,
                    timestamp_ms=event.timestamp_ms + 20_000,
                    kind="engagement",
                    engaged_ms=rng.randrange(1, 90_000),
                    scroll_depth=rng.randrange(101),
                )
            )
        elif roll < 0.45:
            added.append(
                replace(
                    event,
                    timestamp_ms=event.timestamp_ms + 5_000,
                    kind="custom",
                    name="Signup",
                    props=rng.choice([None, '{"plan":"pro"}']),
                    interactive=rng.random() < 0.6,
                )
            )
        elif roll < 0.5:  # a report long after the visit: a session of its own, which is no visit
            added.append(
                replace(
                    event,
                    timestamp_ms=event.timestamp_ms + 2 * 3_600_000,
                    kind="engagement",
                    engaged_ms=1_000,
                    scroll_depth=10,
                )
            )
        if roll > 0.9:
            added.append(replace(event, props='{"author":"ann"}'))
    now_ms = SEED_NOW * 1000
    return events + [event for event in added if event.timestamp_ms <= now_ms]


def test_a_mixed_hour_of_every_kind_compacts_and_counts_like_its_single_items(
    clock: FrozenClock, aizen_env: Any
) -> None:
    # Given: pageviews, outbound clicks, custom events and engagement reports stored as single items
    settings: Settings = aizen_env(IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000")
    owner = make_owner(site_created_at=CREATED)
    site_id = owner.site.id
    _, token = make_key(site_id)
    traffic = ref.random_traffic(zlib.crc32(b"mixed"), site_id, SEED_NOW * 1000, visitors=40, days=8)
    events = _with_custom_events_and_engagement(traffic, 7)
    assert {event.kind for event in events} == {"pageview", "outbound_click", "custom", "engagement"}
    store_single_items(events, settings.raw_retention_days)
    before = _answers(token)
    assert [answer["metrics"] for answer in before[:3]] == _expected(events, SEED_NOW * 1000)
    # the engine's pageviews and bounces are not those of the same traffic without the new kinds
    week = ref.expected_range("7d", TZ, SEED_NOW * 1000, None, None)
    assert before[0]["metrics"] != _seed_metrics(ref.aggregate(traffic, TZ, {}, week))

    # When
    compaction.run()

    # Then: blocks give back every event with its name, props and figures, and the same answers
    assert sorted(planner_events(site_id), key=repr) == sorted(events, key=repr)
    assert _answers(token) == before
