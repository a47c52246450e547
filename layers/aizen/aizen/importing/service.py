"""`aizen import`: NDJSON events validated as a whole, then written with BatchWriteItem.

Lines are read by `aizen.importing.lines` (the format: docs/ingestion.md, `aizen import`);
every bad line is reported with its number and reason and then nothing is written. Events
of the raw window are stored raw; older ones are added to their days' rollups
(`aizen.importing.history`).

When DynamoDB keeps throttling or timing out past the retries, the import stops with
ImportInterrupted, which says what is in. Re-running the same file is safe: raw events
are rewritten under the same keys, and history days already added are skipped.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aizen import clock, compaction
from aizen.errors import NotFound, ServiceUnavailable
from aizen.events import RawEvent
from aizen.importing import history
from aizen.importing.lines import LineKey, LineReader, read_lines
from aizen.ingest.service import SiteRef
from aizen.periods import day_start_ms, format_instant, local_date, raw_window_first_day, today_in, zone
from aizen.settings import get_settings
from aizen.store import accounts, events


@dataclass
class ImportProgress:
    """What an import has written so far."""

    raw_events: int = 0  # to store raw (the raw window)
    raw_stored: int = 0  # of those, confirmed stored by DynamoDB
    history_days: list[str] = field(default_factory=list)  # local days whose rollups get history
    history_progress: history.HistoryProgress = field(default_factory=history.HistoryProgress)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def stored(self, count: int) -> None:
        with self._lock:
            self.raw_stored += count

    def as_dict(self) -> dict[str, Any]:
        done = set(self.history_progress.added) | set(self.history_progress.already_in)
        return {
            "raw_events_stored": self.raw_stored,
            "raw_events": self.raw_events,
            "history_days_added": self.history_progress.added,
            "history_days_already_in": self.history_progress.already_in,
            "history_days_not_added": [day for day in self.history_days if day not in done],
        }


class ImportInterrupted(ServiceUnavailable):
    """DynamoDB kept throttling or timing out past the retries: the import stopped part-way.

    `progress` says what is in; re-running the same file is safe (module docstring).
    """

    def __init__(self, stage: str, progress: ImportProgress) -> None:
        added, total = len(progress.history_progress.added), len(progress.history_days)
        already = len(progress.history_progress.already_in)
        days = f": {', '.join(progress.history_progress.added)}" if progress.history_progress.added else ""
        super().__init__(
            f"The import stopped while {stage}: DynamoDB kept throttling or timing out past the retries. "
            f"Written so far: {progress.raw_stored} of {progress.raw_events} raw events confirmed stored; "
            f"history added to the rollups of {added} of {total} day(s){days}"
            + (f" ({already} more already held it from an earlier import)" if already else "")
            + ". A write whose answer was lost may be in as well. Re-run the same file to finish: stored events "
            "are overwritten, not duplicated, and days whose rollups already hold their history are skipped."
        )
        self.stage = stage
        self.progress = progress


@dataclass
class ImportSummary:
    site_id: str
    lines: int = 0
    imported: int = 0
    pageviews: int = 0
    outbound_clicks: int = 0
    custom_events: int = 0
    engagement_events: int = 0
    skipped_bots: int = 0
    first_event: str | None = None
    last_event: str | None = None
    seconds: float = 0.0
    events_per_second: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        document = {name: value for name, value in self.__dict__.items() if name != "extra"}
        return {**document, **self.extra}


def _site(site_id: str) -> SiteRef:
    site = accounts.get_site(site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return SiteRef(site.id, site.domain, site.timezone)


def validate(site_id: str, lines: Iterable[str]) -> tuple[list[RawEvent], list[LineKey], ImportSummary]:
    """Every line checked and enriched; ImportRejected lists the bad ones (the first 1000)."""
    site = _site(site_id)
    reader = LineReader(site, int(clock.now() * 1000))
    found, keys, count, bots = read_lines(reader, lines)
    return found, keys, ImportSummary(site_id=site.id, lines=count, skipped_bots=bots)


def import_events(
    site_id: str,
    lines: Iterable[str],
    *,
    on_validated: Callable[[int], None] | None = None,
    on_written: Callable[[int], None] | None = None,
    threads: int = 4,
    fresh_site: bool = False,
) -> ImportSummary:
    """Validate everything, then write everything; returns the summary.

    Events of the raw window are stored raw and their days marked for re-rollup (before
    they are written, so days an interrupted import touched are rolled up again); older
    ones are added to their days' rollups (aizen.importing.history). Re-importing a file
    rewrites its raw events in place, and skips the history days already holding its lines.
    ImportInterrupted (a ServiceUnavailable) says what is in when DynamoDB stops the import.

    `fresh_site`: the site had no events before (the demo seed). Its finished days'
    rollups are then computed from the imported events at once, rather than marked
    for the scheduled job to re-read from the store.
    """
    started = time.perf_counter()
    found, keys, summary = validate(site_id, lines)
    if on_validated is not None:
        on_validated(len(found))
    site = accounts.get_site(site_id)
    assert site is not None  # validate() found it
    tz = zone(site.timezone)
    now_seconds = clock.now()
    first_raw_ms = day_start_ms(raw_window_first_day(tz, now_seconds, get_settings().raw_retention_days), tz)
    recent = [(event, key) for event, key in zip(found, keys, strict=True) if event.timestamp_ms >= first_raw_ms]
    older = [(event, key) for event, key in zip(found, keys, strict=True) if event.timestamp_ms < first_raw_ms]
    if fresh_site:
        today_ms = day_start_ms(today_in(tz, now_seconds), tz)
        older += [(event, key) for event, key in recent if event.timestamp_ms < today_ms]
    progress = ImportProgress(
        raw_events=len(recent),
        history_days=sorted({local_date(event.timestamp_ms, tz).isoformat() for event, _ in older}),
    )

    def stored(count: int) -> None:
        progress.stored(count)
        if on_written is not None:
            on_written(count)

    recent_events = [event for event, _ in recent]
    stage = "marking the imported days for the rollup job"
    try:
        if not fresh_site:
            history.mark_changed_days(site, recent_events)
            stage = "marking the imported hours for compaction"
            marks = compaction.mark_hours(site.id, recent_events)
        stage = "writing raw events"
        events.put_events(recent_events, nonces=[key.nonce for _, key in recent], threads=threads, on_written=stored)
        if not fresh_site:
            stage = "noting the written hours for compaction"
            compaction.marks_written(site.id, marks)
            # Hours already packed into blocks are packed again with the new events, before
            # the rollup job is told about the days (it reads those blocks).
            stage = "compacting the imported hours again"
            compaction.recompact_marked(site)
            # Again, with new marks: a rollup run that read the first marks before these events
            # were in leaves the new ones, and the next run recomputes the days with them.
            stage = "marking the imported days for the rollup job"
            history.mark_changed_days(site, recent_events)
        stage = "adding history to rollups"
        rolled = (
            history.add_history(
                site,
                [event for event, _ in older],
                line_digests=[key.digest for _, key in older],
                progress=progress.history_progress,
            )
            if older
            else None
        )
    except ServiceUnavailable as error:
        raise ImportInterrupted(stage, progress) from error
    history_only = len(found) - len(recent)
    if on_written is not None and history_only:
        on_written(history_only)
    summary.imported = progress.raw_stored + history_only
    summary.extra["stored_raw"] = progress.raw_stored
    summary.extra["added_to_rollups"] = rolled.events if rolled else 0
    summary.extra["rollup_days"] = rolled.days if rolled else 0
    summary.extra["already_in_rollups"] = rolled.events_already_in if rolled else 0
    summary.extra["rollup_days_already_in"] = rolled.days_already_in if rolled else 0
    kinds = Counter(event.kind for event in found)
    summary.pageviews = kinds["pageview"]
    summary.outbound_clicks = kinds["outbound_click"]
    summary.custom_events = kinds["custom"]
    summary.engagement_events = kinds["engagement"]
    if found:
        summary.first_event = format_instant(min(event.timestamp_ms for event in found))
        summary.last_event = format_instant(max(event.timestamp_ms for event in found))
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.events_per_second = round(summary.imported / summary.seconds, 1) if summary.seconds else 0.0
    return summary
