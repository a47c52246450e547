"""The four stats queries: resolve the period, check the raw window, count, shape the JSON.

One call per endpoint; the handlers only parse parameters and send the answer. The parameter
classes are imported for type checking only: each stats function imports its own
(`aizen.query.params`), and none builds the other endpoints' at init.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from aizen import clock
from aizen.errors import UnsupportedQuery
from aizen.models import Site
from aizen.periods import (
    EARLIEST_DATE,
    Period,
    bucket_starts,
    day_start_ms,
    day_starts_ms,
    default_interval,
    format_instant,
    local_date,
    raw_window_first_day,
    resolve_period,
    today_in,
    zone,
)
from aizen.query.engine import (
    Accumulator,
    Buckets,
    CountingScope,
    Filters,
    RollupAccumulator,
    RollupRow,
    Session,
    Totals,
    ValueTable,
)
from aizen.query.params import ROLLUP_PROPERTIES
from aizen.query.sources import RawEventSource
from aizen.settings import get_settings
from aizen.store import events as event_store
from aizen.store import rollups

if TYPE_CHECKING:
    from aizen.query.params.aggregate import AggregateParams
    from aizen.query.params.breakdown import BreakdownParams
    from aizen.query.params.ranges import RangeParams
    from aizen.query.params.realtime import RealtimeParams
    from aizen.query.params.timeseries import TimeseriesParams

_RAW = RawEventSource()


def _first_retained_day(site: Site, now_seconds: float, retention_days: int) -> date | None:
    """The site's first local day with data, in rollups or raw events (period=all); None without data."""
    tz = zone(site.timezone)
    today = today_in(tz, now_seconds)
    window_first = raw_window_first_day(tz, now_seconds, retention_days)
    first_rolled: date | None = None
    for day, record in sorted(rollups.rolled_up_days(site.id, EARLIEST_DATE.isoformat(), today.isoformat()).items()):
        if record["visitors"] or record["pageviews"] or record["sessions"]:
            first_rolled = date.fromisoformat(day)
            break
    if first_rolled is not None and first_rolled < window_first:
        return first_rolled  # no need to look for raw events
    first = event_store.earliest_event_ms(site.id, day_start_ms(window_first, tz), int(now_seconds * 1000) + 1)
    first_raw = None if first is None else local_date(first, tz)
    return min((day for day in (first_raw, first_rolled) if day is not None), default=None)


def _period(site: Site, params: RangeParams, now_seconds: float) -> Period:
    retention = get_settings().raw_retention_days
    return resolve_period(
        params.period,
        site.timezone,
        now_seconds,
        custom_from=params.date_from,
        custom_to=params.date_to,
        first_retained_day=_first_retained_day(site, now_seconds, retention) if params.period == "all" else None,
    )


def _require_raw_window(period: Period, now_seconds: float, what: str) -> None:
    retention = get_settings().raw_retention_days
    first = raw_window_first_day(zone(period.timezone), now_seconds, retention)
    if period.first_day < first:
        raise UnsupportedQuery(
            f"{what} are only supported inside the {retention}-day raw event window "
            f"(from {first.isoformat()}); this period starts {period.first_day.isoformat()}. "
            f"Use a period that starts on or after {first.isoformat()}, "
            "or drop the filters, region/city property or hourly interval to read the rollups"
        )


class _DayOffset:
    """Shifts the day indexes of one run of raw days to positions in the whole period."""

    def __init__(self, accumulator: Accumulator, offset: int) -> None:
        self._accumulator = accumulator
        self._offset = offset

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        self._accumulator.add_visitor(day_index + self._offset, sessions)


def _runs(indexes: list[int]) -> list[list[int]]:
    """Consecutive runs: [1, 2, 3, 7, 8] -> [[1, 2, 3], [7, 8]]."""
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _count(
    site: Site,
    period: Period,
    filters: Filters,
    accumulator: RollupAccumulator,
    now_seconds: float,
    *,
    rollups_allowed: bool = True,
) -> bool:
    """Count the period into the accumulator; True when a rollup was used.

    Unfiltered whole-day queries take every rolled-up day from its rollup
    (docs/rollups.md, Query planning); the other days of the raw window come from
    raw events; days before the raw window without a rollup have no data. Day indexes given to the
    accumulator are positions in `period.days`.
    """
    tz = zone(period.timezone)
    days = period.days
    rolled: dict[str, dict[str, Any]] = {}
    if rollups_allowed and period.whole_days and not filters.active:
        rolled = rollups.rolled_up_days(site.id, period.first_day.isoformat(), period.last_day.isoformat())
    window_first = raw_window_first_day(tz, now_seconds, get_settings().raw_retention_days)
    raw_indexes = [index for index, day in enumerate(days) if day >= window_first and day.isoformat() not in rolled]
    for run in _runs(raw_indexes):
        day_starts = day_starts_ms(days[run[0]], days[run[-1]], tz)
        scope = CountingScope(day_starts=day_starts, start_ms=period.start_ms, end_ms=period.end_ms, filters=filters)
        _RAW.count(site.id, scope, _DayOffset(accumulator, run[0]))
    if not rolled:
        return False
    prop = accumulator.rollup_property
    rows_by_day: defaultdict[str, list[RollupRow]] = defaultdict(list)
    if prop is not None:
        for day, rows in rollups.day_tables(
            site.id, prop, period.first_day.isoformat(), period.last_day.isoformat(), rolled
        ):
            rows_by_day[day].extend(rows)
    index_of = {day.isoformat(): index for index, day in enumerate(days)}
    metrics = ROLLUP_PROPERTIES[prop] if prop is not None else ()
    for day, record in rolled.items():
        accumulator.add_rollup_day(index_of[day], record, rows_by_day.get(day, []), metrics)
    return True


def _meta(site: Site, from_rollups: bool) -> dict[str, Any]:
    return {"timezone": site.timezone, "from_rollups": from_rollups}


def aggregate(site: Site, params: AggregateParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period = _period(site, params, now_seconds)
    filters = params.filters
    if filters.active:
        _require_raw_window(period, now_seconds, "Filtered queries")
    totals = Totals()
    from_rollups = _count(site, period, filters, totals, now_seconds)
    return {
        "period": period.as_json(),
        "metrics": {metric: totals.metric(metric) for metric in params.metric_names},
        "meta": _meta(site, from_rollups),
    }


def timeseries(site: Site, params: TimeseriesParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period = _period(site, params, now_seconds)
    interval = params.interval or default_interval(period)
    filters = params.filters
    if interval == "hour":
        _require_raw_window(period, now_seconds, "Hourly timeseries")
    if filters.active:
        _require_raw_window(period, now_seconds, "Filtered queries")
    starts = bucket_starts(period, interval)
    day_buckets: list[int] | None = None
    if interval != "hour":
        counted = day_starts_ms(period.first_day, period.last_day, zone(period.timezone))[:-1]
        day_buckets = [bisect_right(starts, start) - 1 for start in counted]
    buckets = Buckets(starts, day_buckets)
    from_rollups = _count(site, period, filters, buckets, now_seconds, rollups_allowed=interval != "hour")
    series: dict[str, list[int]] = {"visitors": buckets.visitors, "pageviews": buckets.pageviews}
    return {
        "period": period.as_json(),
        "interval": interval,
        "results": [
            {"date": format_instant(start), **{metric: series[metric][index] for metric in params.metric_names}}
            for index, start in enumerate(starts)
        ],
        "meta": _meta(site, from_rollups),
    }


def breakdown(site: Site, params: BreakdownParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period = _period(site, params, now_seconds)
    filters = params.filters
    if params.breakdown_property in ("region", "city"):
        _require_raw_window(period, now_seconds, f"Breakdowns by {params.breakdown_property}")
    if filters.active:
        _require_raw_window(period, now_seconds, "Filtered queries")
    table = ValueTable(params.breakdown_property)
    from_rollups = _count(
        site, period, filters, table, now_seconds, rollups_allowed=params.breakdown_property in ROLLUP_PROPERTIES
    )
    metrics = params.metric_names
    sort_metric, descending = params.sort_key
    rows = [(value, [table.metric(metric, value) for metric in metrics]) for value in table.values()]
    rows = [row for row in rows if any(row[1])]
    position = metrics.index(sort_metric)
    rows.sort(key=lambda row: row[0])
    rows.sort(key=lambda row: row[1][position], reverse=descending)  # stable: ties stay by value ascending
    first = (params.page_number - 1) * params.limit
    return {
        "property": params.breakdown_property,
        "period": period.as_json(),
        "results": [
            {"value": value, **dict(zip(metrics, numbers, strict=True))}
            for value, numbers in rows[first : first + params.limit]
        ],
        "pagination": {
            "page_number": params.page_number,
            "limit": params.limit,
            "total_rows": len(rows),
            "total_pages": math.ceil(len(rows) / params.limit),
        },
        "meta": _meta(site, from_rollups),
    }


def realtime(site: Site, params: RealtimeParams) -> dict[str, Any]:
    """Distinct (visitor id, local date) pairs with an event in the last `minutes` minutes."""
    minutes = params.window_minutes
    now_ms = int(clock.now() * 1000)
    tz = zone(site.timezone)
    midnight = day_start_ms(local_date(now_ms, tz), tz)
    visitors: set[tuple[str, bool]] = set()
    for event in event_store.query_events(site.id, now_ms - minutes * 60_000, now_ms + 1):
        # The window spans at most one local midnight: "before it" tells the two local dates apart.
        visitors.add((event.visitor_id, event.timestamp_ms < midnight))
    return {"current_visitors": len(visitors), "window_minutes": minutes}
