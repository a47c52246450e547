"""One site-local day's rollup, computed by the same counting rules as every query.

A rollup holds what an unfiltered query needs (docs/rollups.md, What a day's rollup
holds): the day's totals and a value table per breakdown property (region and city
excluded: they are raw-window only). Visitors are (visitor id, local date) pairs, so
days add up exactly.

A day keeps at most `rollup_values_per_day` values per property (and at most
`MAX_KEPT_BYTES` of them as stored): its top values by the property's metrics. The
others become one `OTHER_VALUE` row, counted by the same counting code over the day's
events with those values renamed, so a visitor of several folded values counts once
(docs/rollups.md, "Distinct values per day"). A goal table (`goals:<property>`) is limited
the same way, its (goal, value) keys taken from each goal in turn, and each goal's folded
values become its own `OTHER_VALUE` row.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from aizen.columns import ATTRIBUTES, EventBlock
from aizen.events import NONE_VALUE, RawEvent
from aizen.goals import Goal
from aizen.models import Site
from aizen.periods import day_starts_ms, zone
from aizen.query.conversions import Fanout, GoalRollup
from aizen.query.engine import CountingScope, Totals, ValueTable, count_chunks
from aizen.query.planner import raw_chunks
from aizen.settings import get_settings
from aizen.store import goals as goal_store
from aizen.vocabulary import GOAL_KEY_SEPARATOR, GOAL_ROLLUP_METRICS, OTHER_VALUE, ROLLUP_PROPERTIES

# The kept values' size as stored (JSON text, so a non-ASCII character counts 6 or 12 bytes),
# per property and day, at most: a day's table stays one item whatever the values' lengths
# (pages up to 512 characters, links up to 1,024), and a breakdown reads at most about this
# much per day and property.
MAX_KEPT_BYTES = 100_000
# The event column a property's values come from, where it is not the property's own name.
_COLUMN = {"entry_page": "page", "exit_link": "link"}
Chunks = list[tuple[int, list[EventBlock]]]
Order = Callable[[str], tuple[Any, ...]]


class RankedTable(Protocol):
    """A day's value table as the limit ranks it (`ValueTable`, `GoalValueTable`)."""

    def values(self) -> set[str]: ...

    def metric(self, name: str, value: str) -> int: ...


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


def by_metrics(table: RankedTable, metrics: tuple[str, ...]) -> Order:
    """A value's rank: `metrics` descending, in order, then the value ascending."""
    return lambda value: (*(-table.metric(metric, value) for metric in metrics), value)


def goals_in_turn(table: RankedTable) -> Order:
    """A goal key's rank: each goal's first value by converters and conversions, then each
    goal's second, and so on (so one goal's flood of values cannot fold another's few)."""
    rank = by_metrics(table, GOAL_ROLLUP_METRICS)
    by_goal: defaultdict[str, list[str]] = defaultdict(list)
    for key in table.values():
        by_goal[key.partition(GOAL_KEY_SEPARATOR)[0]].append(key)
    turn = {key: index for keys in by_goal.values() for index, key in enumerate(sorted(keys, key=rank))}
    return lambda key: (turn[key], *rank(key))


def kept_values(
    table: RankedTable, metrics: tuple[str, ...], limit: int, order: Order | None = None
) -> set[str] | None:
    """The values a day keeps as themselves, None when it keeps them all: its top values in
    `order` (default: by `metrics`), at most `limit` of them and at most MAX_KEPT_BYTES
    together as stored."""
    values = table.values()
    if len(values) <= limit and sum(len(json.dumps(value)) for value in values) <= MAX_KEPT_BYTES:
        return None
    ranked = sorted(values, key=order or by_metrics(table, metrics))
    kept: set[str] = set()
    size = 0
    for value in ranked:
        size += len(json.dumps(value))
        if len(kept) == limit or size > MAX_KEPT_BYTES:
            break
        kept.add(value)
    return kept


def _folding(block: EventBlock, kept: Mapping[str, set[str]]) -> EventBlock:
    """The block with every value of the given columns outside its kept set renamed OTHER_VALUE
    (a column's dictionary is rewritten, its codes stay)."""
    dictionaries = {attribute: block.dictionaries[attribute] for attribute in ATTRIBUTES}  # decoded lazily
    for column, values in kept.items():
        dictionaries[column] = [
            value if (value or NONE_VALUE) in values else OTHER_VALUE for value in block.dictionaries[column]
        ]
    return EventBlock(
        block.times,
        block.kinds,
        block.visitors,
        block.run_starts,
        dictionaries,
        block.codes,
        block.numbers,
        base_ms=block.base_ms,
    )


def _folded_tables(scope: CountingScope, chunks: Chunks, kept: Mapping[str, set[str]]) -> dict[str, ValueTable]:
    """The tables of the properties over the limit, counted again with their folded values
    renamed: one pass per property sharing a column (page and entry_page)."""
    passes: list[dict[str, str]] = []  # property -> its column, no column twice in a pass
    for prop in kept:
        column = _COLUMN.get(prop, prop)
        for columns in passes:
            if column not in columns.values():
                columns[prop] = column
                break
        else:
            passes.append({prop: column})
    tables: dict[str, ValueTable] = {}
    for columns in passes:
        folds = {column: kept[prop] for prop, column in columns.items()}
        folded = [(watermark, [_folding(block, folds) for block in blocks]) for watermark, blocks in chunks]
        recount = {prop: ValueTable(prop) for prop in columns}
        count_chunks(scope, folded, Fanout(Totals(), *recount.values()))
        tables.update(recount)
    return tables


def _count_day(site: Site, day: date, chunks: Iterable[tuple[int, list[EventBlock]]], goals: list[Goal]) -> DayRollup:
    day_starts = day_starts_ms(day, day, zone(site.timezone))
    scope = CountingScope(day_starts=day_starts, start_ms=day_starts[0], end_ms=day_starts[-1])
    day_chunks = list(chunks)  # a second pass may fold values (the engine holds the day's blocks anyway)
    totals = Totals()
    tables = {prop: ValueTable(prop) for prop in ROLLUP_PROPERTIES}
    conversions = GoalRollup(goals)
    events = count_chunks(scope, day_chunks, Fanout(totals, *tables.values(), conversions))
    limit = get_settings().rollup_values_per_day
    kept = {
        prop: values
        for prop, table in tables.items()
        if (values := kept_values(table, ROLLUP_PROPERTIES[prop], limit)) is not None
    }
    if kept:
        tables.update(_folded_tables(scope, day_chunks, kept))
    goal_kept = {
        prop: keys
        for prop, table in conversions.by_property.items()
        if (keys := kept_values(table, GOAL_ROLLUP_METRICS, limit, goals_in_turn(table))) is not None
    }
    if goal_kept:  # counted again with each goal's folded values as its OTHER_VALUE
        conversions = GoalRollup(goals, goal_kept)
        count_chunks(scope, day_chunks, conversions)
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
