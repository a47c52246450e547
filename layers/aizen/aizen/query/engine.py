"""The counting rules of docs/stats.md (Counting) over raw events. Pure: no I/O.

Events arrive in chunks (one UTC day of a site's partitions at a time, in day
order, not time-ordered inside a chunk), each with a watermark: every event
before the watermark has been delivered. The builder groups events by
(local day, visitor id) — exactly one visitor of docs/stats.md (Counting) — and, once the
watermark has passed the end of a local day, sorts each of that day's groups by
time, splits it into sessions at gaps of more than 30 minutes, applies the
filters and hands the group to an accumulator, then forgets it. So memory holds
the events of at most the local days the current chunk overlaps, plus the
accumulator's counters (one per distinct value or bucket), never the whole range.

Filters: `page` matches events; every other filter matches the session's
attributes, which are its first event's. An event *matches* when its session
matches the attribute filters, the page filter (if any) equals its page, and it
lies inside the queried range. A session *counts* (sessions, bounce rate,
duration, entries) when it has at least one matching event and its first event
lies inside the range (a session belongs to the time of its first event).
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

from aizen.events import NONE_VALUE, RawEvent

SESSION_GAP_MS = 30 * 60 * 1000
PAGEVIEW = "pageview"
OUTBOUND_CLICK = "outbound_click"
SESSION_ATTRIBUTES = ("referrer", "channel", "country", "region", "city", "device", "browser", "os")

_timestamp = attrgetter("timestamp_ms")


class Filters(NamedTuple):
    """Exact, case-sensitive, AND-ed. `(none)` matches a missing value."""

    page: str | None = None
    referrer: str | None = None
    country: str | None = None
    region: str | None = None
    device: str | None = None
    browser: str | None = None
    os: str | None = None

    @property
    def session_filters(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name, value)
            for name in ("referrer", "country", "region", "device", "browser", "os")
            if (value := getattr(self, name)) is not None
        )

    @property
    def active(self) -> bool:
        return self.page is not None or bool(self.session_filters)


def value_of(event: RawEvent, attribute: str) -> str:
    """An event's value for a property, `(none)` when missing."""
    value: str | None = getattr(event, attribute)
    return value if value else NONE_VALUE


@dataclass(slots=True)
class Session:
    """One visit: its events in time order and the ones that match the query."""

    events: list[RawEvent]
    matching: list[RawEvent]
    matching_pageviews: int
    counts: bool  # first event inside the range, at least one matching event

    @property
    def first(self) -> RawEvent:
        return self.events[0]

    @property
    def bounced(self) -> bool:
        """Exactly one pageview and no other event."""
        return len(self.events) == 1 and self.events[0].kind == PAGEVIEW

    @property
    def duration_ms(self) -> int:
        return self.events[-1].timestamp_ms - self.events[0].timestamp_ms

    @property
    def entry_page(self) -> str | None:
        return next((event.page for event in self.events if event.kind == PAGEVIEW), None)


class Accumulator(Protocol):
    """Receives every visitor (a (visitor id, local day) pair) with at least one matching event."""

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        """`sessions` are the visitor's sessions that have at least one matching event."""


RollupRow = Sequence[Any]  # [value, metric, ...] as a day's rollup stores it


class RollupAccumulator(Accumulator, Protocol):
    """An accumulator that can also take a whole rolled-up day (unfiltered queries only)."""

    @property
    def rollup_property(self) -> str | None:
        """The property whose value table it needs (None: totals suffice)."""

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        """A day's totals, and its rows for `rollup_property` (metrics in `metrics` order)."""


class CountingScope(NamedTuple):
    """What one counting pass needs to know about the range."""

    day_starts: list[int]  # UTC ms of each local day start of the fetched days, plus the end of the last
    start_ms: int  # the queried range (inclusive) ...
    end_ms: int  # ... (exclusive); may cut local days (24h)
    filters: Filters = Filters()


def _attribute_test(filters: Filters) -> Callable[[RawEvent], bool] | None:
    wanted = filters.session_filters
    if not wanted:
        return None
    getters = [(attrgetter(name), value) for name, value in wanted]

    def test(event: RawEvent) -> bool:
        for getter, value in getters:
            actual = getter(event)
            if (actual if actual else NONE_VALUE) != value:
                return False
        return True

    return test


class SessionBuilder:
    """Groups streamed events into visitors and sessions and feeds an accumulator."""

    def __init__(self, scope: CountingScope, accumulator: Accumulator) -> None:
        self._scope = scope
        self._accumulator = accumulator
        self._day_starts = scope.day_starts
        self._open: dict[int, defaultdict[str, list[RawEvent]]] = {}
        self._attribute_test = _attribute_test(scope.filters)
        self._page = scope.filters.page
        self._clip = scope.start_ms > scope.day_starts[0] or scope.end_ms < scope.day_starts[-1]
        self.events_seen = 0

    def add(self, events: Iterable[RawEvent], watermark_ms: int | None = None) -> None:
        """A chunk of events; with a watermark, every local day ending by it is counted and dropped."""
        day_starts = self._day_starts
        last_day = len(day_starts) - 2
        open_days = self._open
        seen = 0
        current_index = -1
        current: defaultdict[str, list[RawEvent]] | None = None
        low = high = 0
        for event in events:
            seen += 1
            timestamp = event.timestamp_ms
            if current is None or not low <= timestamp < high:
                index = bisect_right(day_starts, timestamp) - 1
                if index < 0 or index > last_day:
                    continue  # outside the fetched days
                if index != current_index:
                    current_index = index
                    current = open_days.get(index)
                    if current is None:
                        current = open_days[index] = defaultdict(list)
                    low, high = day_starts[index], day_starts[index + 1]
            current[event.visitor_id].append(event)  # type: ignore[index]
        self.events_seen += seen
        if watermark_ms is not None:
            for index in sorted(open_days):
                if day_starts[index + 1] <= watermark_ms:
                    self._close_day(index)

    def finish(self) -> None:
        for index in sorted(self._open):
            self._close_day(index)

    def _close_day(self, index: int) -> None:
        visitors = self._open.pop(index)
        for events in visitors.values():
            self._count_visitor(index, events)

    def _count_visitor(self, day_index: int, events: list[RawEvent]) -> None:
        if len(events) > 1:
            events.sort(key=_timestamp)
        sessions: list[Session] = []
        start = 0
        previous = events[0].timestamp_ms
        for position in range(1, len(events)):
            timestamp = events[position].timestamp_ms
            if timestamp - previous > SESSION_GAP_MS:
                self._session(events[start:position], sessions)
                start = position
            previous = timestamp
        self._session(events[start:] if start else events, sessions)
        if sessions:
            self._accumulator.add_visitor(day_index, sessions)

    def _session(self, events: list[RawEvent], sessions: list[Session]) -> None:
        first = events[0]
        if self._attribute_test is not None and not self._attribute_test(first):
            return
        matching = events
        if self._page is not None:
            page = self._page
            matching = [event for event in events if event.page == page]
        if self._clip:
            start, end = self._scope.start_ms, self._scope.end_ms
            matching = [event for event in matching if start <= event.timestamp_ms < end]
        if not matching:
            return
        pageviews = 0
        for event in matching:
            if event.kind == PAGEVIEW:
                pageviews += 1
        counts = not self._clip or self._scope.start_ms <= first.timestamp_ms < self._scope.end_ms
        sessions.append(Session(events, matching, pageviews, counts))


# Accumulators ------------------------------------------------------------------------------


def _half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves away from zero (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(slots=True)
class Totals:
    """Everything the aggregate endpoint reports; also what a rollup day holds."""

    visitors: int = 0
    pageviews: int = 0
    sessions: int = 0
    bounces: int = 0
    duration_ms: int = 0

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        self.visitors += 1
        for session in sessions:
            self.pageviews += session.matching_pageviews
            if session.counts:
                self.sessions += 1
                if session.bounced:
                    self.bounces += 1
                self.duration_ms += session.duration_ms

    @property
    def rollup_property(self) -> str | None:
        return None

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        self.visitors += totals["visitors"]
        self.pageviews += totals["pageviews"]
        self.sessions += totals["sessions"]
        self.bounces += totals["bounces"]
        self.duration_ms += totals["duration_ms"]

    @property
    def bounce_rate(self) -> float:
        """Percent of sessions that bounced, one decimal, halves rounded up; 0 without sessions."""
        if not self.sessions:
            return 0.0
        return _half_up(1000 * self.bounces, self.sessions) / 10

    @property
    def visit_duration(self) -> int:
        """Mean session length in whole seconds (halves rounded up); 0 without sessions."""
        if not self.sessions:
            return 0
        return _half_up(self.duration_ms, 1000 * self.sessions)

    def metric(self, name: str) -> int | float:
        match name:
            case "visitors":
                return self.visitors
            case "pageviews":
                return self.pageviews
            case "bounce_rate":
                return self.bounce_rate
            case "visit_duration":
                return self.visit_duration
        raise ValueError(f"unknown aggregate metric {name}")


class Buckets:
    """Visitors and pageviews per timeseries bucket.

    A visitor counts once in every bucket holding one of its matching events.
    """

    def __init__(self, bucket_starts: list[int], day_buckets: list[int] | None) -> None:
        """`day_buckets[day_index]` is the bucket of a local day (day/week/month intervals)."""
        self.starts = bucket_starts
        self._day_buckets = day_buckets
        self.visitors = [0] * len(bucket_starts)
        self.pageviews = [0] * len(bucket_starts)

    @property
    def rollup_property(self) -> str | None:
        return None

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        """Only for day/week/month buckets: a day lies wholly in one of them."""
        if self._day_buckets is None:
            raise ValueError("hourly buckets cannot take rolled-up days")
        bucket = self._day_buckets[day_index]
        self.visitors[bucket] += totals["visitors"]
        self.pageviews[bucket] += totals["pageviews"]

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        if self._day_buckets is not None:
            bucket = self._day_buckets[day_index]
            self.visitors[bucket] += 1
            for session in sessions:
                self.pageviews[bucket] += session.matching_pageviews
            return
        starts = self.starts
        touched: set[int] = set()
        for session in sessions:
            for event in session.matching:
                bucket = bisect_right(starts, event.timestamp_ms) - 1
                touched.add(bucket)
                if event.kind == PAGEVIEW:
                    self.pageviews[bucket] += 1
        for bucket in touched:
            self.visitors[bucket] += 1


class ValueTable:
    """Metrics per value of one breakdown property."""

    def __init__(self, prop: str) -> None:
        self.property = prop
        self.visitors: defaultdict[str, int] = defaultdict(int)
        self.pageviews: defaultdict[str, int] = defaultdict(int)
        self.entries: defaultdict[str, int] = defaultdict(int)
        self.clicks: defaultdict[str, int] = defaultdict(int)
        self._add = {
            "page": self._add_page,
            "entry_page": self._add_entry_page,
            "exit_link": self._add_exit_link,
        }.get(prop, self._add_session_attribute)

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        self._add(sessions)

    @property
    def rollup_property(self) -> str | None:
        return self.property

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        tables: list[defaultdict[str, int]] = [getattr(self, metric) for metric in metrics]
        for value, *numbers in rows:
            for table, number in zip(tables, numbers, strict=True):
                table[value] += number

    def _add_page(self, sessions: list[Session]) -> None:
        pages: set[str] = set()
        pageviews = self.pageviews
        for session in sessions:
            for event in session.matching:
                pages.add(event.page)
                if event.kind == PAGEVIEW:
                    pageviews[event.page] += 1
        for page in pages:
            self.visitors[page] += 1

    def _add_entry_page(self, sessions: list[Session]) -> None:
        for session in sessions:
            if session.counts and (entry := session.entry_page) is not None:
                self.entries[entry] += 1

    def _add_exit_link(self, sessions: list[Session]) -> None:
        for session in sessions:
            for event in session.matching:
                if event.kind == OUTBOUND_CLICK:
                    self.clicks[event.link if event.link else NONE_VALUE] += 1

    def _add_session_attribute(self, sessions: list[Session]) -> None:
        values: set[str] = set()
        for session in sessions:
            value = value_of(session.first, self.property)
            values.add(value)
            self.pageviews[value] += session.matching_pageviews
        for value in values:
            self.visitors[value] += 1

    def values(self) -> set[str]:
        return set(self.visitors) | set(self.pageviews) | set(self.entries) | set(self.clicks)

    def metric(self, name: str, value: str) -> int:
        table: defaultdict[str, int] = getattr(self, name)
        return table.get(value, 0)
