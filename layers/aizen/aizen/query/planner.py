"""The query planner: which source answers each part of a range, merged exactly once.

Three sources (docs/stats.md, "Where the numbers come from"):

- **rollup days** (`aizen.store.rollups`): every rolled-up day of an unfiltered whole-day
  question (and the only source before the raw window);
- **packed event blocks** (`aizen.store.blocks`): the compacted hours of the raw window,
  every hour before the site's compaction watermark;
- **single items** (`aizen.store.events`): the hours from the watermark on (the last hour
  or two, and everything of a site that was never compacted).

The watermark is read once per raw read, before the blocks and the single items, so a
compaction that runs meanwhile cannot make an hour count twice or not at all: the hours
it compacts after the read are still read from their single items, which compaction
never deletes. Raw days are counted by the engine, rolled-up days are added whole to
the same accumulator.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

from aizen import clock
from aizen.columns import EventBlock
from aizen.events import FUTURE_SKEW_MS
from aizen.goals import Goal
from aizen.models import Site
from aizen.periods import (
    EARLIEST_DATE,
    Period,
    day_start_ms,
    day_starts_ms,
    local_date,
    raw_window_first_day,
    today_in,
    zone,
)
from aizen.query.conversions import filter_event_test
from aizen.query.engine import Accumulator, CountingScope, RollupAccumulator, RollupRow, Session, count_chunks
from aizen.settings import get_settings
from aizen.store import blocks as block_store
from aizen.store import events as event_store
from aizen.store import rollups
from aizen.vocabulary import GOAL_TABLE, Filters, rollup_metrics

_DAY_MS = 86_400_000


def raw_chunks(site_id: str, start_ms: int, end_ms: int) -> Iterator[tuple[int, list[EventBlock]]]:
    """A site's raw events with start_ms <= time < end_ms (whole hours of blocks may reach
    beyond both ends), one UTC day at a time, in day order, as (watermark, blocks): the
    day's compacted hours, then the day's single items as one more block.

    No event lies more than FUTURE_SKEW_MS ahead of the clock, so the single items are read
    up to there, not to end_ms: today's later UTC day (a local day spans two) costs no
    empty partition queries."""
    if end_ms <= start_ms:
        return
    now = clock.now()
    now_seconds = int(now)
    split = min(max(block_store.compacted_until(site_id), start_ms), end_ms)
    hours = block_store.read_blocks(site_id, start_ms, split, now_seconds)
    tail_end = max(split, min(end_ms, int(now * 1000) + FUTURE_SKEW_MS + 1))
    tail = event_store.query_event_days(site_id, split, tail_end)
    pending: tuple[int, EventBlock] | None = next(hours, None)
    day_start = start_ms - start_ms % _DAY_MS
    while day_start < end_ms:
        day_end = day_start + _DAY_MS
        day_blocks: list[EventBlock] = []
        while pending is not None and pending[0] < day_end:
            day_blocks.append(pending[1])
            pending = next(hours, None)
        if split < tail_end and day_end > split and day_start < tail_end:
            _, events = next(tail)
            if events:
                day_blocks.append(EventBlock.of_events(events))
        yield min(day_end, end_ms), day_blocks
        day_start = day_end


def earliest_raw_ms(site_id: str, start_ms: int, end_ms: int) -> int | None:
    """Time of the site's first unexpired raw event in [start_ms, end_ms), or None."""
    if end_ms <= start_ms:
        return None
    split = min(max(block_store.compacted_until(site_id), start_ms), end_ms)
    for _, block in block_store.read_blocks(site_id, start_ms, split, int(clock.now())):
        found = [timestamp for timestamp in block.timestamps if start_ms <= timestamp < split]
        if found:
            return min(found)
    return event_store.earliest_event_ms(site_id, split, end_ms)


def all_rolled_up_days(site: Site, now_seconds: float) -> dict[str, dict[str, Any]]:
    """Every rolled-up day of the site up to today (period=all reads them once, for both
    its first day and its counts)."""
    today = today_in(zone(site.timezone), now_seconds)
    return rollups.rolled_up_days(site.id, EARLIEST_DATE.isoformat(), today.isoformat())


def first_retained_day(
    site: Site, now_seconds: float, retention_days: int, rolled: dict[str, dict[str, Any]]
) -> date | None:
    """The site's first local day with data, in `rolled` (`all_rolled_up_days`) or raw events;
    None without data."""
    tz = zone(site.timezone)
    window_first = raw_window_first_day(tz, now_seconds, retention_days)
    first_rolled: date | None = None
    for day, record in sorted(rolled.items()):
        if record["visitors"] or record["pageviews"] or record["sessions"]:
            first_rolled = date.fromisoformat(day)
            break
    if first_rolled is not None and first_rolled < window_first:
        return first_rolled  # no need to look for raw events
    first = earliest_raw_ms(site.id, day_start_ms(window_first, tz), int(now_seconds * 1000) + 1)
    first_raw = None if first is None else local_date(first, tz)
    return min((day for day in (first_raw, first_rolled) if day is not None), default=None)


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


def _without_older_tables(
    rolled: dict[str, dict[str, Any]], rows_by_day: dict[str, list[RollupRow]], width: int, window_first: date
) -> dict[str, dict[str, Any]]:
    """`rolled` without the raw window's days whose table rows are narrower than `width`: rolled up
    before a metric's column was added (`visits`), they are counted from raw events instead.
    Older days keep their rollup and lack that metric (docs/rollups.md, Tables without visits)."""
    first = window_first.isoformat()
    older = {day for day, rows in rows_by_day.items() if day >= first and any(len(row) < width for row in rows)}
    return {day: record for day, record in rolled.items() if day not in older} if older else rolled


def count(
    site: Site,
    period: Period,
    filters: Filters,
    accumulator: RollupAccumulator,
    now_seconds: float,
    *,
    rollups_allowed: bool = True,
    known_rollups: dict[str, dict[str, Any]] | None = None,
    goal_rollups: bool = False,
) -> bool:
    """Count the period into the accumulator; True when a rollup was used.

    Unfiltered whole-day queries take every rolled-up day from its rollup; the other days
    of the raw window come from raw events (blocks and single items); days before the raw
    window without a rollup have no data. Day indexes given to the accumulator are
    positions in `period.days`. `known_rollups`: the site's rolled-up days, already read.
    `goal_rollups`: the `goal` filter is answered from the days' goal tables (the accumulator
    is a `GoalFilter`), so only the other filters keep rollups out.
    """
    tz = zone(period.timezone)
    days = period.days
    rolled: dict[str, dict[str, Any]] = {}
    if rollups_allowed and period.whole_days and not (filters._replace(goal=None) if goal_rollups else filters).active:
        first, last = period.first_day.isoformat(), period.last_day.isoformat()
        if known_rollups is None:
            rolled = rollups.rolled_up_days(site.id, first, last)
        else:
            rolled = {day: record for day, record in known_rollups.items() if first <= day <= last}
    window_first = raw_window_first_day(tz, now_seconds, get_settings().raw_retention_days)
    prop = accumulator.rollup_property
    rows_by_day: dict[str, list[RollupRow]] = {}
    if rolled and prop is not None:
        for day, rows in rollups.day_tables(
            site.id, prop, period.first_day.isoformat(), period.last_day.isoformat(), rolled
        ):
            rows_by_day.setdefault(day, []).extend(rows)
        rolled = _without_older_tables(rolled, rows_by_day, 1 + len(rollup_metrics(prop)), window_first)
    raw_indexes = [index for index, day in enumerate(days) if day >= window_first and day.isoformat() not in rolled]
    for run in _runs(raw_indexes):
        day_starts = day_starts_ms(days[run[0]], days[run[-1]], tz)
        scope = CountingScope(
            day_starts=day_starts,
            start_ms=period.start_ms,
            end_ms=period.end_ms,
            filters=filters,
            event_test=filter_event_test(filters),
        )
        count_chunks(scope, raw_chunks(site.id, day_starts[0], day_starts[-1]), _DayOffset(accumulator, run[0]))
    if not rolled:
        return False
    index_of = {day.isoformat(): index for index, day in enumerate(days)}
    metrics = rollup_metrics(prop) if prop is not None else ()
    for day, record in rolled.items():
        accumulator.add_rollup_day(index_of[day], record, rows_by_day.get(day, []), metrics)
    return True


def usable_rollups(
    site: Site,
    period: Period,
    now_seconds: float,
    known_rollups: dict[str, dict[str, Any]] | None,
    goals: list[Goal],
    events: bool,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The period's rolled-up days that hold what a question needs: the conversions of
    `goals` (a day rolled up before a goal was defined has no row for it) and, with `events`,
    the day's events (days rolled up before events were counted have none).

    A day that lacks something is left out when it lies inside the raw window (the planner
    counts it from raw events); before the window it is kept, and reported: returns (the days
    to use, {"goal <name>" or "events": [the days it is missing from]})."""
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    if known_rollups is None:
        rolled = rollups.rolled_up_days(site.id, first, last)
    else:
        rolled = {day: record for day, record in known_rollups.items() if first <= day <= last}
    covered: dict[str, set[str]] = {}
    if goals and rolled:
        for day, rows in rollups.day_tables(site.id, GOAL_TABLE, first, last, rolled):
            covered.setdefault(day, set()).update(str(row[0]) for row in rows)
    window_first = raw_window_first_day(zone(period.timezone), now_seconds, get_settings().raw_retention_days)
    usable: dict[str, dict[str, Any]] = {}
    missing: dict[str, list[str]] = {}
    for day, record in sorted(rolled.items()):
        lacking = [f"goal {goal.name}" for goal in goals if goal.goal_id not in covered.get(day, ())]
        if events and "events" not in record:
            lacking.append("events")
        if lacking and day >= window_first.isoformat():
            continue
        usable[day] = record
        for what in lacking:
            missing.setdefault(what, []).append(day)
    return usable, missing


def realtime_visitors(site: Site, minutes: int, now_ms: int) -> int:
    """Distinct (visitor id, local date) pairs with an event in the last `minutes` minutes."""
    tz = zone(site.timezone)
    midnight = day_start_ms(local_date(now_ms, tz), tz)
    start_ms, end_ms = now_ms - minutes * 60_000, now_ms + 1
    visitors: set[tuple[str, bool]] = set()
    for _, blocks in raw_chunks(site.id, start_ms, end_ms):
        for block in blocks:
            times = block.timestamps
            for visitor, first, end in block.runs():
                for position in range(first, end):
                    if start_ms <= times[position] < end_ms:
                        # The window spans at most one local midnight: "before it" tells the two local dates apart.
                        visitors.add((visitor, times[position] < midnight))
    return len(visitors)
