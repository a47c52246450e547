"""The page breakdown's counts pend in lists and are counted in bulk (aizen.query.engine.ValueTable):
exact whether read before or after a bulk count, and the pending lists stay bounded."""

import pytest

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.query import engine
from aizen.query.engine import CountingScope, ValueTable, count_chunks

DAY_START = 1_775_113_200_000  # a local midnight (UTC ms)
DAY_END = DAY_START + 86_400_000
MINUTE = 60_000


def visits() -> list[RawEvent]:
    """Six visitors: each views "/" twice and a page of its own once, and clicks a link."""
    events = []
    for n in range(6):
        visitor = f"v{n}"
        events += [
            RawEvent("s", DAY_START + n * MINUTE, "pageview", visitor, "/"),
            RawEvent("s", DAY_START + (n + 1) * MINUTE, "pageview", visitor, f"/p{n}"),
            RawEvent("s", DAY_START + (n + 2) * MINUTE, "outbound_click", visitor, f"/p{n}", link="https://x.test"),
            RawEvent("s", DAY_START + (n + 3) * MINUTE, "pageview", visitor, "/"),
        ]
    return events


def page_table() -> ValueTable:
    pages = ValueTable("page")
    scope = CountingScope(day_starts=[DAY_START, DAY_END], start_ms=DAY_START, end_ms=DAY_END)
    count_chunks(scope, [(DAY_END, [EventBlock.of_events(visits())])], pages)
    return pages


@pytest.mark.parametrize("limit", [1, 3, 65_536])
def test_pages_count_the_same_whenever_the_pending_lists_are_counted(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(engine, "PENDING_LIMIT", limit)

    pages = page_table()

    assert (pages.metric("visitors", "/"), pages.metric("pageviews", "/")) == (6, 12)
    assert [(pages.metric("visitors", f"/p{n}"), pages.metric("pageviews", f"/p{n}")) for n in range(6)] == [(1, 1)] * 6
    assert pages.values() == {"/", *(f"/p{n}" for n in range(6))}


def test_pending_pages_are_counted_once_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 3 pending values: memory holds a few visitors' pages, not every visitor's
    monkeypatch.setattr(engine, "PENDING_LIMIT", 3)

    pages = page_table()

    # Then most were counted while counting, before anything read them
    assert sum(pages._visitors.values()) >= 8
    assert len(pages._pending_pages) <= 3
    assert len(pages._pending_views) <= 3 + 3
