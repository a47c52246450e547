"""History older than the raw window goes straight into rollups (docs/rollups.md, History imports).

Such days have no raw events to recompute from, so an import adds its events'
rollup to what the day already holds (the import's visitors are new
(visitor id, day) pairs). Recent days are stored raw and marked for re-rollup.

Each day is read, merged and written back with a condition on the version read
(`rollups.put_day(based_on=…)`), so two imports adding to one day at once never lose
either addition: the second writer reads the first one's result and adds again.

Adding is not idempotent, so each addition is marked: the day item records a digest
of the lines it added (`imports`), written in the same PutItem as the new totals. A day
whose item already holds the digest of the same lines is skipped, so an import stopped
part-way (or run twice) can be re-run without counting a day twice.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from aizen import clock
from aizen.errors import RollupDayChanged
from aizen.events import RawEvent
from aizen.models import Site
from aizen.periods import local_date, zone
from aizen.rollup.compute import DayRollup, merged, rollup_of_events
from aizen.store import rollups
from aizen.vocabulary import ROLLUP_PROPERTIES

MAX_DAY_ATTEMPTS = 5  # reads and conditional writes of one day, while other writers keep changing it


@dataclass(frozen=True)
class HistoryReport:
    days: int
    events: int
    items_written: int
    days_already_in: int = 0  # days skipped: their rollups already held these lines
    events_already_in: int = 0


@dataclass
class HistoryProgress:
    """Days `add_history` has dealt with so far, in order; read it when it raised."""

    added: list[str] = field(default_factory=list)  # committed: the day item with the addition is written
    already_in: list[str] = field(default_factory=list)  # skipped: an earlier import added the same lines


def lines_digest(line_digests: Iterable[bytes]) -> str:
    """The mark of one day's addition: a digest of its lines' digests, whatever their order."""
    return hashlib.blake2b(b"".join(sorted(line_digests)), digest_size=8).hexdigest()


@dataclass(frozen=True)
class _StoredDay:
    rollup: DayRollup | None
    marks: frozenset[str]
    generation: str | None  # the day item's version, None: no item


def _stored(site: Site, day: date) -> _StoredDay:
    key = day.isoformat()
    days = rollups.rolled_up_days(site.id, key, key)
    record = days.get(key)
    if record is None:
        return _StoredDay(None, frozenset(), None)
    totals = {name: value for name, value in record.items() if name not in ("gen", "parts", "imports")}
    tables = {
        prop: [row for _, part in rollups.day_tables(site.id, prop, key, key, days) for row in part]
        for prop in ROLLUP_PROPERTIES
    }
    rollup = DayRollup(day=day, totals=totals, tables=tables, events=0)
    return _StoredDay(rollup, frozenset(record.get("imports", ())), str(record["gen"]))


def stored_day(site: Site, day: date) -> DayRollup | None:
    """A day's rollup as stored, or None if the day has none."""
    return _stored(site, day).rollup


def add_history(
    site: Site,
    events: Iterable[RawEvent],
    *,
    line_digests: Sequence[bytes] | None = None,
    progress: HistoryProgress | None = None,
) -> HistoryReport:
    """Merge events into the rollups of their local days, one day at a time.

    `line_digests` (one per event, from its import line) mark each day's addition, and a
    day already marked with the same lines is skipped; without them every call adds.
    `progress` is kept up to date, so a caller knows which days are in if a write fails.
    """
    tz = zone(site.timezone)
    by_day: defaultdict[date, list[RawEvent]] = defaultdict(list)
    digests_by_day: defaultdict[date, list[bytes]] = defaultdict(list)
    for index, event in enumerate(events):
        day = local_date(event.timestamp_ms, tz)
        by_day[day].append(event)
        if line_digests is not None:
            digests_by_day[day].append(line_digests[index])
    progress = progress if progress is not None else HistoryProgress()
    generation = f"{int(clock.now() * 1000):x}"
    written = 0
    for day in sorted(by_day):
        mark = lines_digest(digests_by_day[day]) if line_digests is not None else None
        addition = rollup_of_events(site, day, by_day[day])
        for attempt in range(1, MAX_DAY_ATTEMPTS + 1):
            stored = _stored(site, day)
            if mark is not None and mark in stored.marks:
                progress.already_in.append(day.isoformat())
                break
            combined = addition if stored.rollup is None else merged(stored.rollup, addition)
            tables = {prop: rows for prop, rows in combined.tables.items() if rows}
            imports = stored.marks | {mark} if mark is not None else stored.marks
            try:
                written += rollups.put_day(
                    site.id,
                    day.isoformat(),
                    generation,
                    combined.totals,
                    tables,
                    imports=imports,
                    based_on=stored.generation,
                )
            except RollupDayChanged:
                if attempt == MAX_DAY_ATTEMPTS:
                    raise
                continue  # another writer got there first: add to what it wrote
            progress.added.append(day.isoformat())
            break

    def events_on(days: list[str]) -> int:
        return sum(len(by_day[date.fromisoformat(day)]) for day in days)

    return HistoryReport(
        days=len(progress.added),
        events=events_on(progress.added),
        items_written=written,
        days_already_in=len(progress.already_in),
        events_already_in=events_on(progress.already_in),
    )


def mark_changed_days(site: Site, events: Iterable[RawEvent]) -> list[str]:
    """Mark the local days of freshly imported raw events for re-rollup."""
    tz = zone(site.timezone)
    days = sorted({local_date(event.timestamp_ms, tz).isoformat() for event in events})
    rollups.mark_dirty(site.id, days)
    return days
