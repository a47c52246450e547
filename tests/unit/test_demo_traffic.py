"""The demo traffic (`aizen traffic`, what `make dev` seeds) holds what goals, props and engagement
reports need, and every line of it is a valid import line."""

import collections
import json
from datetime import UTC, datetime
from typing import Any

from aizen.importing.lines import LineReader
from aizen.ingest.service import SiteRef
from aizen_local.traffic import TrafficPlan, generate, ndjson_lines

END = datetime(2026, 4, 2, 19, 43, 20, tzinfo=UTC)
PLAN = TrafficPlan("demo.aizen.test", "America/Los_Angeles", END, days=14, start_visitors=120)


def test_the_demo_has_signups_with_a_plan_downloads_404s_engagement_and_pageview_props() -> None:
    records = list(generate(PLAN))
    by_name: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for record in records:
        by_name[record["name"]].append(record)

    assert {record["props"]["plan"] for record in by_name["Signup"]} == {"free", "pro", "business"}
    assert all(record["url"].endswith("/signup") for record in by_name["Signup"])
    assert all(
        record["props"]["url"].startswith("https://demo.aizen.test/downloads/") for record in by_name["File Download"]
    )
    assert all(record["props"]["path"] in record["url"] for record in by_name["404"])
    assert by_name["404"]
    engagement = by_name["engagement"]
    assert len(engagement) > len(by_name["pageview"]) / 10
    assert all(record["engaged_ms"] >= 0 and 0 <= record["scroll_depth"] <= 100 for record in engagement)
    assert {record["props"]["author"] for record in by_name["pageview"] if "props" in record} == {"Ana", "Ben"}


def test_each_visits_records_are_in_time_order() -> None:
    visits: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for record in generate(PLAN):
        visits[record["ip"], record["timestamp"][:10]].append(record["timestamp"])
    assert all(times == sorted(times) for times in visits.values())


def test_every_demo_line_is_a_valid_import_line() -> None:
    reader = LineReader(SiteRef("site_demo", "demo.aizen.test", "America/Los_Angeles"), int(END.timestamp() * 1000))
    kinds: collections.Counter[str] = collections.Counter()
    for line in ndjson_lines(PLAN):
        record = json.loads(line)
        record["visitor_id"] = record.pop("ip")  # the address would need the store's salts
        event = reader.event(json.dumps(record))
        if event is not None:  # None: a bot's
            kinds[event.kind] += 1
            assert record["name"] != "engagement" or event.engaged_ms is not None
    assert set(kinds) == {"pageview", "outbound_click", "custom", "engagement"}
