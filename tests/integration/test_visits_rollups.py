"""Visits from rollups: session-attribute tables carry a `visits` column (docs/rollups.md, Tables without visits).

Days rolled up before the column existed have narrower rows: inside the raw window they are
counted from raw events, before it they keep their rollup without visits.
"""

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aizen.query import service
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.rollup import job
from aizen.rollup.compute import DayRollup, merged
from aizen.store import rollups
from aizen.vocabulary import ROLLUP_PROPERTIES
from tests import stats_reference as ref
from tests.support import SEED_NOW, FrozenClock, make_owner, store_single_items

NARROWED = ("referrer", "country", "device", "browser", "os", "channel")


def _narrow_day(site_id: str, day: str) -> None:
    """Rewrite a rolled-up day as a rollup from before visits: session-attribute rows without their last column."""
    record = rollups.rolled_up_days(site_id, day, day)[day]
    tables = {
        prop: [
            row[:-1] if prop in NARROWED else row
            for _, rows in rollups.day_tables(site_id, prop, day, day, {day: record})
            for row in rows
        ]
        for prop in ROLLUP_PROPERTIES
    }
    totals = {name: value for name, value in record.items() if name not in ("gen", "parts", "imports")}
    rollups.put_day(site_id, day, "old", totals, tables)


def _referrers(site: Any, first: date, last: date) -> Any:
    query = {"period": "custom", "from": first.isoformat(), "to": last.isoformat(), "property": "referrer"}
    return service.breakdown(site, BreakdownParams.from_query({**query, "metrics": "visitors,pageviews,visits"}))


def test_a_day_rolled_up_without_visits_is_counted_from_raw_events_inside_the_window(
    clock: FrozenClock, aizen_env: Any
) -> None:
    # Given: two weeks of traffic, rolled up, then one day rewritten as a rollup without visits
    settings = aizen_env()
    clock.current = float(SEED_NOW)
    owner = make_owner(timezone="America/Los_Angeles")
    events = ref.random_traffic(11, owner.site.id, SEED_NOW * 1000, visitors=40, days=14)
    store_single_items(events, settings.raw_retention_days)
    job.run()
    tz = ZoneInfo(owner.site.timezone)
    today = ref.local(SEED_NOW * 1000, tz).date()
    first, last = today - timedelta(days=10), today - timedelta(days=1)
    before = _referrers(owner.site, first, last)
    _narrow_day(owner.site.id, (today - timedelta(days=5)).isoformat())

    # When: the same breakdown, with visits
    after = _referrers(owner.site, first, last)

    # Then: the same rows (the narrowed day read raw), still partly from rollups, and as the reference says
    assert after == before
    assert after["meta"]["from_rollups"] is True
    rng = ref.expected_range("custom", tz, SEED_NOW * 1000, (first, last), None)
    expected = ref.breakdown(events, tz, {}, rng, "referrer")
    assert {row["value"]: row["visits"] for row in after["results"]} == {
        value: numbers["visits"] for value, numbers in expected.items()
    }
    aggregate = service.aggregate(
        owner.site,
        AggregateParams.from_query(
            {"period": "custom", "from": first.isoformat(), "to": last.isoformat(), "metrics": "visits,views_per_visit"}
        ),
    )
    assert aggregate["metrics"] == {
        key: ref.aggregate(events, tz, {}, rng)[key] for key in ("visits", "views_per_visit")
    }


def test_a_day_rolled_up_without_visits_keeps_its_rollup_before_the_window(clock: FrozenClock, aizen_env: Any) -> None:
    # Given: a day rolled up, narrowed, then left behind by the raw window
    settings = aizen_env()
    clock.current = float(SEED_NOW)
    owner = make_owner(timezone="Europe/Berlin")
    events = ref.random_traffic(12, owner.site.id, SEED_NOW * 1000, visitors=20, days=3)
    store_single_items(events, settings.raw_retention_days)
    job.run()
    tz = ZoneInfo(owner.site.timezone)
    day = ref.local(SEED_NOW * 1000, tz).date() - timedelta(days=1)
    full = _referrers(owner.site, day, day)
    _narrow_day(owner.site.id, day.isoformat())
    clock.advance(200 * 86_400)

    # When / Then: visitors and pageviews come from the rollup; its visits are unknown (0)
    later = _referrers(owner.site, day, day)
    assert later["meta"]["from_rollups"] is True
    assert [(row["value"], row["visitors"], row["pageviews"]) for row in later["results"]] == [
        (row["value"], row["visitors"], row["pageviews"]) for row in full["results"]
    ]
    assert all(row["visits"] == 0 for row in later["results"])
    assert any(row["visits"] for row in full["results"])


def test_adding_to_a_day_rolled_up_without_visits_keeps_the_columns_both_have() -> None:
    old = DayRollup(date(2025, 1, 1), {"visitors": 2}, {"referrer": [["a.com", 2, 3]], "page": [["/", 2, 3]]}, 5)
    new = DayRollup(date(2025, 1, 1), {"visitors": 1}, {"referrer": [["a.com", 1, 1, 1], ["b.com", 1, 2, 1]]}, 2)
    added = merged(old, new)
    assert added.tables == {"referrer": [["a.com", 3, 4], ["b.com", 1, 2]], "page": [["/", 2, 3]]}
    assert merged(new, new).tables["referrer"] == [["a.com", 2, 2, 2], ["b.com", 2, 4, 2]]
