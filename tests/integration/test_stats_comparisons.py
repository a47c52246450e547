"""Comparisons (docs/stats.md, Comparisons) held against tests/stats_reference.py.

Every mode with and without match_day_of_week on aggregate, timeseries and breakdown, over
raw events (single items and packed blocks) and then rollups, in Los Angeles across its
spring-forward change (an hourly comparison of a 24-hour day with the 23-hour one) and in
Berlin across its fall-back change; the 422 that names the comparison; from_rollups set when
only the comparison used rollups.
"""

import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen import compaction
from aizen.rollup import job
from aizen.settings import Settings
from tests import stats_reference as ref
from tests.support import SEED_NOW, FrozenClock, bearer, invoke, make_key, make_owner, store_single_items

AGGREGATE_METRICS = ("visitors", "pageviews", "bounce_rate", "visit_duration", "visits", "views_per_visit")
SERIES_METRICS = ("visitors", "pageviews", "visits", "views_per_visit")
BREAKDOWN_METRICS = ("visitors", "pageviews", "visits")
# (compare, match_day_of_week)
MODES = [
    ("previous_period", False),
    ("previous_period", True),
    ("year_over_year", False),
    ("year_over_year", True),
    ("custom", False),
]
PERIODS = ("7d", "30d", "month", "today", "mtd", "custom", "yesterday", "wtd")
FILTERS: list[dict[str, str]] = [{}, {"country": "US"}, {}, {"page": "/pricing", "device": "desktop"}]


def _get(function: str, path: str, params: dict[str, str], token: str) -> Any:
    return invoke(function, path, query=params, headers=bearer(token))


class _Site:
    def __init__(self, events: list[Any], tz: ZoneInfo, now_ms: int, token: str, window_first: date) -> None:
        self.events, self.tz, self.now_ms, self.token, self.window_first = events, tz, now_ms, token, window_first
        self.today = ref.local(now_ms, tz).date()
        self.custom = (self.today - timedelta(days=12), self.today - timedelta(days=2))

    def ranges(self, preset: str, mode: str, match: bool) -> tuple[ref.Range, ref.Range]:
        rng = ref.expected_range(preset, self.tz, self.now_ms, self.custom, None)
        compare_custom = (self.today - timedelta(days=40), self.today - timedelta(days=33))
        first, last = ref.expected_comparison_days(mode, rng.first, rng.last, match, compare_custom)
        return rng, ref.expected_range("custom", self.tz, self.now_ms, (first, last), None)

    def params(self, preset: str, mode: str, match: bool, filters: dict[str, str]) -> dict[str, str]:
        params = {"period": preset, "compare": mode, **filters}
        if preset == "custom":
            params.update({"from": self.custom[0].isoformat(), "to": self.custom[1].isoformat()})
        if mode == "custom":
            params.update({"compare_from": (self.today - timedelta(days=40)).isoformat()})
            params.update({"compare_to": (self.today - timedelta(days=33)).isoformat()})
        if match:
            params["match_day_of_week"] = "true"
        return params


def _dates(rng: ref.Range) -> dict[str, str]:
    return {"from": rng.first.isoformat(), "to": rng.last.isoformat()}


def _check_all(site: _Site) -> list[Any]:
    """Every mode on the three endpoints; returns the bodies (without meta) and their from_rollups."""
    answers: list[Any] = []
    for number, (preset, (mode, match)) in enumerate((p, m) for p in PERIODS for m in MODES):
        filters = FILTERS[number % len(FILTERS)]
        rng, earlier = site.ranges(preset, mode, match)
        params = site.params(preset, mode, match, filters)
        outside = earlier.first < site.window_first
        answers.append(_check_aggregate(site, params, filters, rng, earlier, outside))
        if number % 2 == 0:
            answers.append(_check_timeseries(site, params, filters, rng, earlier, outside))
        else:
            answers.append(_check_breakdown(site, params, filters, rng, earlier, outside))
    return answers


def _body(response: Any) -> tuple[Any, bool]:
    assert response.status == 200, response.body
    body = dict(response.body)
    return body, bool(body.pop("meta")["from_rollups"])


def _check_aggregate(
    site: _Site, params: dict[str, str], filters: dict[str, str], rng: ref.Range, earlier: ref.Range, outside: bool
) -> Any:
    query = {**params, "metrics": ",".join(AGGREGATE_METRICS)}
    response = _get("StatsAggregateFunction", "/api/v1/stats/aggregate", query, site.token)
    if filters and outside:
        assert response.status == 422, query
        assert f"the comparison period (compare={params['compare']}) starts" in response.body["error"]["message"]
        return response.status
    body, used = _body(response)
    now = ref.aggregate(site.events, site.tz, filters, rng)
    before = ref.aggregate(site.events, site.tz, filters, earlier)
    assert body["metrics"] == now, query
    assert body["comparison"] == {
        "period": _dates(earlier),
        "metrics": before,
        "change": ref.expected_changes(now, before, AGGREGATE_METRICS),
    }, query
    return body, used


def _check_timeseries(
    site: _Site, params: dict[str, str], filters: dict[str, str], rng: ref.Range, earlier: ref.Range, outside: bool
) -> Any:
    query = {**params, "metrics": ",".join(SERIES_METRICS)}
    response = _get("StatsTimeseriesFunction", "/api/v1/stats/timeseries", query, site.token)
    interval = "hour" if rng.first == rng.last else "day"
    if outside and (filters or interval == "hour"):
        assert response.status == 422, query
        assert "the comparison period" in response.body["error"]["message"]
        return response.status
    body, used = _body(response)
    assert body["interval"] == interval
    assert body["results"] == ref.timeseries_points(site.events, site.tz, filters, rng, interval, SERIES_METRICS)
    assert body["comparison"] == {
        "period": _dates(earlier),
        "results": ref.timeseries_points(site.events, site.tz, filters, earlier, interval, SERIES_METRICS),
    }, query
    return body, used


def _check_breakdown(
    site: _Site, params: dict[str, str], filters: dict[str, str], rng: ref.Range, earlier: ref.Range, outside: bool
) -> Any:
    query = {**params, "property": "referrer", "metrics": ",".join(BREAKDOWN_METRICS), "limit": "3"}
    response = _get("StatsBreakdownFunction", "/api/v1/stats/breakdown", query, site.token)
    if filters and outside:
        assert response.status == 422, query
        return response.status
    body, used = _body(response)
    now = ref.breakdown(site.events, site.tz, filters, rng, "referrer")
    before = ref.breakdown(site.events, site.tz, filters, earlier, "referrer")
    ordered = sorted(now.items(), key=lambda item: (-item[1]["visitors"], item[0]))[:3]
    empty = dict.fromkeys(BREAKDOWN_METRICS, 0)
    expected = []
    for value, numbers in ordered:
        previous = before.get(value, empty)
        comparison = {"metrics": previous, "change": ref.expected_changes(numbers, previous, BREAKDOWN_METRICS)}
        expected.append({"value": value, **numbers, "comparison": comparison})
    assert body["results"] == expected, query
    assert body["comparison"] == {"period": _dates(earlier)}
    return body, used


@pytest.mark.parametrize(
    ("timezone", "now", "compacted"),
    [
        pytest.param("America/Los_Angeles", SEED_NOW, True, id="los-angeles-spring-forward-compacted"),
        pytest.param("Europe/Berlin", int(datetime(2025, 10, 30, 9, tzinfo=UTC).timestamp()), False, id="berlin"),
    ],
)
def test_comparisons_match_the_reference_from_raw_events_and_rollups(
    timezone: str, now: int, compacted: bool, clock: FrozenClock, aizen_env: Any
) -> None:
    settings: Settings = aizen_env(IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000")
    clock.current = float(now)
    tz = ZoneInfo(timezone)
    owner = make_owner(timezone=timezone)
    _, token = make_key(owner.site.id)
    events = ref.random_traffic(zlib.crc32(timezone.encode()) + 1, owner.site.id, now * 1000, visitors=30, days=45)
    store_single_items(events, settings.raw_retention_days)
    if compacted:
        clock.current = float(now - 2 * 86_400 - 1_234)
        assert compaction.run().hours_compacted > 24
        clock.current = float(now)
    today = ref.local(now * 1000, tz).date()
    site = _Site(events, tz, now * 1000, token, today - timedelta(days=settings.raw_retention_days - 1))

    from_raw = _check_all(site)
    assert not any(answer[1] for answer in from_raw if isinstance(answer, tuple))

    # When: the finished days are rolled up, the same questions answer the same, partly from rollups
    job.run()
    with_rollups = _check_all(site)
    assert [answer if isinstance(answer, int) else answer[0] for answer in with_rollups] == [
        answer if isinstance(answer, int) else answer[0] for answer in from_raw
    ]
    assert any(answer[1] for answer in with_rollups if isinstance(answer, tuple))

    # And: today compared with yesterday uses a rollup for the comparison only
    response = _get(
        "StatsAggregateFunction", "/api/v1/stats/aggregate", {"period": "today", "compare": "previous_period"}, token
    )
    assert response.body["meta"]["from_rollups"] is True
    alone = _get("StatsAggregateFunction", "/api/v1/stats/aggregate", {"period": "today"}, token)
    assert alone.body["meta"]["from_rollups"] is False


def test_an_hourly_comparison_across_spring_forward_has_its_own_23_buckets(clock: FrozenClock, aizen_env: Any) -> None:
    # Given: traffic in Los Angeles, whose 2026-03-08 has 23 hours
    settings: Settings = aizen_env()
    clock.current = float(SEED_NOW)
    tz = ZoneInfo("America/Los_Angeles")
    owner = make_owner(timezone="America/Los_Angeles")
    _, token = make_key(owner.site.id)
    events = ref.random_traffic(5, owner.site.id, SEED_NOW * 1000, visitors=40, days=30)
    store_single_items(events, settings.raw_retention_days)
    query = {
        "period": "custom",
        "from": "2026-03-09",
        "to": "2026-03-09",
        "compare": "custom",
        "compare_from": "2026-03-08",
        "compare_to": "2026-03-08",
        "metrics": ",".join(SERIES_METRICS),
    }
    # When
    body = _get("StatsTimeseriesFunction", "/api/v1/stats/timeseries", query, token).body
    # Then: 24 main buckets, 23 comparison buckets, each as the reference counts them
    main = ref.expected_range("custom", tz, SEED_NOW * 1000, (date(2026, 3, 9), date(2026, 3, 9)), None)
    earlier = ref.expected_range("custom", tz, SEED_NOW * 1000, (date(2026, 3, 8), date(2026, 3, 8)), None)
    assert (len(body["results"]), len(body["comparison"]["results"])) == (24, 23)
    assert body["results"] == ref.timeseries_points(events, tz, {}, main, "hour", SERIES_METRICS)
    assert body["comparison"]["results"] == ref.timeseries_points(events, tz, {}, earlier, "hour", SERIES_METRICS)
