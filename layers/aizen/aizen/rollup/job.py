"""The scheduled rollup: every site, every finished site-local day not yet rolled up.

Idempotent (a day's rollup is rewritten whole, under a new generation),
resumable (the days still missing are found again on the next run), and one
failing site never stops the others.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from aizen import clock
from aizen.models import Site
from aizen.observability import logger
from aizen.periods import local_date, raw_window_first_day, today_in, zone
from aizen.rollup.compute import compute_day
from aizen.settings import get_settings
from aizen.store import accounts, rollups


@dataclass
class RollupReport:
    sites: int = 0
    days_rolled_up: int = 0
    items_written: int = 0
    events_read: int = 0
    failed_sites: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def days_due(site: Site, now_seconds: float) -> dict[date, str | None]:
    """Finished local days of the raw window without a rollup, and days an import changed,
    each with the import's dirty mark as read now (None: not marked)."""
    tz = zone(site.timezone)
    yesterday = today_in(tz, now_seconds) - timedelta(days=1)
    window_first = raw_window_first_day(tz, now_seconds, get_settings().raw_retention_days)
    first = max(window_first, local_date(site.created_at * 1000, tz))
    due: dict[date, str | None] = {}
    if first <= yesterday:
        done = rollups.rolled_up_days(site.id, first.isoformat(), yesterday.isoformat())
        day = first
        while day <= yesterday:
            if day.isoformat() not in done:
                due[day] = None
            day += timedelta(days=1)
    for dirty, mark in rollups.dirty_days(site.id).items():
        day = date.fromisoformat(dirty)
        if window_first <= day <= yesterday:
            due[day] = mark
        else:
            rollups.clear_dirty(site.id, dirty, mark)  # outside the raw window: nothing left to recompute from
    return dict(sorted(due.items()))


def roll_up_day(site: Site, day: date, generation: str, mark: str | None = None) -> tuple[int, int]:
    """Compute and write one day, then clear its dirty `mark` (read before computing; a newer
    mark stays for the next run); returns (items written, events read)."""
    rollup = compute_day(site, day)
    written = rollups.put_day(
        site.id,
        day.isoformat(),
        generation,
        rollup.totals,
        {prop: rows for prop, rows in rollup.tables.items() if rows},
    )
    if mark is not None:
        rollups.clear_dirty(site.id, day.isoformat(), mark)
    return written, rollup.events


def run(site_ids: list[str] | None = None) -> RollupReport:
    report = RollupReport()
    now_seconds = clock.now()
    generation = f"{int(now_seconds * 1000):x}"
    for site_id in site_ids if site_ids is not None else accounts.list_site_ids():
        report.sites += 1
        try:
            site = accounts.get_site(site_id)
            if site is None:
                continue
            for day, mark in days_due(site, now_seconds).items():
                written, events = roll_up_day(site, day, generation, mark)
                report.days_rolled_up += 1
                report.items_written += written
                report.events_read += events
        except Exception:
            logger.exception("rollup failed for a site", extra={"site_id": site_id})
            report.failed_sites.append(site_id)
    logger.info("rollup finished", extra=report.as_dict())
    return report
