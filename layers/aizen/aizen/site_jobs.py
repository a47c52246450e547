"""What the scheduled jobs (rollup, compaction) share: each site in a try block of its own.

A failing site is logged with its id and reported; the next site goes on. This bounds
exceptions only: a run that is killed (timeout, out of memory) stops every site after
the one it was on, which is why the rollup runs each site in an invocation of its own
(docs/rollups.md, "The job").
"""

from collections.abc import Callable, Iterable

from aizen.models import Site
from aizen.observability import logger
from aizen.store import accounts


def for_each_site(site_ids: Iterable[str], work: Callable[[Site], None], failure: str) -> tuple[int, list[str]]:
    """Run `work` on each existing site; returns (sites looked at, ids of the sites that raised),
    each failure logged as `failure` with the site's id and the stack trace."""
    sites, failed = 0, []
    for site_id in site_ids:
        sites += 1
        try:
            site = accounts.get_site(site_id)
            if site is not None:
                work(site)
        except Exception:
            logger.exception(failure, extra={"site_id": site_id})
            failed.append(site_id)
    return sites, failed
