"""What the scheduled jobs (rollup, compaction) share: each site in a try block of its own,
and the fan-out that runs each site in an invocation of its own.

A failing site is logged with its id and reported; the next site goes on. This bounds
exceptions only: a run that is killed (timeout, out of memory) stops every site after
the one it was on, which is why both jobs are deployed as a fan-out: a scheduled
dispatcher sends one message per site to the job's queue (`dispatch`), and each worker
invocation works one site within a share of its time (docs/rollups.md, "The job";
docs/operations.md, "How compaction resumes").
"""

from collections.abc import Callable, Iterable

from aizen.errors import ServiceUnavailable
from aizen.models import Site
from aizen.observability import logger
from aizen.store import accounts, site_queues

# A worker starts no new unit of work (a day, an hour) in the last third of its time: with the
# template's 900 s timeout, a per-site budget of 600 s, and work started within it has 300 s more.
WORKER_BUDGET_SHARE = 2 / 3


def for_each_site(site_ids: Iterable[str], work: Callable[[Site], None], failure: str) -> tuple[int, list[str]]:
    """Run `work` on each existing site; returns (sites looked at, ids of the sites that raised),
    each failure logged as `failure` with the site's id and the stack trace."""
    sites, failed = 0, []
    for site_id in site_ids:
        sites += 1
        try:
            work_one_site(site_id, work, failure)
        except Exception:
            failed.append(site_id)  # logged by work_one_site
    return sites, failed


def work_one_site(site_id: str, work: Callable[[Site], None], failure: str) -> None:
    """A worker's site: `work` on it if it exists. A failure is logged as `failure` with the
    site's id and raised, so the queue hands the site's message out again (and to the
    dead-letter queue after the job's attempts)."""
    try:
        site = accounts.get_site(site_id)
        if site is not None:
            work(site)
    except Exception:
        logger.exception(failure, extra={"site_id": site_id})
        raise


def dispatch(job: str, queue_url: str | None, run_id: str) -> int:
    """A job's scheduled run: one message per site of the registry to the job's queue; returns
    how many. `run_id` names the run (the schedule's time), so a schedule delivered twice sends
    each site once."""
    if queue_url is None:
        raise ServiceUnavailable(f"AIZEN_{job.upper()}_QUEUE_URL is not set: there is no {job} queue to send to")
    sent = site_queues.send_sites(queue_url, accounts.list_site_ids(), run_id)
    logger.info(f"{job} dispatched", extra={"sites": sent})
    return sent
