"""History older than the raw window goes straight into rollups (DESIGN.md §6, import).

Such days have no raw events to recompute from, so an import adds its events'
rollup to what the day already holds (the import's visitors are new
(visitor id, day) pairs). Recent days are stored raw and marked for re-rollup.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from aizen import clock
from aizen.events import RawEvent
from aizen.models import Site
from aizen.periods import local_date, zone
from aizen.query.params import ROLLUP_PROPERTIES
from aizen.rollup.compute import DayRollup, merged, rollup_of_events
from aizen.store import rollups


@dataclass(frozen=True)
class HistoryReport:
    days: int
    events: int
    items_written: int


def stored_day(site: Site, day: date) -> DayRollup | None:
    """A day's rollup as stored, or None if the day has none."""
    key = day.isoformat()
    days = rollups.rolled_up_days(site.id, key, key)
    record = days.get(key)
    if record is None:
        return None
    totals = {name: value for name, value in record.items() if name not in ("gen", "parts")}
    tables = {
        prop: [row for _, part in rollups.day_tables(site.id, prop, key, key, days) for row in part]
        for prop in ROLLUP_PROPERTIES
    }
    return DayRollup(day=day, totals=totals, tables=tables, events=0)


def add_history(site: Site, events: Iterable[RawEvent]) -> HistoryReport:
    """Merge events into the rollups of their local days."""
    tz = zone(site.timezone)
    by_day: defaultdict[date, list[RawEvent]] = defaultdict(list)
    for event in events:
        by_day[local_date(event.timestamp_ms, tz)].append(event)
    generation = f"{int(clock.now() * 1000):x}"
    written = 0
    for day in sorted(by_day):
        addition = rollup_of_events(site, day, by_day[day])
        existing = stored_day(site, day)
        combined = addition if existing is None else merged(existing, addition)
        tables = {prop: rows for prop, rows in combined.tables.items() if rows}
        written += rollups.put_day(site.id, day.isoformat(), generation, combined.totals, tables)
    return HistoryReport(days=len(by_day), events=sum(map(len, by_day.values())), items_written=written)


def mark_changed_days(site: Site, events: Iterable[RawEvent]) -> list[str]:
    """Mark the local days of freshly imported raw events for re-rollup."""
    tz = zone(site.timezone)
    days = sorted({local_date(event.timestamp_ms, tz).isoformat() for event in events})
    rollups.mark_dirty(site.id, days)
    return days
