"""`aizen import`: NDJSON events validated as a whole, then written with BatchWriteItem.

One event a line (DESIGN.md §6):
  {"timestamp": "2026-03-01T12:34:56.789Z", "name": "pageview", "url": "https://example.com/pricing",
   "referrer": "https://www.google.com/", "visitor_id": "v1"}
Instead of `visitor_id`, `ip` + `user_agent` derive it as ingestion does (and a bot's user
agent drops the event, as ingestion would). Optional `country`, `region`, `city`, `device`,
`browser`, `os` override what would be derived; `name: "outbound_click"` takes `link`.
Every bad line is reported with its number and reason and then nothing is written.

When DynamoDB keeps throttling or timing out past the retries, the import stops with
ImportInterrupted, which says what is in. Re-running the same file is safe: raw events
are rewritten under the same keys, and history days already added are skipped.
"""

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aizen import clock, compaction
from aizen.errors import InvalidRequest, NotFound, ServiceUnavailable
from aizen.events import DEVICES, EventKind, RawEvent
from aizen.ingest import enrich, service, visitors
from aizen.periods import day_start_ms, local_date, zone
from aizen.rollup import history
from aizen.settings import get_settings
from aizen.store import accounts, events

_FIELDS = frozenset(
    {"timestamp", "name", "url", "referrer", "visitor_id", "ip", "user_agent", "link", "hash_mode"}
    | {"country", "region", "city", "device", "browser", "os"}
)
_KINDS: dict[str, EventKind] = {"pageview": "pageview", "outbound_click": "outbound_click"}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_MAX_ERRORS = 1000
_FUTURE_SKEW_MS = 60_000


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


class ImportRejected(InvalidRequest):
    """The file had bad lines; nothing was written."""

    def __init__(self, bad_lines: list[BadLine], total_bad: int) -> None:
        super().__init__(f"{total_bad} bad line(s); nothing was written")
        self.bad_lines = bad_lines
        self.total_bad = total_bad


@dataclass(frozen=True, slots=True)
class LineKey:
    """What an event keeps of its line."""

    nonce: bytes  # line number + text: fixes the stored event's sort key (re-importing overwrites)
    digest: bytes  # the text alone: marks the history a day's rollup already holds


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
    skipped_bots: int = 0
    first_event: str | None = None
    last_event: str | None = None
    seconds: float = 0.0
    events_per_second: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        document = {name: value for name, value in self.__dict__.items() if name != "extra"}
        return {**document, **self.extra}


def _iso(timestamp_ms: int) -> str:
    return (
        datetime.fromtimestamp(timestamp_ms / 1000)
        .astimezone(ZoneInfo("UTC"))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _optional_string(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be a string")
    return value


class _Line:
    """Validation and enrichment of one NDJSON line."""

    def __init__(self, site: service.SiteRef, now_ms: int) -> None:
        self.site = site
        self.zone = ZoneInfo(site.timezone)
        self.now_ms = now_ms
        self.geoip = get_settings().geoip_database

    def timestamp(self, record: dict[str, Any]) -> int:
        value = record.get("timestamp")
        if not isinstance(value, str):
            raise ValueError("timestamp: required, an ISO-8601 date-time with Z or an offset")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"timestamp: {value!r} is not an ISO-8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError(f"timestamp: {value!r} needs a time zone (Z or an offset)")
        timestamp_ms = int(parsed.timestamp() * 1000)
        if timestamp_ms > self.now_ms + _FUTURE_SKEW_MS:
            raise ValueError(f"timestamp: {value} is in the future")
        return timestamp_ms

    def overrides(self, record: dict[str, Any]) -> dict[str, str | None]:
        found = {name: _optional_string(record, name) for name in ("country", "region", "city", "browser", "os")}
        found["device"] = _optional_string(record, "device")
        if found["device"] is not None and found["device"] not in DEVICES:
            raise ValueError(f"device: must be one of {', '.join(DEVICES)}")
        if found["country"] is not None and not _COUNTRY.match(found["country"]):
            raise ValueError("country: must be an ISO 3166-1 alpha-2 code such as US")
        if found["region"] is not None and not _REGION.match(found["region"]):
            raise ValueError("region: must be an ISO 3166-2 code such as US-CA")
        return found

    def event(self, record: dict[str, Any]) -> RawEvent | None:
        """The enriched event, or None for a bot; ValueError names what is wrong."""
        unknown = sorted(set(record) - _FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(unknown)}")
        timestamp_ms = self.timestamp(record)
        kind = _KINDS.get(record.get("name"))  # type: ignore[arg-type]
        if kind is None:
            raise ValueError("name: must be pageview or outbound_click")
        url = _optional_string(record, "url")
        if url is None:
            raise ValueError("url: required")
        try:
            enrich.valid_url("url", url)
            link = _optional_string(record, "link")
            if kind == "outbound_click":
                if link is None:
                    raise ValueError("link: required for outbound_click")
                enrich.valid_url("link", link)
            elif link is not None:
                raise ValueError("link: only for outbound_click")
        except InvalidRequest as error:
            raise ValueError(error.message) from None
        referrer = _optional_string(record, "referrer")
        overrides = self.overrides(record)
        supplied = _optional_string(record, "visitor_id")
        ip, user_agent = _optional_string(record, "ip"), _optional_string(record, "user_agent")
        if supplied is None and (ip is None or user_agent is None):
            raise ValueError("visitor_id, or both ip and user_agent: required")
        agent = enrich.parse_user_agent(user_agent) if user_agent is not None else enrich.Agent(None, None, None, False)
        if agent.bot:
            return None
        geo = enrich.geo_from_database(self.geoip, ip) if self.geoip and ip else enrich.NO_GEO
        if supplied is not None:
            visitor = visitors.imported_visitor_id(self.site.id, supplied)
        else:
            assert ip is not None
            assert user_agent is not None
            visitor = visitors.visitor_for(self.site.id, self.site.timezone, timestamp_ms, ip, user_agent)
        return service.build_event(
            self.site,
            timestamp_ms=timestamp_ms,
            kind=kind,
            url=url,
            referrer=referrer,
            visitor_id=visitor,
            agent=enrich.Agent(
                overrides["browser"] or agent.browser,
                overrides["os"] or agent.os,
                overrides["device"] or agent.device,
                False,
            ),
            geo=enrich.Geo(
                overrides["country"] or geo.country, overrides["region"] or geo.region, overrides["city"] or geo.city
            ),
            hash_mode=record.get("hash_mode") is True,
            link=link,
        )


def _site(site_id: str) -> service.SiteRef:
    site = accounts.get_site(site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return service.SiteRef(site.id, site.domain, site.timezone)


def _first_raw_day(timezone: str, now_ms: int) -> date:
    today = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(timezone)).date()
    return today - timedelta(days=get_settings().raw_retention_days - 1)


def validate(site_id: str, lines: Iterable[str]) -> tuple[list[RawEvent], list[LineKey], ImportSummary]:
    """Every line checked and enriched; ImportRejected lists the bad ones (the first 1000)."""
    site = _site(site_id)
    now_ms = int(clock.now() * 1000)
    checker = _Line(site, now_ms)
    summary = ImportSummary(site_id=site.id)
    found: list[RawEvent] = []
    keys: list[LineKey] = []
    bad: list[BadLine] = []
    total_bad = 0
    for number, raw in enumerate(lines, start=1):
        summary.lines = number
        text = raw.strip()
        if not text:
            continue
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            event = checker.event(record)
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            reason = str(error) if not isinstance(error, json.JSONDecodeError) else f"not valid JSON ({error.msg})"
            total_bad += 1
            if len(bad) < _MAX_ERRORS:
                bad.append(BadLine(number, reason))
            continue
        if event is None:
            summary.skipped_bots += 1
            continue
        if not bad:
            found.append(event)
            keys.append(
                LineKey(
                    nonce=hashlib.blake2b(f"{number}\0{text}".encode(), digest_size=4).digest(),
                    digest=hashlib.blake2b(text.encode(), digest_size=8).digest(),
                )
            )
    if bad:
        raise ImportRejected(bad, total_bad)
    return found, keys, summary


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
    ones are added to their days' rollups (aizen.rollup.history). Re-importing a file
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
    first_raw_ms = day_start_ms(_first_raw_day(site.timezone, int(clock.now() * 1000)), tz)
    recent = [(event, key) for event, key in zip(found, keys, strict=True) if event.timestamp_ms >= first_raw_ms]
    older = [(event, key) for event, key in zip(found, keys, strict=True) if event.timestamp_ms < first_raw_ms]
    if fresh_site:
        today_ms = day_start_ms(datetime.fromtimestamp(clock.now(), tz).date(), tz)
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
            compaction.mark_hours(site.id, recent_events)
        stage = "writing raw events"
        events.put_events(recent_events, nonces=[key.nonce for _, key in recent], threads=threads, on_written=stored)
        if not fresh_site:
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
    summary.pageviews = sum(1 for event in found if event.kind == "pageview")
    summary.outbound_clicks = len(found) - summary.pageviews
    if found:
        summary.first_event = _iso(min(event.timestamp_ms for event in found))
        summary.last_event = _iso(max(event.timestamp_ms for event in found))
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.events_per_second = round(summary.imported / summary.seconds, 1) if summary.seconds else 0.0
    return summary
