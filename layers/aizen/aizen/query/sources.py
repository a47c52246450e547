"""Where the numbers come from. Raw events today; the rollups issue adds a rollup source.

A source counts a set of local days of a site into an accumulator (`aizen.query.engine`).
The service decides which source covers which days; every accumulator takes raw
visitors (`add_visitor`), and the rollup source will add per-day totals and per-value
tables beside them (the same numbers, DESIGN.md §4), setting `meta.from_rollups`.
"""

from collections.abc import Iterable
from typing import Protocol

from aizen.events import RawEvent
from aizen.query.engine import Accumulator, CountingScope, SessionBuilder
from aizen.store import events as event_store


class Source(Protocol):
    from_rollups: bool

    def count(self, site_id: str, scope: CountingScope, accumulator: Accumulator) -> None:
        """Count the scope's days (scope.day_starts) into the accumulator."""


def count_chunks(scope: CountingScope, chunks: Iterable[tuple[int, list[RawEvent]]], accumulator: Accumulator) -> int:
    """The engine over (watermark, events) chunks; returns the number of events read."""
    builder = SessionBuilder(scope, accumulator)
    for watermark, events in chunks:
        builder.add(events, watermark)
    builder.finish()
    return builder.events_seen


class RawEventSource:
    """Raw events from the Events table: every day of the raw window."""

    from_rollups = False

    def count(self, site_id: str, scope: CountingScope, accumulator: Accumulator) -> None:
        chunks = event_store.query_event_days(site_id, scope.day_starts[0], scope.day_starts[-1])
        count_chunks(scope, chunks, accumulator)
