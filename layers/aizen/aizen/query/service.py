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
from aizen.goals import Goal
from aizen.models import Site
from aizen.patterns import has_wildcard
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
from aizen.query.conversions import (
    EventTest,
    Fanout,
    GoalExclusion,
    GoalFilter,
    GoalMatcher,
    GoalTable,
    PageEngagement,
    PropsTable,
    conversion_rate,
    converting_test,
    goals_selected,
)
from aizen.query.engine import Accumulator, Buckets, RollupAccumulator, Totals, ValueTable, views_per_visit
from aizen.settings import get_settings
from aizen.store import goals as goal_store
from aizen.vocabulary import (
    GOAL_PROPERTY,
    GOAL_RATE_METRIC,
    GOAL_ROLLUP_PROPERTIES,
    PAGE_ENGAGEMENT_METRICS,
    PROPS_PREFIX,
    ROLLUP_PROPERTIES,
    Filters,
    is_props_property,
)

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


def _merged(missing: dict[str, list[str]], earlier: dict[str, list[str]]) -> dict[str, list[str]]:
    """What is unavailable in the period and in its comparison, together."""
    return {what: sorted({*missing.get(what, ()), *earlier.get(what, ())}) for what in {*missing, *earlier}}


class _GoalScope(NamedTuple):
    """What a question's goal filters select (docs/stats.md, Goals and custom properties in filters)."""

    goals: list[Goal]  # the site's goals, when a goal filter or the goal breakdown reads them
    goal: Goal | None = None  # the `goal` filter's (also `event:goal==<name>` alone)
    converting: EventTest | None = None  # the `event:goal==…` conditions: events that convert one of theirs
    excluded: tuple[Goal, ...] | None = None  # the `event:goal!=…` conditions' goals: sessions converting one drop


def _listed(goals: list[Goal]) -> str:
    return "; the site's goals: " + ", ".join(goal.name for goal in goals) if goals else "; the site has no goals"


def _goal_scope(site: Site, filters: Filters, *, read_goals: bool = False) -> _GoalScope:
    """The site's goals (read when needed) and what the goal filters select; a goal named
    without wildcards that the site does not have is 400, listing the site's goals."""
    conditions = [condition for condition in filters.conditions if condition.property == "goal"]
    if filters.goal is None and not conditions and not read_goals:
        return _GoalScope([])
    goals = goal_store.list_goals(site.id)
    names = {goal.name for goal in goals}
    goal = None
    if filters.goal is not None:
        goal = next((goal for goal in goals if goal.name == filters.goal), None)
        if goal is None:
            raise InvalidRequest(f"goal: unknown goal {filters.goal!r}{_listed(goals)}")
    for condition in conditions:
        for name in condition.patterns:
            if not has_wildcard(name) and name not in names:
                raise InvalidRequest(f"filters: unknown goal {name!r} in event:goal{_listed(goals)}")
    selections = [goals_selected(condition, goals) for condition in conditions if not condition.negated]
    negated = [condition for condition in conditions if condition.negated]
    return _GoalScope(
        goals,
        goal,
        converting_test(selections, goals) if selections else None,
        tuple(goal for condition in negated for goal in goals_selected(condition, goals)) if negated else None,
    )


def _goal_filtered[Counted: Accumulator](
    scope: _GoalScope, converted: Counted, base: Accumulator | None
) -> Counted | GoalFilter:
    """`converted` behind the goal filters that keep conversions (`base`: the visitors without them)."""
    if scope.goal is None and scope.converting is None:
        return converted
    return GoalFilter(scope.goal, converted, base, scope.converting)


def _goal_excluded(scope: _GoalScope, accumulator: RollupAccumulator) -> RollupAccumulator:
    """`accumulator` behind the `event:goal!=…` conditions, which drop sessions before anything counts them."""
    return accumulator if scope.excluded is None else GoalExclusion(scope.excluded, accumulator)


# What a goal's daily rollup answers under a `goal` filter (no other filter): converters, conversions
# (a page goal's are pageviews) and the rate over the day's visitors.
_GOAL_ROLLUP_METRICS = frozenset(("visitors", "pageviews", "events", GOAL_RATE_METRIC))


def _goal_rollups(filters: Filters, metrics: tuple[str, ...]) -> bool:
    """A goal filter, alone, asking only what the goal's rollups hold."""
    return (
        filters.goal is not None and not filters._replace(goal=None).active and _GOAL_ROLLUP_METRICS.issuperset(metrics)
    )


class _Rollups(NamedTuple):
    """The rolled-up days a question may use, and what they lack before the raw window."""

    known: dict[str, dict[str, Any]] | None
    missing: dict[str, list[str]]


def _usable_rollups(
    site: Site,
    period: Period,
    now_seconds: float,
    known: dict[str, dict[str, Any]] | None,
    goals: list[Goal],
    events: bool,
) -> _Rollups:
    if not goals and not events:
        return _Rollups(known, {})
    return _Rollups(*planner.usable_rollups(site, period, now_seconds, known, goals, events))


def _meta(site: Site, from_rollups: bool, missing: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """`unavailable` (only when something is): a goal defined after days were rolled up, or the
    events of days rolled up before events were counted, on days whose raw events are gone."""
    meta: dict[str, Any] = {"timezone": site.timezone, "from_rollups": from_rollups}
    if missing:
        meta["unavailable"] = [
            {
                "what": what,
                "from": days[0],
                "to": days[-1],
                "days": len(days),
                "reason": f"{what}: these days were rolled up before it was counted, and their raw events have"
                " expired; they count nothing for it",
            }
            for what, days in sorted(missing.items())
        ]
    return meta


def aggregate(site: Site, params: AggregateParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period, known_rollups = _range(site, params, now_seconds)
    comparison = _comparison(site, params, period, now_seconds)
    filters = params.filters
    metrics = params.metric_names
    goal_rollups = _goal_rollups(filters, metrics)
    if filters.active and not goal_rollups:
        _require_raw_windows((period, comparison), params, now_seconds, "Filtered queries")
    goals = _goal_scope(site, filters)
    counted, from_rollups, missing = _aggregate(site, period, params, goals, goal_rollups, now_seconds, known_rollups)
    body: dict[str, Any] = {"period": period.as_json(), "metrics": counted}
    if comparison is not None:
        earlier, earlier_from_rollups, earlier_missing = _aggregate(
            site, comparison, params, goals, goal_rollups, now_seconds, None
        )
        from_rollups |= earlier_from_rollups
        missing = _merged(missing, earlier_missing)
        body["comparison"] = {
            "period": _dates(comparison),
            "metrics": earlier,
            "change": _changes(metrics, counted, earlier),
        }
    body["meta"] = _meta(site, from_rollups, missing)
    return body


def _aggregate(
    site: Site,
    period: Period,
    params: AggregateParams,
    goals: _GoalScope,
    goal_rollups: bool,
    now_seconds: float,
    known_rollups: dict[str, dict[str, Any]] | None,
) -> tuple[dict[str, Any], bool, dict[str, list[str]]]:
    """The metrics over one period, whether a rollup was used, and what its rollups lack."""
    metrics = params.metric_names
    goal = goals.goal
    rolled = _usable_rollups(site, period, now_seconds, known_rollups, [goal] if goal else [], "events" in metrics)
    totals, base = Totals(), Totals()
    accumulator = _goal_excluded(goals, _goal_filtered(goals, totals, base))
    from_rollups = planner.count(
        site, period, params.filters, accumulator, now_seconds, known_rollups=rolled.known, goal_rollups=goal_rollups
    )
    counted = {
        metric: conversion_rate(totals.visitors, base.visitors) if metric == GOAL_RATE_METRIC else totals.metric(metric)
        for metric in metrics
    }
    return counted, from_rollups, rolled.missing


def timeseries(site: Site, params: TimeseriesParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period, known_rollups = _range(site, params, now_seconds)
    comparison = _comparison(site, params, period, now_seconds)
    interval = params.interval or default_interval(period)
    filters = params.filters
    if interval == "hour":
        _require_raw_windows((period, comparison), params, now_seconds, "Hourly timeseries")
    metrics = params.metric_names
    goal_rollups = _goal_rollups(filters, metrics)
    if filters.active and not goal_rollups:
        _require_raw_windows((period, comparison), params, now_seconds, "Filtered queries")
    goals = _goal_scope(site, filters)
    results, from_rollups, missing = _series(
        site, period, interval, params, goals, goal_rollups, now_seconds, known_rollups
    )
    body: dict[str, Any] = {"period": period.as_json(), "interval": interval, "results": results}
    if comparison is not None:
        earlier, earlier_from_rollups, earlier_missing = _series(
            site, comparison, interval, params, goals, goal_rollups, now_seconds, None
        )
        from_rollups |= earlier_from_rollups
        missing = _merged(missing, earlier_missing)
        body["comparison"] = {"period": _dates(comparison), "results": earlier}
    body["meta"] = _meta(site, from_rollups, missing)
    return body


def _series(
    site: Site,
    period: Period,
    interval: str,
    params: TimeseriesParams,
    goals: _GoalScope,
    goal_rollups: bool,
    now_seconds: float,
    known_rollups: dict[str, dict[str, Any]] | None,
) -> tuple[list[dict[str, Any]], bool, dict[str, list[str]]]:
    """One point per bucket of the period, whether a rollup was used, and what its rollups lack."""
    filters = params.filters
    metrics = params.metric_names
    rolled = _Rollups(known_rollups, {})
    goal = goals.goal
    if interval != "hour":
        rolled = _usable_rollups(site, period, now_seconds, known_rollups, [goal] if goal else [], "events" in metrics)
    starts = bucket_starts(period, interval)
    day_buckets: list[int] | None = None
    if interval != "hour":
        counted = day_starts_ms(period.first_day, period.last_day, zone(period.timezone))[:-1]
        day_buckets = [bisect_right(starts, start) - 1 for start in counted]
    buckets, base = Buckets(starts, day_buckets), Buckets(starts, day_buckets)
    accumulator = _goal_excluded(goals, _goal_filtered(goals, buckets, base))
    from_rollups = planner.count(
        site,
        period,
        filters,
        accumulator,
        now_seconds,
        rollups_allowed=interval != "hour",
        known_rollups=rolled.known,
        goal_rollups=goal_rollups,
    )
    series: dict[str, list[int] | list[float]] = {
        "visitors": buckets.visitors,
        "pageviews": buckets.pageviews,
        "visits": buckets.visits,
        "views_per_visit": [views_per_visit(*pair) for pair in zip(buckets.pageviews, buckets.visits, strict=True)],
        "events": buckets.events,
    }
    if GOAL_RATE_METRIC in metrics:
        series[GOAL_RATE_METRIC] = [
            conversion_rate(converters, visitors)
            for converters, visitors in zip(buckets.visitors, base.visitors, strict=True)
        ]
    results = [
        {"date": format_instant(start), **{metric: series[metric][index] for metric in params.metric_names}}
        for index, start in enumerate(starts)
    ]
    return results, from_rollups, rolled.missing


def breakdown(site: Site, params: BreakdownParams) -> dict[str, Any]:
    now_seconds = clock.now()
    period, known_rollups = _range(site, params, now_seconds)
    comparison = _comparison(site, params, period, now_seconds)
    filters = params.filters
    prop = params.breakdown_property
    windows = (period, comparison)
    if prop in ("region", "city"):
        _require_raw_windows(windows, params, now_seconds, f"Breakdowns by {prop}")
    metrics = params.metric_names
    engagement = any(metric in PAGE_ENGAGEMENT_METRICS for metric in metrics)
    if engagement:
        _require_raw_windows(windows, params, now_seconds, "The time_on_page and scroll_depth metrics")
    if is_props_property(prop):
        _require_raw_windows(windows, params, now_seconds, f"Breakdowns by {prop}")
    # A goal filter alone, over a property the goals' rollups keep, asking what they hold.
    goal_rollups = (
        _goal_rollups(filters, metrics)
        and prop in GOAL_ROLLUP_PROPERTIES
        and {"visitors", "pageviews"}.issuperset(metrics)
    )
    if filters.active and not goal_rollups:
        _require_raw_windows(windows, params, now_seconds, "Filtered queries")
    counted, from_rollups, missing = _breakdown_count(
        site, period, params, engagement, goal_rollups, now_seconds, known_rollups
    )
    sort_metric, descending = params.sort_key
    rows = [(value, [counted.metric(metric, value) for metric in metrics]) for value in counted.values()]
    rows = [row for row in rows if any(row[1])]
    position = metrics.index(sort_metric)
    rows.sort(key=lambda row: row[0])
    # stable: ties stay by value ascending; a metric without a value (null) sorts below every number
    rows.sort(key=lambda row: _sortable(row[1][position]), reverse=descending)
    first = (params.page_number - 1) * params.limit
    results: list[dict[str, Any]] = [
        {"value": value, **dict(zip(metrics, numbers, strict=True))}
        for value, numbers in rows[first : first + params.limit]
    ]
    if comparison is not None:
        earlier, earlier_from_rollups, earlier_missing = _breakdown_count(
            site, comparison, params, engagement, goal_rollups, now_seconds, None
        )
        from_rollups |= earlier_from_rollups
        missing = _merged(missing, earlier_missing)
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
    body["meta"] = _meta(site, from_rollups, missing)
    return body


def _breakdown_count(
    site: Site,
    period: Period,
    params: BreakdownParams,
    engagement: bool,
    goal_rollups: bool,
    now_seconds: float,
    known_rollups: dict[str, dict[str, Any]] | None,
) -> tuple[_BreakdownCount, bool, dict[str, list[str]]]:
    """The breakdown's values over one period, whether a rollup was used, and what its rollups lack."""
    prop, filters = params.breakdown_property, params.filters
    rollups_allowed = not engagement and (prop in ROLLUP_PROPERTIES or prop == GOAL_PROPERTY)
    counted = _BreakdownCount(site, prop, filters, params.metric_names)
    rolled = _Rollups(known_rollups, {})
    if rollups_allowed and (goal_rollups or (prop == GOAL_PROPERTY and not filters.active)):
        rolled = _usable_rollups(site, period, now_seconds, known_rollups, counted.goals, False)
    from_rollups = planner.count(
        site,
        period,
        filters,
        counted.accumulator,
        now_seconds,
        rollups_allowed=rollups_allowed,
        known_rollups=rolled.known,
        goal_rollups=goal_rollups,
    )
    return counted, from_rollups, rolled.missing


def _sortable(number: int | float | None) -> float:
    return -1.0 if number is None else float(number)


class _BreakdownCount:
    """The accumulators one breakdown needs, and its metrics per value.

    - seed properties: `ValueTable` (restricted to a goal's conversions under a goal filter);
    - `goal`: `GoalTable` over the site's goals, conversion_rate over every visitor the other
      filters match;
    - `props:<key>`: `PropsTable`, conversion_rate (goal filter) over the value's visitors
      without the goal;
    - `page` with time_on_page or scroll_depth: `PageEngagement` beside the page table.
    """

    def __init__(self, site: Site, prop: str, filters: Filters, metrics: tuple[str, ...]) -> None:
        scope = _goal_scope(site, filters, read_goals=prop == GOAL_PROPERTY)
        goals, goal = scope.goals, scope.goal
        self.goals = goals if prop == GOAL_PROPERTY else [goal] if goal is not None else []  # whose rollups it reads
        self._totals = Totals()
        self._table: ValueTable | GoalTable | PropsTable
        self._base: PropsTable | None = None
        self._engagement: PageEngagement | None = None
        if prop == GOAL_PROPERTY:
            self._table = GoalTable(GoalMatcher(goals))
        elif is_props_property(prop):
            key = prop[len(PROPS_PREFIX) :]
            self._table = PropsTable(key)
            self._base = PropsTable(key)
        else:
            self._table = ValueTable(prop)
            if any(metric in PAGE_ENGAGEMENT_METRICS for metric in metrics):
                self._engagement = PageEngagement()
        counted: Accumulator = self._table
        if self._engagement is not None:
            counted = Fanout(self._table, self._engagement)
        counted = _goal_filtered(scope, counted, self._base)
        self.accumulator: RollupAccumulator = _goal_excluded(
            scope,
            self._table
            if isinstance(self._table, ValueTable) and counted is self._table
            else Fanout(self._totals, counted),
        )

    def values(self) -> set[str]:
        return self._table.values()

    def metric(self, metric: str, value: str) -> int | float | None:
        table = self._table
        if metric == GOAL_RATE_METRIC:
            converters = table.visitors.get(value, 0)
            return conversion_rate(
                converters, self._base.visitors.get(value, 0) if self._base else self._totals.visitors
            )
        if metric == "time_on_page" and self._engagement is not None:
            return self._engagement.time_on_page(value)
        if metric == "scroll_depth" and self._engagement is not None:
            return self._engagement.scroll_depth(value)
        if isinstance(table, ValueTable):
            return table.metric(metric, value)
        counter: Any = getattr(table, metric)
        return int(counter.get(value, 0))


def realtime(site: Site, params: RealtimeParams) -> dict[str, Any]:
    """Distinct (visitor id, local date) pairs with an event in the last `minutes` minutes."""
    minutes = params.window_minutes
    return {
        "current_visitors": planner.realtime_visitors(site, minutes, int(clock.now() * 1000)),
        "window_minutes": minutes,
    }
