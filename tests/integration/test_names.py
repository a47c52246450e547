"""Today's OS and browser names are what ingestion stores, and data stored under an older
name answers under today's name (normalise on read).

Raw events and rollup rows written before the names changed ("Mac OS X", "Chrome Mobile iOS")
are stored as they are; the store's readers rename them (aizen.names), so a filter by the new
name finds them and a breakdown counts them in one row with the new name's own data.
"""

import json
from datetime import date, timedelta
from typing import Any

from aizen import compaction
from aizen.events import RawEvent
from aizen.importing import service as importer
from aizen.ingest.service import IngestRequest, ingest
from aizen.periods import local_date, zone
from aizen.query import service
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.store import rollups
from aizen.store.dynamo import events_table
from aizen.store.events import to_item
from tests.support import FrozenClock, Owner

MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15"
)


def test_ingestion_stores_todays_names(owner: Owner, clock: FrozenClock) -> None:
    body = json.dumps({"n": "pageview", "u": "https://example.com/", "d": "example.com"}).encode()
    ingest(IngestRequest(body=body, client_ip="198.51.100.7", headers={"user-agent": MAC_SAFARI}))

    [item] = events_table().scan()["Items"]
    assert (item["o"], item["b"]) == ("macOS", "Safari")


def test_an_imports_names_and_name_overrides_are_stored_under_todays_names(owner: Owner, clock: FrozenClock) -> None:
    when = "2026-04-02T12:00:00Z"
    lines = [
        json.dumps({"timestamp": when, "name": "pageview", "url": "https://example.com/", "ip": "198.51.100.7",
                    "user_agent": MAC_SAFARI}),
        json.dumps({"timestamp": when, "name": "pageview", "url": "https://example.com/", "visitor_id": "v2",
                    "os": "Mac OS X", "browser": "Chrome Mobile iOS"}),
    ]  # fmt: skip

    events, _, _ = importer.validate(owner.site.id, lines)

    assert [(event.os, event.browser) for event in events] == [("macOS", "Safari"), ("macOS", "Chrome")]


def _store_as_written_before(owner: Owner, clock: FrozenClock, visitor: str, os: str, browser: str) -> None:
    """A raw item with the names exactly as given (what an earlier version of ingestion stored)."""
    event = RawEvent(owner.site.id, int(clock.now() * 1000) - 60_000, "pageview", visitor, "/", os=os, browser=browser)
    events_table().put_item(Item=to_item(event, 90))


def _breakdown(owner: Owner, query: dict[str, str]) -> list[dict[str, Any]]:
    params = BreakdownParams.from_query({"metrics": "visitors,pageviews", **query})
    results: list[dict[str, Any]] = service.breakdown(owner.site, params)["results"]
    return results


def test_a_filter_by_the_new_name_finds_raw_events_stored_under_the_old_one(owner: Owner, clock: FrozenClock) -> None:
    # Given one visitor stored under each macOS name and one on Windows
    _store_as_written_before(owner, clock, "00000000000000a1", "Mac OS X", "Safari")
    _store_as_written_before(owner, clock, "00000000000000a2", "macOS", "Safari")
    _store_as_written_before(owner, clock, "00000000000000a3", "Windows", "Chrome")

    # When the aggregate is filtered by today's name
    found = service.aggregate(owner.site, AggregateParams.from_query({"period": "today", "os": "macOS"}))

    # Then both macOS visitors count
    assert found["metrics"]["visitors"] == 2


def test_a_breakdown_merges_raw_events_stored_under_old_and_new_names(owner: Owner, clock: FrozenClock) -> None:
    _store_as_written_before(owner, clock, "00000000000000b1", "Mac OS X", "Chrome Mobile iOS")
    _store_as_written_before(owner, clock, "00000000000000b2", "macOS", "Chrome")
    _store_as_written_before(owner, clock, "00000000000000b3", "Chrome OS", "IE")

    by_os = _breakdown(owner, {"period": "today", "property": "os"})
    by_browser = _breakdown(owner, {"period": "today", "property": "browser", "browser": "Chrome"})

    assert by_os == [
        {"value": "macOS", "visitors": 2, "pageviews": 2},
        {"value": "ChromeOS", "visitors": 1, "pageviews": 1},
    ]
    assert by_browser == [{"value": "Chrome", "visitors": 2, "pageviews": 2}]


def test_old_names_packed_into_blocks_answer_under_todays_names(owner: Owner, clock: FrozenClock) -> None:
    # Given: items stored under both names, packed into an hour block by the compaction job
    _store_as_written_before(owner, clock, "00000000000000c1", "Mac OS X", "Chrome Mobile iOS")
    _store_as_written_before(owner, clock, "00000000000000c2", "macOS", "Chrome")
    clock.advance(2 * 3_600)
    assert compaction.run().events_packed == 2

    # When / Then: the filter and the breakdown read the block under today's names
    found = service.aggregate(owner.site, AggregateParams.from_query({"period": "today", "os": "macOS"}))
    assert found["metrics"]["visitors"] == 2
    assert _breakdown(owner, {"period": "today", "property": "browser"}) == [
        {"value": "Chrome", "visitors": 2, "pageviews": 2}
    ]


def _rolled_up_day(owner: Owner, clock: FrozenClock, tables: dict[str, list[list[Any]]]) -> date:
    """A day ten days ago with a stored rollup holding `tables` (as an earlier version wrote them)."""
    day = local_date(int(clock.now() * 1000), zone(owner.site.timezone)) - timedelta(days=10)
    totals = {"visitors": 9, "pageviews": 14, "sessions": 9, "bounces": 4, "duration_ms": 90_000}
    rollups.put_day(owner.site.id, day.isoformat(), "1", totals, tables, based_on=None)
    return day


def test_a_rollup_breakdown_merges_rows_stored_under_old_and_new_names(owner: Owner, clock: FrozenClock) -> None:
    # Given a rolled-up day whose os and browser tables hold both names of one system
    day = _rolled_up_day(
        owner,
        clock,
        {
            # [value, visitors, pageviews, visits]
            "os": [["Mac OS X", 3, 5, 3], ["Windows", 4, 5, 4], ["macOS", 2, 4, 2]],
            "browser": [["Mobile Safari", 1, 2, 1], ["Safari", 4, 7, 4], ["Chrome Mobile", 4, 5, 4]],
        },
    )
    period = {"period": "custom", "from": day.isoformat(), "to": day.isoformat()}

    # When the day is broken down by os and by browser (from its rollup)
    by_os = service.breakdown(
        owner.site, BreakdownParams.from_query({**period, "property": "os", "metrics": "visitors,pageviews"})
    )
    by_browser = _breakdown(owner, {**period, "property": "browser"})

    # Then the rows of one name are one row under today's name
    assert by_os["meta"]["from_rollups"] is True
    assert by_os["results"] == [
        {"value": "macOS", "visitors": 5, "pageviews": 9},
        {"value": "Windows", "visitors": 4, "pageviews": 5},
    ]
    assert by_browser == [
        {"value": "Safari", "visitors": 5, "pageviews": 9},
        {"value": "Chrome", "visitors": 4, "pageviews": 5},
    ]


def test_reading_a_rollup_merges_the_rows_of_one_name(owner: Owner, clock: FrozenClock) -> None:
    day = _rolled_up_day(owner, clock, {"os": [["Mac OS X", 3, 5], ["macOS", 2, 4]], "page": [["/", 9, 14]]})
    days = rollups.rolled_up_days(owner.site.id, day.isoformat(), day.isoformat())

    assert [rows for _, rows in rollups.day_tables(owner.site.id, "os", day.isoformat(), day.isoformat(), days)] == [
        [["macOS", 5, 9]]
    ]
    assert [rows for _, rows in rollups.day_tables(owner.site.id, "page", day.isoformat(), day.isoformat(), days)] == [
        [["/", 9, 14]]
    ]
