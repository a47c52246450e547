"""The compaction job: pack every finished hour of every site's single items into event blocks.

Ingestion keeps writing one item per event (the hot path). Every 15 minutes this job
packs each site's finished hours into blocks (`aizen.store.blocks`: columns, dictionaries,
zlib) and then moves the site's watermark past them, so readers take those hours from a
few block items instead of thousands of single items (docs/data-model.md, "Event blocks";
docs/performance.md, "Raw reads").

Deployed as a fan-out, like the rollup (`aizen.site_jobs`): the scheduled dispatcher
(`dispatch`) sends one message per site to the compaction queue, and each worker
invocation compacts one site (`run_site`), so one site's failure, timeout or memory can
never stop another's. `run` does the same in one process, site after site (the
`aizen compact` command, the tests).

- **Finished** means ended at least `GRACE_MS` ago: ingestion stamps an event with the
  time it received it and writes it within its function's timeout (10 s), so no single
  item can still land in an hour that ended 10 minutes ago.
- **Bounded**: a site's single items are read in time order, a page per shard at a time
  (`aizen.store.events.events_in_time_order`), and packed an hour at a time, so memory
  holds one hour's events, however many the site's day holds.
- **Idempotent and resumable**: the watermark moves past each hour once its blocks are
  in; a run that dies or spends its budget leaves the watermark after the last hour it
  packed, and the next run goes on from there. A block generation counts only once all
  its parts are written.
- **An hour too large for a run**: every start on an hour is counted until the hour is
  packed; after `MAX_HOUR_ATTEMPTS` starts that never came back (the timeout, out of
  memory), the hour is set aside and reported. The site's watermark stays before it, so
  queries stay exact (that hour and the later ones are read from single items) until
  `aizen compact --retry-set-aside` packs it.
- **Re-compaction**: an import that adds single items to hours that may already be
  compacted marks them first (`mark_hours`); once the watermark has passed a marked hour
  the job packs it again under a newer generation, deletes the older one, marks the
  hour's local day for the rollup job, and clears the mark if it is unchanged.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial

from aizen import clock
from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.models import Site
from aizen.observability import logger
from aizen.periods import local_date, zone
from aizen.settings import get_settings
from aizen.site_jobs import dispatch as dispatch_sites
from aizen.site_jobs import for_each_site, work_one_site
from aizen.store import accounts, rollups
from aizen.store import blocks as block_store
from aizen.store import events as event_store
from aizen.store.blocks import HOUR_MS, hour_of

GRACE_MS = 10 * 60 * 1000  # longer than ingestion's function timeout (template.yaml)
MAX_HOUR_ATTEMPTS = 3  # as many as the queue's maxReceiveCount (template.yaml, CompactionQueue)
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
    hours_set_aside: list[str] = field(default_factory=list)  # "<site id>/<hour, UTC>", MAX_HOUR_ATTEMPTS starts

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _pack(site_id: str, hour_ms: int, events: list[RawEvent], generation_ms: int) -> int:
    """Write one generation of an hour; returns the number of parts."""
    parts = block_store.encode_parts(EventBlock.of_events(events), hour_ms)
    block_store.put_hour(site_id, hour_ms, generation_ms, parts)
    return len(parts)


def _hour_name(site_id: str, hour_ms: int) -> str:
    return f"{site_id}/{datetime.fromtimestamp(hour_ms / 1000, UTC).strftime('%Y-%m-%dT%H:00Z')}"


@contextmanager
def _attempt(count: Callable[[int], None], clear: Callable[[], None]) -> Iterator[None]:
    """Packing an hour, counted as an attempt (`count(1)`) until it finishes (`clear()`). A run
    that never comes back from the hour (killed by the timeout or out of memory) leaves the
    attempt counted; an exception other than MemoryError (throttling, a lost connection)
    takes it back (`count(-1)`), since it says nothing about the hour's size."""
    count(1)
    try:
        yield
    except Exception as error:
        if not isinstance(error, MemoryError):
            count(-1)
        raise
    clear()


def _set_aside(site: Site, hour_ms: int, report: CompactionReport) -> None:
    report.hours_set_aside.append(_hour_name(site.id, hour_ms))
    logger.warning("compaction hour set aside", extra={"site_id": site.id, "hour": hour_ms})


def _first_hour(site: Site, now_ms: int, marked: Iterable[int]) -> int:
    """Where a site's watermark starts: the raw window's first hour, or the UTC day before the
    site's creation (its first events), unless an import marked an earlier hour (its events
    must be packed before the watermark passes them)."""
    window_start = hour_of(now_ms - get_settings().raw_retention_days * _DAY_MS)
    created_ms = site.created_at * 1000
    return max(window_start, min([created_ms - created_ms % _DAY_MS - _DAY_MS, *marked]))


def _compact_forward(
    site: Site,
    now_ms: int,
    deadline: float | None,
    report: CompactionReport,
    *,
    marked: Iterable[int],
    retry_set_aside: bool,
) -> tuple[int, int]:
    """Pack the site's finished hours from its watermark on, an hour at a time, moving the
    watermark past each; stops before an hour once the `deadline` (time.monotonic) has passed,
    or at the first hour after the watermark once MAX_HOUR_ATTEMPTS runs started it and never
    came back (set aside, unless `retry_set_aside`). Returns where it started and the watermark
    after: every hour in between was read (strongly consistent) after the call began.

    Only the run's first hour is an `_attempt`, counted on the watermark item (one write a
    run), and moving the watermark clears it: a run killed on a later hour leaves the
    watermark just before it, so the next runs count that hour."""
    watermark, attempts = block_store.watermark(site.id)
    position = max(watermark, _first_hour(site, now_ms, marked))
    finished = hour_of(now_ms - GRACE_MS)
    if position >= finished:
        return position, position
    generation = int(clock.now() * 1000)  # before the reads: a later generation read later
    start = position
    stream = event_store.events_in_time_order(site.id, position, finished)
    try:
        event = next(stream, None)
        while event is not None:
            hour = hour_of(event.timestamp_ms)
            if deadline is not None and time.monotonic() >= deadline:
                logger.info("compaction budget spent", extra={"site_id": site.id, "watermark": position})
                return start, position
            if position == start and attempts >= MAX_HOUR_ATTEMPTS and not retry_set_aside:
                _set_aside(site, hour, report)
                return start, position
            attempt = (
                _attempt(partial(block_store.count_watermark_attempt, site.id), lambda: None)  # the move clears it
                if position == start
                else nullcontext()
            )
            with attempt:
                events = [event]
                event = next(stream, None)
                while event is not None and event.timestamp_ms < hour + HOUR_MS:
                    events.append(event)
                    event = next(stream, None)
                report.parts_written += _pack(site.id, hour, events, generation)
                block_store.advance_watermark(site.id, hour + HOUR_MS)
            position = hour + HOUR_MS
            report.hours_compacted += 1
            report.events_packed += len(events)
    finally:
        stream.close()
    block_store.advance_watermark(site.id, finished)
    return start, finished


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


def recompact_marked(
    site: Site,
    report: CompactionReport | None = None,
    *,
    deadline: float | None = None,
    retry_set_aside: bool = False,
    marked: dict[int, block_store.RecompactMark] | None = None,
    packed: tuple[int, int] | None = None,
) -> list[int]:
    """Pack again every marked hour the watermark has passed (each an `_attempt` of its own);
    returns the marked hours left for later (not compacted yet, marked again meanwhile, left
    by a spent `deadline`, or set aside unless `retry_set_aside`). `marked`: the site's
    `recompact_hours`, if already read.

    A marker whose import is still writing (not `written`) is left: packing the hour now could
    miss the import's later items, and the import packs its hours itself once they are in.
    `packed`: the hours [start, end) this run's forward pass packed, reading them after
    `marked` was read. A marked hour among them whose import had written all its single
    items by then is in its blocks already: its marker is cleared, not packed twice."""
    report = report if report is not None else CompactionReport()
    watermark = block_store.compacted_until(site.id)
    left: list[int] = []
    attempts: dict[int, int] | None = None  # read once, if an hour is due
    marked = block_store.recompact_hours(site.id) if marked is None else marked
    for hour, (mark, _, written) in sorted(marked.items()):
        if hour >= watermark or not written:
            left.append(hour)  # the forward compaction packs it with everything else, or the import
            continue
        if packed is not None and packed[0] <= hour < packed[1]:
            if not block_store.clear_recompact(site.id, hour, mark):
                left.append(hour)  # marked again since: the next run packs it
            continue
        if deadline is not None and time.monotonic() >= deadline:
            left.append(hour)
            continue
        attempts = block_store.hour_attempts(site.id) if attempts is None else attempts
        if attempts.get(hour, 0) >= MAX_HOUR_ATTEMPTS and not retry_set_aside:
            _set_aside(site, hour, report)
            left.append(hour)
            continue
        with _attempt(
            partial(block_store.count_attempt, site.id, hour), partial(block_store.clear_attempts, site.id, hour)
        ):
            recompact_hour(site, hour, report)
        if not block_store.clear_recompact(site.id, hour, mark):
            left.append(hour)
    return left


def mark_hours(site_id: str, events: Iterable[RawEvent]) -> dict[int, str]:
    """Before an import writes single items: mark the finished hours they fall in; returns the
    marks (hour start -> mark), for `marks_written` once the items are in."""
    now_ms = int(clock.now() * 1000)
    finished = hour_of(now_ms - GRACE_MS)
    hours = sorted({hour for hour in (hour_of(event.timestamp_ms) for event in events) if hour < finished})
    return block_store.mark_recompact(site_id, hours, now_ms)


def marks_written(site_id: str, marks: dict[int, str]) -> None:
    """After an import wrote its single items: note it on its markers (`mark_hours`), so a
    forward pass that reads a marked hour after this packs it once (`recompact_marked`)."""
    block_store.mark_written(site_id, marks)


def compact_site(
    site: Site, report: CompactionReport, *, budget_seconds: float | None = None, retry_set_aside: bool = False
) -> int:
    """Compact one site, starting no new hour once `budget_seconds` are spent (None: no budget);
    returns its lag (seconds since the end of its oldest finished hour that is still not
    compacted, 0 when none is). Hours set aside are skipped unless `retry_set_aside`."""
    now_ms = int(clock.now() * 1000)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    marks = block_store.recompact_hours(site.id)  # before the forward pass reads single items
    start, position = _compact_forward(site, now_ms, deadline, report, marked=marks, retry_set_aside=retry_set_aside)
    marked = recompact_marked(
        site, report, deadline=deadline, retry_set_aside=retry_set_aside, marked=marks, packed=(start, position)
    )
    finished = hour_of(now_ms - GRACE_MS)
    oldest = min(
        [hour for hour in marked if hour < position] + ([position] if position < finished else []), default=None
    )
    return 0 if oldest is None else max(0, (now_ms - (oldest + HOUR_MS)) // 1000)


def run(site_ids: list[str] | None = None, *, retry_set_aside: bool = False) -> CompactionReport:
    """Every site (or `site_ids`) in this process, one after another, each in its own try
    block and without a budget: the `aizen compact` command."""
    report = CompactionReport()

    def compact(site: Site) -> None:
        lag = compact_site(site, report, retry_set_aside=retry_set_aside)
        report.lag_seconds = max(report.lag_seconds, lag)

    report.sites, report.failed_sites = for_each_site(
        site_ids if site_ids is not None else accounts.list_site_ids(), compact, "compaction failed for a site"
    )
    logger.info("compaction finished", extra=report.as_dict())
    return report


def run_site(site_id: str, budget_seconds: float) -> CompactionReport:
    """The worker: one site within its budget. A failure is logged and raised, so the queue
    hands the site's message out again (and to the dead-letter queue after MAX_HOUR_ATTEMPTS)."""
    report = CompactionReport(sites=1)

    def compact(site: Site) -> None:
        report.lag_seconds = compact_site(site, report, budget_seconds=budget_seconds)

    work_one_site(site_id, compact, "compaction failed for a site")
    logger.info("compaction finished", extra=report.as_dict())
    return report


def dispatch(run_id: str) -> int:
    """The scheduled run: one message per site of the registry to the compaction queue; returns
    how many (`aizen.site_jobs.dispatch`)."""
    return dispatch_sites("compaction", get_settings().compaction_queue_url, run_id)
