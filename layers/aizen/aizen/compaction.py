"""The compaction job: pack every finished hour of every site's single items into event blocks.

Ingestion keeps writing one item per event (the hot path). Every 15 minutes this job
packs each site's finished hours into blocks (`aizen.store.blocks`: columns, dictionaries,
zlib) and then moves the site's watermark past them, so readers take those hours from a
few block items instead of thousands of single items (docs/data-model.md, "Event blocks";
docs/performance.md, "Raw reads").

- **Finished** means ended at least `GRACE_MS` ago: ingestion stamps an event with the
  time it received it and writes it within its function's timeout (10 s), so no single
  item can still land in an hour that ended 10 minutes ago.
- **Idempotent and resumable**: a site's hours are packed a UTC day at a time and the
  watermark moves after each day's blocks are in; a run that dies leaves the watermark
  where the last complete day put it, and the next run packs the rest again. A block
  generation counts only once all its parts are written.
- **Re-compaction**: an import that adds single items to hours that may already be
  compacted marks them first (`mark_hours`); once the watermark has passed a marked hour
  the job packs it again under a newer generation, deletes the older one, marks the
  hour's local day for the rollup job, and clears the mark if it is unchanged.
- **Isolation**: each site is compacted inside its own try block and time budget; a
  failing or huge site never stops the others, and its progress is saved.
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from aizen import clock
from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.models import Site
from aizen.observability import logger
from aizen.periods import local_date, zone
from aizen.settings import get_settings
from aizen.site_jobs import for_each_site
from aizen.store import accounts, rollups
from aizen.store import blocks as block_store
from aizen.store import events as event_store
from aizen.store.blocks import HOUR_MS, hour_of

GRACE_MS = 10 * 60 * 1000  # longer than ingestion's function timeout (template.yaml)
_DAY_MS = 86_400_000


@dataclass
class CompactionReport:
    sites: int = 0
    hours_compacted: int = 0
    hours_recompacted: int = 0
    events_packed: int = 0
    parts_written: int = 0
    failed_sites: list[str] = field(default_factory=list)
    # The oldest finished hour that is not compacted yet, after the run: how long ago it ended.
    lag_seconds: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _pack(site_id: str, hour_ms: int, events: list[RawEvent], generation_ms: int) -> int:
    """Write one generation of an hour; returns the number of parts."""
    parts = block_store.encode_parts(EventBlock.of_events(events), hour_ms)
    block_store.put_hour(site_id, hour_ms, generation_ms, parts)
    return len(parts)


def _by_hour(events: Iterable[RawEvent]) -> dict[int, list[RawEvent]]:
    hours: defaultdict[int, list[RawEvent]] = defaultdict(list)
    for event in events:
        hours[hour_of(event.timestamp_ms)].append(event)
    return hours


def _compact_forward(site: Site, now_ms: int, deadline: float, report: CompactionReport) -> int:
    """Pack the site's finished hours from its watermark on; returns the watermark after."""
    window_start = hour_of(now_ms - get_settings().raw_retention_days * _DAY_MS)
    position = max(block_store.compacted_until(site.id), window_start)
    finished = hour_of(now_ms - GRACE_MS)
    while position < finished and time.monotonic() < deadline:
        until = min(position - position % _DAY_MS + _DAY_MS, finished)
        generation = int(clock.now() * 1000)  # before the read: a later generation read later
        events = list(event_store.query_events(site.id, position, until))
        for hour, hour_events in sorted(_by_hour(events).items()):
            report.parts_written += _pack(site.id, hour, hour_events, generation)
            report.hours_compacted += 1
        report.events_packed += len(events)
        block_store.advance_watermark(site.id, until)
        position = until
    return position


def recompact_hour(site: Site, hour_ms: int, report: CompactionReport) -> None:
    """Pack one hour again from its single items (under a newer generation), delete the older
    generations, and mark the hour's local day for the rollup job."""
    existing = block_store.hour_parts(site.id, hour_ms)
    generation = max(int(clock.now() * 1000), max(map(block_store.generation_of, existing), default=0) + 1)
    events = list(event_store.query_events(site.id, hour_ms, hour_ms + HOUR_MS))
    if events:
        report.parts_written += _pack(site.id, hour_ms, events, generation)
    block_store.delete_parts(site.id, [key for key in existing if block_store.generation_of(key) < generation])
    report.hours_recompacted += 1
    report.events_packed += len(events)
    tz = zone(site.timezone)
    rollups.mark_dirty(
        site.id, sorted({local_date(hour_ms, tz).isoformat(), local_date(hour_ms + HOUR_MS - 1, tz).isoformat()})
    )


def recompact_marked(site: Site, report: CompactionReport | None = None) -> list[int]:
    """Pack again every marked hour the watermark has passed; returns the marked hours left
    for later (not compacted yet, or marked again meanwhile)."""
    report = report if report is not None else CompactionReport()
    watermark = block_store.compacted_until(site.id)
    left: list[int] = []
    for hour, (mark, _) in sorted(block_store.recompact_hours(site.id).items()):
        if hour >= watermark:
            left.append(hour)  # the forward compaction packs it with everything else
            continue
        recompact_hour(site, hour, report)
        if not block_store.clear_recompact(site.id, hour, mark):
            left.append(hour)
    return left


def mark_hours(site_id: str, events: Iterable[RawEvent]) -> list[int]:
    """Before an import writes single items: mark the finished hours they fall in."""
    now_ms = int(clock.now() * 1000)
    finished = hour_of(now_ms - GRACE_MS)
    hours = sorted({hour for hour in (hour_of(event.timestamp_ms) for event in events) if hour < finished})
    block_store.mark_recompact(site_id, hours, now_ms)
    return hours


def compact_site(site: Site, report: CompactionReport, budget_seconds: float) -> int:
    """Compact one site within its time budget; returns its lag (seconds since the end of its
    oldest finished hour that is still not compacted, 0 when none is)."""
    now_ms = int(clock.now() * 1000)
    position = _compact_forward(site, now_ms, time.monotonic() + budget_seconds, report)
    marked = recompact_marked(site, report)
    finished = hour_of(now_ms - GRACE_MS)
    oldest = min(
        [hour for hour in marked if hour < position] + ([position] if position < finished else []), default=None
    )
    return 0 if oldest is None else max(0, (now_ms - (oldest + HOUR_MS)) // 1000)


def run(site_ids: list[str] | None = None, *, budget_seconds: float = 120.0) -> CompactionReport:
    report = CompactionReport()

    def compact(site: Site) -> None:
        report.lag_seconds = max(report.lag_seconds, compact_site(site, report, budget_seconds))

    report.sites, report.failed_sites = for_each_site(
        site_ids if site_ids is not None else accounts.list_site_ids(), compact, "compaction failed for a site"
    )
    logger.info("compaction finished", extra=report.as_dict())
    return report
