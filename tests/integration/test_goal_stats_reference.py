"""Goals, custom properties and engagement held against tests/stats_reference.py over random traffic.

Zones with DST (both directions), a 45-minute offset and a 30-minute DST shift; every period;
aggregates and timeseries with goal and property filters, plain and filters= conditions (events,
conversion_rate), goal and property breakdowns, the page breakdown's time_on_page and scroll_depth; through the real
handlers over moto, from single items (Berlin) and packed hour blocks with the last two days'
single items (the compacted scenarios).
"""

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen.events import RawEvent
from aizen.goals import Goal
from aizen.periods import PRESETS
from aizen.store import goals as goal_store
from tests import stats_reference as ref
from tests.support import (
    SEED_NOW,
    ReferenceScenario,
    ask_stats,
    shared_site,
    store_reference_site,
)

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
]
GOALS = [
    ref.RefGoal("Signup", event="Signup"),
    ref.RefGoal("Visit /blog/**", page="/blog/**"),
    ref.RefGoal("Pricing page", page="/pricing"),
    ref.RefGoal("Outbound Link: Click", event="Outbound Link: Click"),
    ref.RefGoal("File Download", event="File Download"),
    ref.RefGoal("Visit /*", page="/*"),
    ref.RefGoal("Purchase", event="Purchase"),  # never converted: never a row
]
FILTER_SETS: list[dict[str, str]] = [
    {"goal": "Signup"},
    {"goal": "Visit /blog/**", "device": "desktop"},
    {"props:plan": "pro"},
    {"goal": "Signup", "props:plan": "(none)"},
    {"goal": "Outbound Link: Click", "referrer": "google.com"},
    {"props:author": "ann", "page": "/blog/a"},
    {"goal": "Visit /*"},
    {"goal": "Pricing page", "props:author": "(none)"},
    {"goal": "File Download", "country": "US"},
    # filters= on goals and props (docs/stats.md, Goals and custom properties in filters): several
    # values, wildcards on goal names, != (sessions without the goal), (none), escaped |, two goal
    # conditions, and combinations with the plain filters and other conditions
    {"filters": "event:goal==Signup|File Download"},
    {"filters": "event:goal!=Signup"},
    {"filters": "event:goal==Visit /**;event:goal!=Pricing page", "device": "desktop"},
    {"filters": "event:props:plan==pro|(none);event:goal==Sign*"},
    {"filters": "event:props:author!=ann|(none)"},
    {"filters": r"event:props:url==/a.pdf\|x|/*.pdf;event:page!=/blog/**"},
    {"props:plan": "pro", "filters": "event:goal!=*Link*|Visit /blog/**;visit:country!=US"},
    {"goal": "Signup", "filters": "event:props:plan!=free"},
    {"filters": "event:goal==Visit /*|Signup;event:goal==Pricing page"},
]
BREAKDOWNS: list[tuple[str, dict[str, str], str]] = [
    ("goal", {}, "visitors,events,conversion_rate"),
    ("props:plan", {"goal": "Signup"}, "visitors,events,pageviews,conversion_rate"),
    ("page", {}, "visitors,pageviews,time_on_page,scroll_depth"),
    ("goal", {"device": "desktop"}, "conversion_rate,visitors"),
    ("props:author", {}, "visitors,events,pageviews"),
    ("page", {"props:author": "ann"}, "scroll_depth,time_on_page,visitors"),
    ("goal", {"goal": "Visit /*"}, "visitors,events,conversion_rate"),
    ("props:plan", {"country": "US"}, "events,visitors"),
    ("goal", {"filters": "event:goal!=Signup|Purchase"}, "visitors,events,conversion_rate"),
    (
        "props:plan",
        {"filters": "event:goal==Sign*|File Download;event:props:plan!=free"},
        "visitors,events,conversion_rate",
    ),
    (
        "page",
        {"filters": "event:props:author==a*|(none);event:goal!=Visit /blog/**"},
        "scroll_depth,time_on_page,visitors",
    ),
    ("props:author", {"filters": r"event:props:author!=bo\|x", "country": "US"}, "events,visitors"),
]


@pytest.fixture(scope="class", params=SCENARIOS)
def scenario(request: pytest.FixtureRequest) -> Iterator[ReferenceScenario]:
    """Random traffic with custom events, props and engagement, and the site's goals, stored once
    for the tests of the class (tests.support.shared_site)."""
    timezone, now, compacted = request.param
    with shared_site(now, timezone, IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000") as shared:
        site_id = shared.owner.site.id
        for number, goal in enumerate(GOALS):
            goal_store.put_goal(
                site_id, Goal(f"g{number}", goal.name, event_name=goal.event, page_pattern=goal.page, created_at=1)
            )
        now_ms = now * 1000
        events = ref.random_goal_traffic(zlib.crc32(timezone.encode()), site_id, now_ms, visitors=20)
        stale = [RawEvent(site_id, now_ms - 100 * 86_400_000, "custom", "00000000000000aa", "/old", name="Signup")]
        retention = shared.settings.raw_retention_days
        store_reference_site(events + stale, retention, shared.clock, compacted=compacted)
        yield ReferenceScenario(ZoneInfo(timezone), now_ms, events, shared.token, retention)


@pytest.mark.shared_store
class TestGoalsPropsAndEngagementMatchTheReference:
    """Every period (a test each): aggregates, timeseries and breakdowns under two filter sets."""

    @pytest.mark.parametrize("preset", PRESETS)
    def test_period(self, scenario: ReferenceScenario, preset: str) -> None:
        tz, events, token = scenario.tz, scenario.events, scenario.token
        cases = scenario.cases()
        [case] = [case for case in cases if case.preset == preset]
        _, _, rng, base, period, outside = case
        # The filter sets rotate over the periods inside the raw window (one before it is only a
        # 422), two a period, so each set is compared with the reference in every scenario.
        first_turn = 2 * sum(not earlier.outside_window for earlier in cases[: case.number])
        checked = 0
        for variant in range(2):
            turn = first_turn + variant
            filters = FILTER_SETS[turn % len(FILTER_SETS)]
            checked += _check_aggregate(base, filters, rng, period, outside, events, tz, token)
            checked += _check_timeseries(base, filters, rng, period, outside, events, tz, token)
            prop, extra, metrics = BREAKDOWNS[turn % len(BREAKDOWNS)]
            checked += _check_breakdown(base, extra, prop, metrics, rng, period, outside, events, tz, token)
        assert checked >= 6

    def test_every_filter_set_is_counted(self, scenario: ReferenceScenario) -> None:
        """The rotation in test_period reaches every filter set inside the raw window."""
        counted_turns = 2 * sum(not case.outside_window for case in scenario.cases())
        assert counted_turns >= len(FILTER_SETS), "every filter set is counted against the reference"


def _check_aggregate(
    base: dict[str, Any],
    filters: dict[str, str],
    rng: ref.Range,
    period: dict[str, str],
    outside: bool,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    metrics = ["visitors", "pageviews", "bounce_rate", "visit_duration", "events"]
    if ref.goal_filtered(filters):
        metrics.append("conversion_rate")
    params = {**base, **filters, "metrics": ",".join(metrics)}
    response = ask_stats("StatsAggregateFunction", "/api/v1/stats/aggregate", params, token)
    if outside:
        assert response.status == 422, params
        assert response.body["error"]["code"] == "unsupported_query"
        return 1
    assert response.status == 200, (params, response.body)
    assert response.body == {
        "period": period,
        "metrics": ref.goal_aggregate(events, tz, filters, rng, GOALS),
        "meta": {"timezone": tz.key, "from_rollups": False},
    }, params
    return 1


def _check_timeseries(
    base: dict[str, Any],
    filters: dict[str, str],
    rng: ref.Range,
    period: dict[str, str],
    outside: bool,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    interval = "hour" if base["period"] in ("24h", "today", "yesterday") else "day"
    metrics = ["visitors", "pageviews", "events"] + (["conversion_rate"] if ref.goal_filtered(filters) else [])
    params = {**base, **filters, "interval": interval, "metrics": ",".join(metrics)}
    response = ask_stats("StatsTimeseriesFunction", "/api/v1/stats/timeseries", params, token)
    # A goal filter alone is answered from rollups (none were made here) before the raw window.
    if outside and (set(filters) != {"goal"} or interval == "hour"):
        assert response.status == 422, params
        return 1
    assert response.status == 200, (params, response.body)
    labels = ref.expected_bucket_labels(interval, tz, rng)
    if interval == "hour":
        instants = ref.minute_scan(rng.start_ms, rng.end_ms, tz)
    else:
        instants = [max(ref.first_instant_of(label, tz), rng.start_ms) for label in labels]
    counts = ref.goal_timeseries(events, tz, filters, rng, interval, GOALS)
    zero = {metric: 0.0 if metric == "conversion_rate" else 0 for metric in metrics}
    expected = [
        {
            "date": datetime.fromtimestamp(instant / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            **zero,
            **counts.get(label, {}),
        }
        for label, instant in zip(labels, instants, strict=True)
    ]
    assert response.body["results"] == expected, params
    assert response.body["period"] == period
    return 1


def _check_breakdown(
    base: dict[str, Any],
    filters: dict[str, str],
    prop: str,
    metrics: str,
    rng: ref.Range,
    period: dict[str, str],
    outside: bool,
    events: list[RawEvent],
    tz: ZoneInfo,
    token: str,
) -> int:
    names = metrics.split(",")
    params = {**base, **filters, "property": prop, "metrics": metrics, "limit": "4"}
    if prop == "page":
        table = ref.page_engagement(events, tz, filters, rng, GOALS)
    else:
        table = ref.goal_breakdown(events, tz, filters, rng, prop, GOALS)
    rows = [{"value": value, **{name: numbers[name] for name in names}} for value, numbers in table.items()]
    rows = [row for row in rows if any(row[name] for name in names)]
    rows.sort(key=lambda row: row["value"])
    rows.sort(key=lambda row: -1 if row[names[0]] is None else row[names[0]], reverse=True)
    checked = 0
    for page_number in (1, 2) if len(rows) > 4 else (1,):
        response = ask_stats(
            "StatsBreakdownFunction", "/api/v1/stats/breakdown", {**params, "page_number": str(page_number)}, token
        )
        if outside and (prop != "goal" or filters):  # the unfiltered goal breakdown reads rollups
            assert response.status == 422, params
            return 1
        assert response.status == 200, (params, response.body)
        assert response.body == {
            "property": prop,
            "period": period,
            "results": rows[(page_number - 1) * 4 : page_number * 4],
            "pagination": {
                "page_number": page_number,
                "limit": 4,
                "total_rows": len(rows),
                "total_pages": -(-len(rows) // 4),
            },
            "meta": {"timezone": tz.key, "from_rollups": False},
        }, params
        checked += 1
    return checked
