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
from aizen.models import Site
from aizen.periods import day_starts_ms, zone
from aizen.query.engine import Accumulator, CountingScope, Session, Totals, ValueTable, count_chunks
from aizen.query.planner import raw_chunks
from aizen.vocabulary import ROLLUP_PROPERTIES


@dataclass(frozen=True)
class DayRollup:
    day: date
    totals: dict[str, int]
    tables: dict[str, list[list[Any]]]  # property -> [[value, metric...], ...], metrics per ROLLUP_PROPERTIES
    events: int


class _Fanout:
    """Feeds every visitor to several accumulators in one pass over the events."""

    def __init__(self, totals: Totals, tables: list[ValueTable]) -> None:
        self._targets: list[Accumulator] = [totals, *tables]

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        for target in self._targets:
            target.add_visitor(day_index, sessions)


def totals_record(totals: Totals) -> dict[str, int]:
    return {
        "visitors": totals.visitors,
        "pageviews": totals.pageviews,
        "sessions": totals.sessions,
        "bounces": totals.bounces,
        "duration_ms": totals.duration_ms,
    }


def table_rows(table: ValueTable, metrics: tuple[str, ...]) -> list[list[Any]]:
    return [[value, *(table.metric(metric, value) for metric in metrics)] for value in sorted(table.values())]


def _count_day(site: Site, day: date, chunks: Iterable[tuple[int, list[EventBlock]]]) -> DayRollup:
    day_starts = day_starts_ms(day, day, zone(site.timezone))
    scope = CountingScope(day_starts=day_starts, start_ms=day_starts[0], end_ms=day_starts[-1])
    totals = Totals()
    tables = {prop: ValueTable(prop) for prop in ROLLUP_PROPERTIES}
    events = count_chunks(scope, chunks, _Fanout(totals, list(tables.values())))
    return DayRollup(
        day=day,
        totals=totals_record(totals),
        tables={prop: table_rows(table, ROLLUP_PROPERTIES[prop]) for prop, table in tables.items()},
        events=events,
    )


def compute_day(site: Site, day: date) -> DayRollup:
    """The day's rollup from the raw events in the store (blocks and single items)."""
    day_starts = day_starts_ms(day, day, zone(site.timezone))
    return _count_day(site, day, raw_chunks(site.id, day_starts[0], day_starts[-1]))


def rollup_of_events(site: Site, day: date, events: list[RawEvent]) -> DayRollup:
    """The day's rollup from events in memory (history imported past the raw window)."""
    return _count_day(site, day, [(day_starts_ms(day, day, zone(site.timezone))[-1], [EventBlock.of_events(events)])])


def merged(first: DayRollup, second: DayRollup) -> DayRollup:
    """Two rollups of one day added together (visitors of separate imports are separate pairs)."""
    totals = {name: first.totals.get(name, 0) + second.totals.get(name, 0) for name in first.totals | second.totals}
    tables: dict[str, list[list[Any]]] = {}
    for prop in first.tables.keys() | second.tables.keys():
        sums: dict[str, list[int]] = {}
        both = [*first.tables.get(prop, []), *second.tables.get(prop, [])]
        # A table rolled up before a metric's column was added has narrower rows: the sum keeps
        # only the columns both have (the day then reads as one without that metric).
        width = min((len(row) for row in both), default=0)
        for value, *metrics in (row[:width] for row in both):
            current = sums.setdefault(value, [0] * len(metrics))
            for index, metric in enumerate(metrics):
                current[index] += metric
        tables[prop] = [[value, *sums[value]] for value in sorted(sums)]
    return DayRollup(day=first.day, totals=totals, tables=tables, events=first.events + second.events)
