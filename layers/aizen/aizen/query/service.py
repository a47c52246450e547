"""The four stats queries: resolve the period, check the raw window, count, shape the JSON.

One call per endpoint; the handlers only parse parameters and send the answer. The parameter
classes are imported for type checking only: each stats function imports its own
(`aizen.query.params`), and none builds the other endpoints' at init.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING, Any, NamedTuple

from aizen import clock
from aizen.errors import InvalidRequest, UnsupportedQuery
from aizen.models import Site
from aizen.periods import (
    EARLIEST_DATE,
    Period,
    bucket_starts,
    day_starts_ms,
    default_interval,
    format_instant,
    raw_window_first_day,
    resolve_period,
    zone,
)
from aizen.query import planner
from aizen.query.comparisons import change, comparison_days
from aizen.query.engine import Buckets, Totals, ValueTable, views_per_visit
from aizen.settings import get_settings
from aizen.vocabulary import ROLLUP_PROPERTIES

if TYPE_CHECKING:
    from aizen.query.params.aggregate import AggregateParams
    from aizen.query.params.breakdown import BreakdownParams
    from aizen.query.params.ranges import RangeParams
    from aizen.query.params.realtime import RealtimeParams
    from aizen.query.params.timeseries import TimeseriesParams


class _Range(NamedTuple):
    """A request's period, and the site's rolled-up days when resolving it read them (period=all)."""

    period: Period
    known_rollups: dict[str, dict[str, Any]] | None


def _range(site: Site, params: RangeParams, now_seconds: float) -> _Range:
    retention = get_settings().raw_retention_days
    known_rollups = planner.all_rolled_up_days(site, now_seconds) if params.period == "all" else None
    period = resolve_period(
        params.period,
        site.timezone,
        now_seconds,
        custom_from=params.date_from,
        custom_to=params.date_to,
        first_retained_day=planner.first_retained_day(site, now_seconds, retention, known_rollups)
        if known_rollups is not None
        else None,
    )
    return _Range(period, known_rollups)


def _require_raw_window(period: Period, now_seconds: float, what: str, which: str = "this period") -> None:
    retention = get_settings().raw_retention_days
    first = raw_window_first_day(zone(period.timezone), now_seconds, retention)
    if period.first_day < first:
        raise UnsupportedQuery(
            f"{what} are only supported inside the {retention}-day raw event window "
            f"(from {first.isoformat()}); {which} starts {period.first_day.isoformat()}. "
            f"Use a period that starts on or after {first.isoformat()}, "
            "or drop the filters, region/city property or hourly interval to read the rollups"
        )


def _comparison(site: Site, params: RangeParams, period: Period, now_seconds: float) -> Period | None:
    """The earlier period the request compares with (docs/stats.md, Comparisons), or None."""
    if params.compare is None:
        return None
    first, last = comparison_days(
        params.compare,
        period.first_day,
        period.last_day,
        match_day_of_week=params.match_day_of_week,
        custom_from=params.compare_from,
        custom_to=params.compare_to,
    )
    if first < EARLIEST_DATE:
        raise InvalidRequest(f"compare: the comparison period would start before {EARLIEST_DATE.isoformat()}")
    return resolve_period("custom", site.timezone, now_seconds, custom_from=first, custom_to=last)


def _require_raw_windows(
    periods: tuple[Period, Period | None], params: RangeParams, now_seconds: float, what: str
) -> None:
    """The raw-window rule for the period and, if any, the comparison period (named as such)."""
    period, comparison = periods
    _require_raw_window(period, now_seconds, what)
    if comparison is not None:
        which = f"the comparison period (compare={params.compare})"
        _require_raw_window(comparison, now_seconds, what, which)


def _dates(period: Period) -> dict[str, str]:
    return {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}


def _changes(metrics: tuple[str, ...], current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return {metric: change(metric, current[metric], previous[metric]) for metric in metrics}


def _meta(site: Site, from_rollups: bool) -> dict[str, Any]:
    return {"timezone": site.timezone, "from_rollups": from_rollups}


def aggregate(site: Site, params: AggregateParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period, known_rollups = _range(site, params, now_seconds)
    comparison = _comparison(site, params, period, now_seconds)
    filters = params.filters
    if filters.active:
        _require_raw_windows((period, comparison), params, now_seconds, "Filtered queries")
    totals = Totals()
    from_rollups = planner.count(site, period, filters, totals, now_seconds, known_rollups=known_rollups)
    metrics = {metric: totals.metric(metric) for metric in params.metric_names}
    body: dict[str, Any] = {"period": period.as_json(), "metrics": metrics}
    if comparison is not None:
        earlier = Totals()
        from_rollups |= planner.count(site, comparison, filters, earlier, now_seconds)
        earlier_metrics = {metric: earlier.metric(metric) for metric in params.metric_names}
        body["comparison"] = {
            "period": _dates(comparison),
            "metrics": earlier_metrics,
            "change": _changes(params.metric_names, metrics, earlier_metrics),
        }
    body["meta"] = _meta(site, from_rollups)
    return body


def timeseries(site: Site, params: TimeseriesParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period, known_rollups = _range(site, params, now_seconds)
    comparison = _comparison(site, params, period, now_seconds)
    interval = params.interval or default_interval(period)
    filters = params.filters
    if interval == "hour":
        _require_raw_windows((period, comparison), params, now_seconds, "Hourly timeseries")
    if filters.active:
        _require_raw_windows((period, comparison), params, now_seconds, "Filtered queries")
    results, from_rollups = _series(site, period, interval, params, now_seconds, known_rollups)
    body: dict[str, Any] = {"period": period.as_json(), "interval": interval, "results": results}
    if comparison is not None:
        earlier, earlier_from_rollups = _series(site, comparison, interval, params, now_seconds, None)
        from_rollups |= earlier_from_rollups
        body["comparison"] = {"period": _dates(comparison), "results": earlier}
    body["meta"] = _meta(site, from_rollups)
    return body


def _series(
    site: Site,
    period: Period,
    interval: str,
    params: TimeseriesParams,
    now_seconds: float,
    known_rollups: dict[str, dict[str, Any]] | None,
) -> tuple[list[dict[str, Any]], bool]:
    """One point per bucket of the period, and whether a rollup was used."""
    filters = params.filters
    starts = bucket_starts(period, interval)
    day_buckets: list[int] | None = None
    if interval != "hour":
        counted = day_starts_ms(period.first_day, period.last_day, zone(period.timezone))[:-1]
        day_buckets = [bisect_right(starts, start) - 1 for start in counted]
    buckets = Buckets(starts, day_buckets)
    from_rollups = planner.count(
        site,
        period,
        filters,
        buckets,
        now_seconds,
        rollups_allowed=interval != "hour",
        known_rollups=known_rollups,
    )
    series: dict[str, list[int] | list[float]] = {
        "visitors": buckets.visitors,
        "pageviews": buckets.pageviews,
        "visits": buckets.visits,
        "views_per_visit": [views_per_visit(*pair) for pair in zip(buckets.pageviews, buckets.visits, strict=True)],
    }
    results = [
        {"date": format_instant(start), **{metric: series[metric][index] for metric in params.metric_names}}
        for index, start in enumerate(starts)
    ]
    return results, from_rollups


def breakdown(site: Site, params: BreakdownParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period, known_rollups = _range(site, params, now_seconds)
    comparison = _comparison(site, params, period, now_seconds)
    filters = params.filters
    if params.breakdown_property in ("region", "city"):
        _require_raw_windows((period, comparison), params, now_seconds, f"Breakdowns by {params.breakdown_property}")
    if filters.active:
        _require_raw_windows((period, comparison), params, now_seconds, "Filtered queries")
    table, from_rollups = _value_table(site, period, params, now_seconds, known_rollups)
    metrics = params.metric_names
    sort_metric, descending = params.sort_key
    rows = [(value, [table.metric(metric, value) for metric in metrics]) for value in table.values()]
    rows = [row for row in rows if any(row[1])]
    position = metrics.index(sort_metric)
    rows.sort(key=lambda row: row[0])
    rows.sort(key=lambda row: row[1][position], reverse=descending)  # stable: ties stay by value ascending
    first = (params.page_number - 1) * params.limit
    results: list[dict[str, Any]] = [
        {"value": value, **dict(zip(metrics, numbers, strict=True))}
        for value, numbers in rows[first : first + params.limit]
    ]
    if comparison is not None:
        earlier, earlier_from_rollups = _value_table(site, comparison, params, now_seconds, None)
        from_rollups |= earlier_from_rollups
        for row in results:
            earlier_metrics = {metric: earlier.metric(metric, row["value"]) for metric in metrics}
            row["comparison"] = {"metrics": earlier_metrics, "change": _changes(metrics, row, earlier_metrics)}
    body: dict[str, Any] = {
        "property": params.breakdown_property,
        "period": period.as_json(),
        "results": results,
        "pagination": {
            "page_number": params.page_number,
            "limit": params.limit,
            "total_rows": len(rows),
            "total_pages": math.ceil(len(rows) / params.limit),
        },
    }
    if comparison is not None:
        body["comparison"] = {"period": _dates(comparison)}
    body["meta"] = _meta(site, from_rollups)
    return body


def _value_table(
    site: Site,
    period: Period,
    params: BreakdownParams,
    now_seconds: float,
    known_rollups: dict[str, dict[str, Any]] | None,
) -> tuple[ValueTable, bool]:
    """The breakdown's value table over the period, and whether a rollup was used."""
    table = ValueTable(params.breakdown_property)
    from_rollups = planner.count(
        site,
        period,
        params.filters,
        table,
        now_seconds,
        rollups_allowed=params.breakdown_property in ROLLUP_PROPERTIES,
        known_rollups=known_rollups,
    )
    return table, from_rollups


def realtime(site: Site, params: RealtimeParams) -> dict[str, Any]:
    """Distinct (visitor id, local date) pairs with an event in the last `minutes` minutes."""
    minutes = params.window_minutes
    return {
        "current_visitors": planner.realtime_visitors(site, minutes, int(clock.now() * 1000)),
        "window_minutes": minutes,
    }
