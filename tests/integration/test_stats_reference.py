"""The four endpoints held against tests/stats_reference.py over random traffic.

Five time zones (DST in both hemispheres and directions, a 45-minute offset, a
30-minute DST shift, a -3:30 zone), every period, every interval, every breakdown
property and a rotation of filter combinations, through the real handlers over moto.
"""

import dataclasses
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen.events import RawEvent
from aizen.periods import PRESETS
from aizen.rollup import job
from aizen.vocabulary import PROPERTIES, PROPERTY_METRICS
from tests import stats_reference as ref
from tests.support import (
    SEED_NOW,
    ReferenceScenario,
    ask_stats,
    shared_site,
    store_reference_site,
)

# `compacted`: the compaction job ran two days and a bit before "now", so ranges mix packed
# hour blocks (split across local days in the :45 and :30 zones) with single items (the
# last two days, and every day in Berlin).
SCENARIOS = [
    pytest.param(("America/Los_Angeles", SEED_NOW, True), id="los-angeles-spring-forward-compacted"),
    pytest.param(
        ("Europe/Berlin", int(datetime(2025, 10, 30, 9, tzinfo=UTC).timestamp()), False), id="berlin-fall-back"
    ),
    pytest.param(("Asia/Kathmandu", SEED_NOW, True), id="kathmandu-545-compacted"),
    pytest.param(
        ("Australia/Lord_Howe", int(datetime(2026, 4, 9, 3, tzinfo=UTC).timestamp()), True),
        id="lord-howe-30min-dst-compacted",
    ),
    pytest.param(
        ("America/St_Johns", int(datetime(2025, 11, 6, 2, 30, tzinfo=UTC).timestamp()), True),
        id="st-johns-330-compacted",
    ),
]
FILTER_SETS: list[dict[str, str]] = [
    {},
    {"page": "/pricing"},
    {"referrer": "google.com"},
    {"country": "US"},
    {},
    {"device": "(none)"},
    {"browser": "Chrome", "os": "iOS"},
    {"page": "/", "country": "DE", "device": "desktop"},
    {"referrer": "(none)"},
]
TIMESERIES_INTERVALS = ("day", "week", "month", "hour", None)


@pytest.fixture(scope="class", params=SCENARIOS)
def scenario(request: pytest.FixtureRequest) -> Iterator[ReferenceScenario]:
    """Random traffic stored once for the tests of a class (tests.support.shared_site)."""
    timezone, now, compacted = request.param
    with shared_site(now, timezone, IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000") as shared:
        now_ms = now * 1000
        site_id = shared.owner.site.id
        events = ref.random_traffic(zlib.crc32(timezone.encode()), site_id, now_ms)
        # Expired events (older than retention) that TTL has not deleted yet must be ignored.
        stale = [RawEvent(site_id, now_ms - 100 * 86_400_000, "pageview", "00000000000000aa", "/old")]
        retention = shared.settings.raw_retention_days
        store_reference_site(events + stale, retention, shared.clock, compacted=compacted)
        yield ReferenceScenario(ZoneInfo(timezone), now_ms, events, shared.token, retention)


@pytest.mark.shared_store
class TestEveryEndpointMatchesTheReference:
    """Every period under two filter sets (a test each): an aggregate, a timeseries and a breakdown,
    and under the first a comparison."""

    @pytest.mark.parametrize("variant", range(2))
    @pytest.mark.parametrize("preset", PRESETS)
    def test_period(self, scenario: ReferenceScenario, preset: str, variant: int) -> None:
        tz, now_ms, events, token = scenario.tz, scenario.now_ms, scenario.events, scenario.token
        case = scenario.case(preset)
        number, _, rng, base, expected_period, outside_window = case
        filters = FILTER_SETS[(number * 2 + variant) % len(FILTER_SETS)]
        checked = _check_aggregate(base, filters, rng, expected_period, outside_window, events, tz, token)
        interval = TIMESERIES_INTERVALS[(number + variant) % len(TIMESERIES_INTERVALS)]
        if preset == "24h":
            interval = "hour" if variant else None
        checked += _check_timeseries(base, filters, interval, rng, expected_period, outside_window, events, tz, token)
        prop = PROPERTIES[(number * 2 + variant) % len(PROPERTIES)]
        checked += _check_breakdown(base, filters, prop, rng, expected_period, outside_window, events, tz, token)
        if variant == 0:
            mode, match = COMPARISONS[number % len(COMPARISONS)]
            checked += _check_comparison(base, mode, match, rng, now_ms, events, tz, token)
        assert checked >= 3

    def test_realtime(self, scenario: ReferenceScenario) -> None:
        for minutes in (None, "1", "30", "600", "-30896999713", "9223372036854775807"):  # any 64-bit integer, clamped
            response = ask_stats(
                "StatsRealtimeFunction", "/api/v1/stats/realtime", {"minutes": minutes}, scenario.token
            )
            window = min(60, max(1, int(minutes or 10)))
            expected = ref.realtime(scenario.events, scenario.tz, scenario.now_ms, window)
            assert response.body == {"current_visitors": expected, "window_minutes": window}


COMPARISONS = [
    ("previous_period", False),
    ("year_over_year", True),
    ("previous_period", True),
    ("custom", False),
    ("year_over_year", False),
]


def _check_comparison(
    base: dict[str, Any],
    mode: str,
    match: bool,
    rng: ref.Range,
    now_ms: int,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    """An unfiltered aggregate compared with an earlier period (docs/stats.md, Comparisons)."""
    today = ref.local(now_ms, tz).date()
    custom = (today - timedelta(days=30), today - timedelta(days=24))
    metrics = ("visitors", "pageviews", "bounce_rate", "visit_duration", "visits", "views_per_visit")
    params = {**base, "compare": mode, "metrics": ",".join(metrics)}
    if mode == "custom":
        params.update({"compare_from": custom[0].isoformat(), "compare_to": custom[1].isoformat()})
    if match:
        params["match_day_of_week"] = "true"
    response = ask_stats("StatsAggregateFunction", "/api/v1/stats/aggregate", params, token)
    if base["period"] in ("24h", "all"):
        assert response.status == 400, params
        return 1
    assert response.status == 200, (params, response.body)
    first, last = ref.expected_comparison_days(mode, rng.first, rng.last, match, custom)
    earlier = ref.expected_range("custom", tz, now_ms, (first, last), None)
    now, before = ref.aggregate(events, tz, {}, rng), ref.aggregate(events, tz, {}, earlier)
    assert response.body["comparison"] == {
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "metrics": before,
        "change": ref.expected_changes(now, before, metrics),
    }, params
    return 1


def _as_filters(filters: dict[str, str]) -> dict[str, str | None]:
    return dict(filters)


def _check_aggregate(
    base: dict[str, Any],
    filters: dict[str, str],
    rng: ref.Range,
    expected_period: dict[str, str],
    outside: bool,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    params = {**base, **filters, "metrics": "visitors,pageviews,bounce_rate,visit_duration,visits,views_per_visit"}
    response = ask_stats("StatsAggregateFunction", "/api/v1/stats/aggregate", params, token)
    if filters and outside:
        assert response.status == 422, params
        assert response.body["error"]["code"] == "unsupported_query"
        return 1
    assert response.status == 200, (params, response.body)
    assert response.body == {
        "period": expected_period,
        "metrics": ref.aggregate(events, tz, filters, rng),
        "meta": {"timezone": tz.key, "from_rollups": False},
    }, params
    return 1


def _check_timeseries(
    base: dict[str, Any],
    filters: dict[str, str],
    interval: str | None,
    rng: ref.Range,
    expected_period: dict[str, str],
    outside: bool,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    params = {**base, **filters, "interval": interval, "metrics": "visitors,pageviews,visits,views_per_visit"}
    response = ask_stats("StatsTimeseriesFunction", "/api/v1/stats/timeseries", params, token)
    effective = interval or ("hour" if base["period"] == "24h" or rng.first == rng.last else "day")
    if outside and (filters or effective == "hour"):
        assert response.status == 422, params
        return 1
    assert response.status == 200, (params, response.body)
    body = response.body
    assert body["period"] == expected_period
    assert body["interval"] == effective
    assert body["meta"] == {"timezone": tz.key, "from_rollups": False}
    labels = ref.expected_bucket_labels(effective, tz, rng)
    if effective == "hour":
        instants = ref.minute_scan(rng.start_ms, rng.end_ms, tz)
    else:
        instants = [max(ref.first_instant_of(_label_day(label), tz), rng.start_ms) for label in labels]
    counts = ref.timeseries(events, tz, filters, rng, effective)
    expected = [
        {
            "date": datetime.fromtimestamp(instant / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            **counts.get(label, ref.EMPTY_BUCKET),
        }
        for label, instant in zip(labels, instants, strict=True)
    ]
    assert body["results"] == expected, params
    return 1


def _label_day(label: Any) -> date:
    assert isinstance(label, date)
    return label


def _check_breakdown(
    base: dict[str, Any],
    filters: dict[str, str],
    prop: str,
    rng: ref.Range,
    expected_period: dict[str, str],
    outside: bool,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    filters = dict(filters)
    if prop in ("region", "city"):
        filters.setdefault("country", "US")
        if prop == "city" and "page" not in filters:
            filters["region"] = "US-CA"
    metrics = PROPERTY_METRICS[prop]
    sort = f"{metrics[-1]}.asc" if len(metrics) > 1 else None
    params = {**base, **filters, "property": prop, "metrics": ",".join(metrics), "sort": sort, "limit": "3"}
    rows_expected = ref.breakdown(events, tz, filters, rng, prop)
    ordered = sorted(rows_expected.items(), key=lambda item: item[0])
    key = metrics[-1] if sort else metrics[0]
    ordered.sort(key=lambda item: item[1][key], reverse=sort is None)
    expected_rows = [{"value": value, **numbers} for value, numbers in ordered]
    total_pages = -(-len(expected_rows) // 3)
    checked = 0
    for page_number in (1, 2) if len(expected_rows) > 3 else (1,):
        response = ask_stats(
            "StatsBreakdownFunction", "/api/v1/stats/breakdown", {**params, "page_number": str(page_number)}, token
        )
        if outside and (filters or prop in ("region", "city")):
            assert response.status == 422, params
            return 1
        assert response.status == 200, (params, response.body)
        assert response.body == {
            "property": prop,
            "period": expected_period,
            "results": expected_rows[(page_number - 1) * 3 : page_number * 3],
            "pagination": {
                "page_number": page_number,
                "limit": 3,
                "total_rows": len(expected_rows),
                "total_pages": total_pages,
            },
            "meta": {"timezone": tz.key, "from_rollups": False},
        }, params
        checked += 1
    return checked


# The filters= parameter -----------------------------------------------------------------------

FILTER_PAGES = ("/", "/pricing", "/blog/a", "/blog/2024/post", "/docs/api/keys", "/a|b", "/#/settings")
# Every operator, wildcard form, escaped |, != with several values, (none), the same property twice,
# and combinations with the plain filters.
CONDITION_SETS: list[dict[str, str]] = [
    {"filters": "visit:country==US|DE"},
    {"filters": "visit:browser!=Safari"},
    {"filters": "visit:browser!=Chrome|Safari|(none)"},
    {"filters": "event:page==/blog/*"},
    {"filters": "event:page==/blog/**"},
    {"filters": "event:page!=/blog/**|/"},
    {"filters": r"event:page==/a\|b|/docs/**"},
    {"filters": "event:page==**s**"},
    {"filters": "event:page==/blog/**;event:page!=/blog/*/**"},
    {"filters": "visit:referrer==(none)"},
    {"filters": "visit:source!=(none);visit:channel==*Search|Referral"},
    {"filters": "visit:entry_page==/blog/**;visit:exit_page!=/pricing"},
    {"filters": "visit:exit_page==/*"},
    {"filters": "visit:region==US-*;visit:city!=New*"},
    {"filters": "visit:device==*top|mobile;visit:os!=iOS"},
    {"country": "US", "filters": "event:page==/blog/**;visit:os!=iOS"},
    {"page": "/", "browser": "Chrome", "filters": "visit:referrer!=github.com|(none)"},
]
CONDITION_PERIODS = (("7d", "day"), ("30d", "week"), ("24h", "hour"), ("custom", "day"))
CONDITION_PROPERTIES = ("page", "entry_page", "exit_link", "channel", "referrer", "country", "device", "browser", "os")


@dataclasses.dataclass(frozen=True)
class _FilterScenario(ReferenceScenario):
    source: str
    rotation: int  # each scenario asks each set over another period and property


@pytest.fixture(
    scope="class",
    params=[
        pytest.param(("America/Los_Angeles", SEED_NOW, "raw"), id="los-angeles-spring-forward-raw"),
        pytest.param(
            ("Europe/Berlin", int(datetime(2025, 10, 30, 9, tzinfo=UTC).timestamp()), "compacted"),
            id="berlin-fall-back",
        ),
        pytest.param(("Asia/Kathmandu", SEED_NOW, "rollups"), id="kathmandu-545-compacted-and-rolled-up"),
    ],
)
def filter_scenario(request: pytest.FixtureRequest) -> Iterator[_FilterScenario]:
    """Random traffic over pages with nested paths and a literal |, stored as single items, packed
    into hour blocks (compacted), or packed and rolled up (unfiltered days then read rollups)."""
    timezone, now, source = request.param
    with shared_site(now, timezone, IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000") as shared:
        pages = random.Random(now)  # noqa: S311 - test traffic
        events = [
            dataclasses.replace(event, page=pages.choice(FILTER_PAGES))
            for event in ref.random_traffic(zlib.crc32(timezone.encode()), shared.owner.site.id, now * 1000)
        ]
        retention = shared.settings.raw_retention_days
        store_reference_site(events, retention, shared.clock, compacted=source != "raw")
        if source == "rollups":
            assert job.run().days_rolled_up > 30
        rotation = zlib.crc32(timezone.encode())
        yield _FilterScenario(ZoneInfo(timezone), now * 1000, events, shared.token, retention, source, rotation)


@pytest.mark.shared_store
class TestFiltersMatchTheReference:
    """Every set of conditions (a test each) over a period and a property of its own."""

    @pytest.mark.parametrize("number", range(len(CONDITION_SETS)))
    def test_conditions(self, filter_scenario: _FilterScenario, number: int) -> None:
        scenario, conditions = filter_scenario, CONDITION_SETS[number]
        tz, now_ms, events, token = scenario.tz, scenario.now_ms, scenario.events, scenario.token
        today = ref.local(now_ms, tz).date()
        custom = (today - timedelta(days=20), today - timedelta(days=3))
        preset, interval = CONDITION_PERIODS[(number + scenario.rotation) % len(CONDITION_PERIODS)]
        rng = ref.expected_range(preset, tz, now_ms, custom, None)
        base: dict[str, Any] = {"period": preset}
        if preset == "custom":
            base.update({"from": custom[0].isoformat(), "to": custom[1].isoformat()})
        expected_period = {"from": rng.first.isoformat(), "to": rng.last.isoformat(), "preset": preset}
        checked = _check_aggregate(base, conditions, rng, expected_period, False, events, tz, token)
        checked += _check_timeseries(base, conditions, interval, rng, expected_period, False, events, tz, token)
        prop = CONDITION_PROPERTIES[(number + scenario.rotation) % len(CONDITION_PROPERTIES)]
        checked += _check_breakdown(base, conditions, prop, rng, expected_period, False, events, tz, token)
        # Outside the raw window: 422, as for the plain filters
        checked += _check_aggregate({"period": "12m"}, conditions, rng, {}, True, events, tz, token)
        assert checked >= 4

    def test_a_region_breakdown_scoped_by_country_and_a_city_condition(self, filter_scenario: _FilterScenario) -> None:
        scenario = filter_scenario
        scoped = {"country": "US", "filters": "visit:city!=New*;event:page!=/"}
        rng = ref.expected_range("30d", scenario.tz, scenario.now_ms, None, None)
        expected_period = {"from": rng.first.isoformat(), "to": rng.last.isoformat(), "preset": "30d"}
        assert _check_breakdown(
            {"period": "30d"},
            scoped,
            "region",
            rng,
            expected_period,
            False,
            scenario.events,
            scenario.tz,
            scenario.token,
        )
        if scenario.source == "rollups":  # the same days answer an unfiltered question from their rollups
            response = ask_stats("StatsAggregateFunction", "/api/v1/stats/aggregate", {"period": "7d"}, scenario.token)
            assert response.body["meta"]["from_rollups"] is True
            rng = ref.expected_range("7d", scenario.tz, scenario.now_ms, None, None)
            assert response.body["metrics"] == {
                "visitors": ref.aggregate(scenario.events, scenario.tz, {}, rng)["visitors"]
            }
