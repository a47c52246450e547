"""The rollup: every site, every finished site-local day not yet rolled up (docs/rollups.md).

Deployed as a fan-out: the scheduled dispatcher (`dispatch`) sends one message per site to
the rollup queue, and each worker invocation rolls up one site (`run_site`), so one
site's failure, timeout or memory can never stop another's. `run` does the same in one
process, site after site (the `aizen rollup` command, the tests).

Idempotent (a day's rollup is rewritten whole, under a new generation), resumable (each
finished day is written at once, and the days still missing are found again on the next
run), and bounded: a site's run starts no new day once its budget is spent, and a day
that runs have started `MAX_DAY_ATTEMPTS` times without finishing is set aside and
reported, so the site's other days go on.
"""

import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from aizen import clock
from aizen.models import Site
from aizen.observability import logger
from aizen.periods import day_start_ms, local_date, raw_window_first_day, today_in, zone
from aizen.rollup.compute import compute_day
from aizen.settings import get_settings
from aizen.site_jobs import dispatch as dispatch_sites
from aizen.site_jobs import for_each_site, work_one_site
from aizen.store import accounts, rollups

MAX_DAY_ATTEMPTS = 3  # as many as the queue's maxReceiveCount (template.yaml, RollupQueue)


@dataclass
class RollupReport:
    sites: int = 0
    days_rolled_up: int = 0
    items_written: int = 0
    events_read: int = 0
    failed_sites: list[str] = field(default_factory=list)
    days_left: int = 0  # due days a spent budget left for the next run
    days_set_aside: list[str] = field(default_factory=list)  # "<site id>/<day>", tried MAX_DAY_ATTEMPTS times

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


def _attempted_day(site: Site, day: date, generation: str, mark: str | None) -> tuple[int, int]:
    """`roll_up_day`, counted as an attempt until it finishes. A run that never comes back from
    the day (killed by the timeout or out of memory) leaves the attempt counted; an exception
    other than MemoryError (throttling, a lost connection) takes it back, since it says
    nothing about the day's size."""
    tz = zone(site.timezone)
    raw_expiry = day_start_ms(day + timedelta(days=1), tz) // 1000 + get_settings().raw_retention_days * 86_400
    rollups.count_attempt(site.id, day.isoformat(), 1, raw_expiry)
    try:
        result = roll_up_day(site, day, generation, mark)
    except Exception as error:
        if not isinstance(error, MemoryError):
            rollups.count_attempt(site.id, day.isoformat(), -1, raw_expiry)
        raise
    rollups.clear_attempts(site.id, day.isoformat())
    return result


def roll_up_site(
    site: Site,
    report: RollupReport,
    *,
    now_seconds: float,
    generation: str,
    budget_seconds: float | None = None,
    retry_set_aside: bool = False,
) -> None:
    """Roll up the site's due days, oldest first (the first to leave the raw window), each
    written as soon as it is counted; no new day once `budget_seconds` are spent (None: no
    budget). Days set aside are skipped unless `retry_set_aside`."""
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    due = days_due(site, now_seconds)
    attempts = rollups.day_attempts(site.id) if due else {}
    for index, (day, mark) in enumerate(due.items()):
        if deadline is not None and time.monotonic() >= deadline:
            report.days_left += len(due) - index
            logger.info("rollup budget spent", extra={"site_id": site.id, "days_left": len(due) - index})
            return
        if attempts.get(day.isoformat(), 0) >= MAX_DAY_ATTEMPTS and not retry_set_aside:
            report.days_set_aside.append(f"{site.id}/{day.isoformat()}")
            logger.warning("rollup day set aside", extra={"site_id": site.id, "day": day.isoformat()})
            continue
        written, events = _attempted_day(site, day, generation, mark)
        report.days_rolled_up += 1
        report.items_written += written
        report.events_read += events


def _generation(now_seconds: float) -> str:
    return f"{int(now_seconds * 1000):x}"


def run(site_ids: list[str] | None = None, *, retry_set_aside: bool = False) -> RollupReport:
    """Every site (or `site_ids`) in this process, one after another, each in its own try
    block and without a budget: the `aizen rollup` command."""
    report = RollupReport()
    now_seconds = clock.now()

    def roll_up(site: Site) -> None:
        roll_up_site(
            site, report, now_seconds=now_seconds, generation=_generation(now_seconds), retry_set_aside=retry_set_aside
        )

    report.sites, report.failed_sites = for_each_site(
        site_ids if site_ids is not None else accounts.list_site_ids(), roll_up, "rollup failed for a site"
    )
    logger.info("rollup finished", extra=report.as_dict())
    return report


def run_site(site_id: str, budget_seconds: float) -> RollupReport:
    """The worker: one site within its budget. A failure is logged and raised, so the queue
    hands the site's message out again (and to the dead-letter queue after MAX_DAY_ATTEMPTS)."""
    report = RollupReport(sites=1)
    now_seconds = clock.now()

    def roll_up(site: Site) -> None:
        roll_up_site(site, report, now_seconds=now_seconds, generation=_generation(now_seconds),
                     budget_seconds=budget_seconds)  # fmt: skip

    work_one_site(site_id, roll_up, "rollup failed for a site")
    logger.info("rollup finished", extra=report.as_dict())
    return report


def dispatch(run_id: str) -> int:
    """The scheduled run: one message per site of the registry to the rollup queue; returns
    how many (`aizen.site_jobs.dispatch`)."""
    return dispatch_sites("rollup", get_settings().rollup_queue_url, run_id)
