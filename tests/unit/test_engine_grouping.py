"""How the engine groups blocks into visitors (aizen.query.engine.SessionBuilder): packed hours
kept whole until their local day closes, only the visitors with an event passing the session
filters grouped, blocks spanning days cut, and the garbage collector paused while counting."""

import gc
from collections.abc import Iterable

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.query.engine import CountingScope, Session, Totals, count_chunks
from aizen.store import block_codec
from aizen.vocabulary import Filters

DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000
DAY_START = 1_775_113_200_000  # a local midnight (UTC ms), an hour start
SCOPE = CountingScope(
    day_starts=[DAY_START, DAY_START + DAY, DAY_START + 2 * DAY], start_ms=DAY_START, end_ms=DAY_START + 2 * DAY
)


def event(visitor: str, at_ms: int, country: str, page: str = "/") -> RawEvent:
    return RawEvent("s", at_ms, "pageview", visitor, page, country=country)


def hour_blocks(events: Iterable[RawEvent]) -> list[EventBlock]:
    """The events as the store reads them: one packed block per hour, in hour order."""
    hours: dict[int, list[RawEvent]] = {}
    for one in events:
        hours.setdefault(one.timestamp_ms - one.timestamp_ms % HOUR, []).append(one)
    return [block_codec.decode(block_codec.encode(EventBlock.of_events(hours[hour]), hour)) for hour in sorted(hours)]


def totals(blocks: list[EventBlock], filters: Filters) -> Totals:
    counted = Totals()
    count_chunks(SCOPE._replace(filters=filters), [(SCOPE.end_ms, blocks)], counted)
    return counted


def test_a_session_that_matches_keeps_its_events_in_later_hours_that_do_not() -> None:
    # Given: a US session from 10:55 to 11:10 whose events in the 11:00 block say DE (the
    # session's attributes are its first event's), and a DE-only visitor
    start = DAY_START + 10 * HOUR + 55 * MINUTE
    events = [
        event("a", start, "US"),
        event("a", start + 10 * MINUTE, "DE", "/b"),
        event("a", start + 15 * MINUTE, "DE", "/c"),
        event("b", start + 5 * MINUTE, "DE"),
    ]

    # When
    counted = totals(hour_blocks(events), Filters(country="US"))

    # Then: visitor a's three pageviews, one session; b not at all
    assert (counted.visitors, counted.pageviews, counted.sessions) == (1, 3, 1)
    assert counted.duration_ms == 15 * MINUTE


def test_a_visitor_with_no_matching_event_is_not_counted_and_one_with_a_later_matching_session_is() -> None:
    # a: DE at 09:00, then after a gap a US session at 12:00; b: DE only
    events = [
        event("a", DAY_START + 9 * HOUR, "DE"),
        event("a", DAY_START + 12 * HOUR, "US"),
        event("a", DAY_START + 12 * HOUR + MINUTE, "US"),
        event("b", DAY_START + 9 * HOUR, "DE"),
        event("b", DAY_START + 12 * HOUR, "DE"),
    ]

    counted = totals(hour_blocks(events), Filters(country="US"))

    assert (counted.visitors, counted.pageviews, counted.sessions) == (1, 2, 1)


def test_filtered_and_unfiltered_counts_agree_with_a_block_that_spans_two_days() -> None:
    # Given: hour blocks of day one, and a tail block (single items) spanning midnight
    events = [event(f"v{n % 7}", DAY_START + n * 17 * MINUTE, "US" if n % 3 else "DE") for n in range(160)]
    hours = hour_blocks(event for event in events if event.timestamp_ms < DAY_START + 20 * HOUR)
    tail = EventBlock.of_events(event for event in events if event.timestamp_ms >= DAY_START + 20 * HOUR)

    # When
    blocked = totals([*hours, tail], Filters(country="US"))
    whole = totals([EventBlock.of_events(events)], Filters(country="US"))

    # Then: the same figures, whichever way the events arrive
    assert blocked == whole
    assert blocked.visitors > 7  # visitors on both days


def test_the_garbage_collector_is_paused_while_counting_and_resumed_after() -> None:
    seen: list[bool] = []

    class Recorder(Totals):
        def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
            seen.append(gc.isenabled())

    count_chunks(SCOPE, [(SCOPE.end_ms, hour_blocks([event("a", DAY_START, "US")]))], Recorder())

    assert seen == [False]
    assert gc.isenabled()
