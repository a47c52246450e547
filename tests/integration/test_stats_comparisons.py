"""Comparisons (docs/stats.md, Comparisons) held against tests/stats_reference.py.

Every mode with and without match_day_of_week on aggregate, timeseries and breakdown, over
raw events (packed blocks in Los Angeles across its spring-forward change, single items in
Berlin across its fall-back change) and rollups (Los Angeles); an hourly comparison of a
24-hour day with the 23-hour one; the 422 that names the comparison; from_rollups set when
only the comparison used rollups.
"""

import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen import compaction
from aizen.rollup import job
from aizen.settings import Settings
from tests import stats_reference as ref
from tests.support import (
    SEED_NOW,
    FrozenClock,
    bearer,
    invoke,
    make_key,
    make_owner,
    shared_site,
    store_single_items,
)

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


def _check_period(site: _Site, preset: str) -> list[Any]:
    """Every mode on the three endpoints for one period; returns the answers' from_rollups."""
    used: list[Any] = []
    for mode_number, (mode, match) in enumerate(MODES):
        number = PERIODS.index(preset) * len(MODES) + mode_number
        filters = FILTERS[number % len(FILTERS)]
        rng, earlier = site.ranges(preset, mode, match)
        params = site.params(preset, mode, match, filters)
        outside = earlier.first < site.window_first
        used.append(_check_aggregate(site, params, filters, rng, earlier, outside))
        if number % 2 == 0:
            used.append(_check_timeseries(site, params, filters, rng, earlier, outside))
        else:
            used.append(_check_breakdown(site, params, filters, rng, earlier, outside))
    return [answer[1] for answer in used if isinstance(answer, tuple)]


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


LOS_ANGELES = ("America/Los_Angeles", SEED_NOW)
BERLIN_FALL_BACK = ("Europe/Berlin", int(datetime(2025, 10, 30, 9, tzinfo=UTC).timestamp()))


def _stored_site(timezone: str, now: int, *, compacted: bool, rolled_up: bool) -> Iterator[_Site]:
    """45 days of traffic, as single items or compacted (packed hour blocks before two days ago,
    single items after), optionally rolled up; shared by the tests of a class."""
    with shared_site(now, timezone, IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000") as shared:
        settings = shared.settings
        tz = ZoneInfo(timezone)
        seed = zlib.crc32(timezone.encode()) + 1
        events = ref.random_traffic(seed, shared.owner.site.id, now * 1000, visitors=30, days=45)
        store_single_items(events, settings.raw_retention_days)
        if compacted:
            shared.clock.current = float(now - 2 * 86_400 - 1_234)
            assert compaction.run().hours_compacted > 24
            shared.clock.current = float(now)
        if rolled_up:
            assert job.run().days_rolled_up > 40
        today = ref.local(now * 1000, tz).date()
        yield _Site(events, tz, now * 1000, shared.token, today - timedelta(days=settings.raw_retention_days - 1))


@pytest.fixture(
    scope="class",
    params=[
        pytest.param((*LOS_ANGELES, True), id="los-angeles-spring-forward-compacted"),
        pytest.param((*BERLIN_FALL_BACK, False), id="berlin-fall-back-single-items"),
    ],
)
def raw_site(request: pytest.FixtureRequest) -> Iterator[_Site]:
    timezone, now, compacted = request.param
    yield from _stored_site(timezone, now, compacted=compacted, rolled_up=False)


@pytest.fixture(scope="class")
def rolled_up_site() -> Iterator[_Site]:
    yield from _stored_site(*LOS_ANGELES, compacted=True, rolled_up=True)


@pytest.mark.shared_store
class TestComparisonsFromRawEvents:
    """Every mode on the three endpoints, a period per test, from single items across Berlin's
    fall-back and from packed blocks and the single-item tail across Los Angeles' spring-forward."""

    @pytest.mark.parametrize("preset", PERIODS)
    def test_match_the_reference(self, raw_site: _Site, preset: str) -> None:
        assert not any(_check_period(raw_site, preset))


@pytest.mark.shared_store
class TestComparisonsFromRollups:
    """The same questions once Los Angeles' finished days are rolled up: the same answers, partly
    from rollups."""

    @pytest.mark.parametrize("preset", PERIODS)
    def test_match_the_reference(self, rolled_up_site: _Site, preset: str) -> None:
        assert any(_check_period(rolled_up_site, preset))

    def test_today_compared_with_yesterday_uses_a_rollup_for_the_comparison_only(self, rolled_up_site: _Site) -> None:
        query = {"period": "today", "compare": "previous_period"}
        response = _get("StatsAggregateFunction", "/api/v1/stats/aggregate", query, rolled_up_site.token)
        assert response.body["meta"]["from_rollups"] is True
        alone = _get("StatsAggregateFunction", "/api/v1/stats/aggregate", {"period": "today"}, rolled_up_site.token)
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
