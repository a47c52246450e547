"""One site-local day's rollup, computed by the same counting rules as every query.

A rollup holds what an unfiltered query needs (docs/rollups.md, What a day's rollup
holds): the day's totals and a value table per breakdown property (region and city
excluded: they are raw-window only). Visitors are (visitor id, local date) pairs, so
days add up exactly.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.goals import Goal
from aizen.models import Site
from aizen.periods import day_starts_ms, zone
from aizen.query.conversions import Fanout, GoalRollup
from aizen.query.engine import CountingScope, Totals, ValueTable, count_chunks
from aizen.query.planner import raw_chunks
from aizen.store import goals as goal_store
from aizen.vocabulary import ROLLUP_PROPERTIES


@dataclass(frozen=True)
class DayRollup:
    day: date
    totals: dict[str, int]
    tables: dict[str, list[list[Any]]]  # property -> [[value, metric...], ...], metrics per ROLLUP_PROPERTIES
    events: int


def totals_record(totals: Totals) -> dict[str, int]:
    return {
        "visitors": totals.visitors,
        "pageviews": totals.pageviews,
        "sessions": totals.sessions,
        "bounces": totals.bounces,
        "duration_ms": totals.duration_ms,
        "events": totals.events,
    }


def table_rows(table: ValueTable, metrics: tuple[str, ...]) -> list[list[Any]]:
    return [[value, *(table.metric(metric, value) for metric in metrics)] for value in sorted(table.values())]


def _count_day(site: Site, day: date, chunks: Iterable[tuple[int, list[EventBlock]]], goals: list[Goal]) -> DayRollup:
    day_starts = day_starts_ms(day, day, zone(site.timezone))
    scope = CountingScope(day_starts=day_starts, start_ms=day_starts[0], end_ms=day_starts[-1])
    totals = Totals()
    tables = {prop: ValueTable(prop) for prop in ROLLUP_PROPERTIES}
    conversions = GoalRollup(goals)
    events = count_chunks(scope, chunks, Fanout(totals, *tables.values(), conversions))
    return DayRollup(
        day=day,
        totals=totals_record(totals),
        tables={prop: table_rows(table, ROLLUP_PROPERTIES[prop]) for prop, table in tables.items()}
        | conversions.tables(),
        events=events,
    )


def compute_day(site: Site, day: date) -> DayRollup:
    """The day's rollup from the raw events in the store (blocks and single items), with the
    conversions of every goal the site has now."""
    day_starts = day_starts_ms(day, day, zone(site.timezone))
    goals = goal_store.list_goals(site.id)
    return _count_day(site, day, raw_chunks(site.id, day_starts[0], day_starts[-1]), goals)


def rollup_of_events(site: Site, day: date, events: list[RawEvent]) -> DayRollup:
    """The day's rollup from events in memory (history imported past the raw window)."""
    chunks = [(day_starts_ms(day, day, zone(site.timezone))[-1], [EventBlock.of_events(events)])]
    return _count_day(site, day, chunks, goal_store.list_goals(site.id))


def merged(first: DayRollup, second: DayRollup) -> DayRollup:
    """Two rollups of one day added together (visitors of separate imports are separate pairs)."""
    totals = {name: first.totals.get(name, 0) + second.totals.get(name, 0) for name in first.totals | second.totals}
    tables: dict[str, list[list[Any]]] = {}
    for prop in first.tables.keys() | second.tables.keys():
        sums: dict[str, list[int]] = {}
        for value, *metrics in [*first.tables.get(prop, []), *second.tables.get(prop, [])]:
            current = sums.setdefault(value, [0] * len(metrics))
            for index, metric in enumerate(metrics):
                current[index] += metric
        tables[prop] = [[value, *sums[value]] for value in sorted(sums)]
    return DayRollup(day=first.day, totals=totals, tables=tables, events=first.events + second.events)
