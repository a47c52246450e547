"""Raw events as a source of counts.

The service decides which days come from raw events and which from rollups
(`aizen.query.service._count`); raw days are counted here, through the engine, into
the same accumulators that take rolled-up days (`add_rollup_day`).
"""

from collections.abc import Iterable

from aizen.events import RawEvent
from aizen.query.engine import Accumulator, CountingScope, SessionBuilder
from aizen.store import events as event_store


def count_chunks(scope: CountingScope, chunks: Iterable[tuple[int, list[RawEvent]]], accumulator: Accumulator) -> int:
    """The engine over (watermark, events) chunks; returns the number of events read."""
    builder = SessionBuilder(scope, accumulator)
    for watermark, events in chunks:
        builder.add(events, watermark)
    builder.finish()
    return builder.events_seen


class RawEventSource:
    """Raw events from the Events table: days of the raw window."""

    def count(self, site_id: str, scope: CountingScope, accumulator: Accumulator) -> None:
        chunks = event_store.query_event_days(site_id, scope.day_starts[0], scope.day_starts[-1])
        count_chunks(scope, chunks, accumulator)
