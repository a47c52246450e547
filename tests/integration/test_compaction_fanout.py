"""Compaction fanned out like the rollup: one site's failure or size never stops another's.

A killed invocation (Lambda's timeout, or running out of memory) is not an exception the
code can catch: here it is `InvocationKilled`, a BaseException raised where the heavy site's
hour is packed (tests/integration/test_rollup_fanout.py does the same for the rollup).
"""

from collections.abc import Callable
from typing import Any

import pytest

from aizen import admin, compaction
from aizen.events import RawEvent
from aizen.settings import Settings
from aizen.store import blocks as block_store
from tests.support import SEED_NOW, FrozenClock, store_single_items

HOUR_MS = 3_600_000
NOW_MS = SEED_NOW * 1000
FINISHED = block_store.hour_of(NOW_MS - compaction.GRACE_MS)


class InvocationKilled(BaseException):
    """Lambda ending the invocation: a timeout or Runtime.OutOfMemory (no `except Exception` sees it)."""


@pytest.fixture
def settings(aizen_env: Callable[..., Settings]) -> Settings:
    return aizen_env()


def _sites(count: int, settings: Settings, hours: int = 3) -> list[str]:
    """`count` sites, each with one pageview in each of its last `hours` finished hours."""
    user = admin.create_user("owner@example.com", user_id="user_1")
    site_ids = [
        admin.create_site(f"site{n}.example", "Europe/Berlin", user.id, site_id=f"site_{n}").id
        for n in range(1, count + 1)
    ]
    store_single_items(
        [
            RawEvent(site_id, FINISHED - back * HOUR_MS + 60_000, "pageview", f"{n:014x}{back:02x}", "/")
            for n, site_id in enumerate(site_ids)
            for back in range(1, hours + 1)
        ],
        settings.raw_retention_days,
    )
    return site_ids


def _heavy(site_id: str, monkeypatch: pytest.MonkeyPatch, hours: set[int] | None = None) -> dict[str, int]:
    """Packing the site's hours (or only `hours`) kills the invocation; returns the kills so far."""
    real = compaction._pack
    kills = {"count": 0}

    def pack(packed_site: str, hour_ms: int, *args: Any) -> int:
        if packed_site == site_id and (hours is None or hour_ms in hours):
            kills["count"] += 1
            raise InvocationKilled
        return real(packed_site, hour_ms, *args)

    monkeypatch.setattr(compaction, "_pack", pack)
    return kills


def test_in_one_process_a_killed_site_stops_every_site_after_it(
    clock: FrozenClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: three sites with finished hours; packing the second one's kills the invocation
    before, heavy, after = _sites(3, settings)
    _heavy(heavy, monkeypatch)

    # When: every site in one invocation, as the scheduled compaction used to run
    with pytest.raises(InvocationKilled):
        compaction.run()

    # Then: the site after the heavy one is never compacted (the stall the fan-out removes)
    assert block_store.compacted_until(before) == FINISHED
    assert block_store.compacted_until(after) == 0
