"""`aizen import`'s domain: all-or-nothing validation, BatchWriteItem with retries, volume."""

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aizen.importing import service as importer
from aizen.importing.lines import ImportRejected
from aizen.store import dynamo, rollups
from aizen.store import events as event_store
from aizen_local.traffic import TrafficPlan, ndjson_lines
from tests.support import FrozenClock, leave_unprocessed, make_owner, stored_event_count

NOW = datetime.fromtimestamp(1_775_159_000, UTC)


def line(**fields: Any) -> str:
    record = {
        "timestamp": "2026-04-01T12:00:00.000Z",
        "name": "pageview",
        "url": "https://example.com/",
        "visitor_id": "v1",
    }
    record.update(fields)
    return json.dumps({name: value for name, value in record.items() if value is not None})


def test_bad_lines_are_all_named_and_nothing_is_written(clock: FrozenClock) -> None:
    make_owner()
    lines = [
        line(),
        line(timestamp="yesterday"),
        line(),
        "{oops",
        line(name="outbound_click"),
        line(url="https://example.com/ok"),
    ]
    with pytest.raises(ImportRejected) as caught:
        importer.import_events("site_1", lines)
    assert [(bad.line, bad.reason.split(":")[0]) for bad in caught.value.bad_lines] == [
        (2, "timestamp"),
        (4, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (5, "link"),
    ]
    assert stored_event_count() == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"timestamp": "2026-04-03T00:00:00Z"}, "in the future"),
        ({"timestamp": "2026-04-01T12:00:00"}, "needs a time zone"),
        ({"visitor_id": None}, "visitor_id, or both ip and user_agent"),
        ({"device": "phone"}, "device: must be one of"),
        ({"country": "usa"}, "country:"),
        ({"url": "/relative"}, "url: must be an absolute"),
        ({"colour": "red"}, "unknown field(s): colour"),
        ({"name": "S" * 121}, "name: at most 120 characters"),
    ],
)
def test_line_reasons(clock: FrozenClock, fields: dict[str, Any], reason: str) -> None:
    make_owner()
    with pytest.raises(ImportRejected) as caught:
        importer.import_events("site_1", [line(**fields)])
    assert reason in caught.value.bad_lines[0].reason


def test_history_older_than_the_raw_window_goes_into_rollups(clock: FrozenClock) -> None:
    # Given: one event a year old, two from yesterday
    owner = make_owner()
    lines = [
        line(timestamp="2025-04-01T18:00:00Z", visitor_id="old"),
        line(timestamp="2026-04-01T18:00:00Z", visitor_id="new"),
        line(timestamp="2026-04-01T18:05:00Z", visitor_id="new", url="https://example.com/pricing"),
    ]

    # When
    summary = importer.import_events("site_1", lines)

    # Then: the old one is in its day's rollup, the recent ones are raw and their day is due again
    assert (summary.imported, summary.extra["stored_raw"], summary.extra["added_to_rollups"]) == (3, 2, 1)
    assert stored_event_count() == 2
    old_day = rollups.rolled_up_days(owner.site.id, "2025-04-01", "2025-04-01")["2025-04-01"]
    assert (old_day["visitors"], old_day["pageviews"]) == (1, 1)
    assert list(rollups.dirty_days(owner.site.id)) == ["2026-04-01"]


def test_overrides_ip_derivation_and_bots(clock: FrozenClock) -> None:
    make_owner()
    ua = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"
    )
    summary = importer.import_events(
        "site_1",
        [
            line(visitor_id=None, ip="198.51.100.7", user_agent=ua, country="US", region="US-CA", city="Oakland",
                 referrer="https://www.google.com/"),
            line(name="outbound_click", link="https://o.test/", device="tablet"),
            line(visitor_id=None, ip="198.51.100.7", user_agent="Mozilla/5.0 (compatible; Googlebot/2.1)"),
        ],
    )  # fmt: skip
    assert (summary.imported, summary.pageviews, summary.outbound_clicks, summary.skipped_bots) == (2, 1, 1, 1)
    by_kind = {event.kind: event for event in event_store.query_events("site_1", 1_775_000_000_000, 1_775_200_000_000)}
    view = by_kind["pageview"]
    assert (view.device, view.browser, view.os, view.city, view.region, view.channel) == (
        "mobile", "Safari", "iOS", "Oakland", "US-CA", "Organic Search",
    )  # fmt: skip
    assert by_kind["outbound_click"].device == "tablet"


def test_unprocessed_items_are_retried_until_all_are_in(clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: DynamoDB stores only 10 of each of the first six BatchWriteItem calls' items
    make_owner()
    sleeps: list[float] = []
    monkeypatch.setattr(dynamo, "_sleep", sleeps.append)
    left = leave_unprocessed(write=10, times=6)
    lines = [
        line(visitor_id=f"v{number}", timestamp=f"2026-04-01T12:{number // 60:02d}:{number % 60:02d}Z")
        for number in range(100)
    ]

    # When
    summary = importer.import_events("site_1", lines, threads=1)

    # Then: the unprocessed items were sent again, after a pause each time, until all were in
    assert summary.imported == 100
    assert len(left) == 6
    assert len(sleeps) == 6
    assert stored_event_count() == 100


def test_reimporting_the_same_file_does_not_duplicate(clock: FrozenClock) -> None:
    make_owner()
    lines = [line(visitor_id=f"v{number}") for number in range(30)]
    importer.import_events("site_1", lines)
    importer.import_events("site_1", lines)
    assert stored_event_count() == 60 // 2


def test_custom_events_props_and_engagement_import_once_however_often_imported(clock: FrozenClock) -> None:
    # Given: every kind of event, with props, and the same file imported twice
    make_owner()
    lines = [
        line(props={"author": "ann"}),
        line(name="Signup", props={"plan": "pro"}, timestamp="2026-04-01T12:00:05Z"),
        line(name="Video: Play", interactive=False, timestamp="2026-04-01T12:00:06Z"),
        line(name="engagement", engaged_ms=30_000, scroll_depth=75, timestamp="2026-04-01T12:00:30Z"),
        line(name="Outbound Link: Click", link="https://o.test/", timestamp="2026-04-01T12:00:40Z"),
    ]

    # When
    first = importer.import_events("site_1", lines)
    second = importer.import_events("site_1", lines)

    # Then: each stored once, with its name, props and figures, and counted by kind
    assert first.as_dict() | {"seconds": 0, "events_per_second": 0} == second.as_dict() | {
        "seconds": 0,
        "events_per_second": 0,
    }
    assert (first.pageviews, first.custom_events, first.engagement_events, first.outbound_clicks) == (1, 2, 1, 1)
    stored = sorted(
        event_store.query_events("site_1", 1_775_000_000_000, 1_775_200_000_000), key=lambda e: e.timestamp_ms
    )
    assert [(e.kind, e.name, e.props, e.interactive, e.engaged_ms, e.scroll_depth) for e in stored] == [
        ("pageview", None, '{"author":"ann"}', True, None, None),
        ("custom", "Signup", '{"plan":"pro"}', True, None, None),
        ("custom", "Video: Play", None, False, None, None),
        ("engagement", None, None, True, 30_000, 75),
        ("outbound_click", None, None, True, None, None),
    ]


def test_a_10k_line_generated_file_lands_every_event(clock: FrozenClock) -> None:
    """A generated file, bots included, lands whole: a week of traffic, ~400 BatchWriteItem calls over the
    writer threads. The volume figure (100k lines, events a second) is bench/bench_ingest.py's."""
    make_owner(domain="demo.example.com")
    plan = TrafficPlan("demo.example.com", "America/Los_Angeles", NOW, days=60, start_visitors=800, growth=1.5)
    lines = list(itertools.islice(ndjson_lines(plan), 10_000))
    assert len(lines) == 10_000
    bots = sum(1 for text in lines if "bot" in json.loads(text)["user_agent"].lower())
    assert bots
    summary = importer.import_events("site_1", lines)
    assert summary.imported == len(lines) - bots
    assert summary.skipped_bots == bots
    assert stored_event_count() == summary.imported
