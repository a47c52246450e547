"""The counting rules (docs/stats.md, "Counting") over raw events as columns. Pure: no I/O.

Events arrive in chunks (one UTC day of a site's events at a time, in day order), each a
list of `aizen.columns.EventBlock`s in time order (a day's packed hour blocks, then its
single-item tail) with a watermark: every event before the watermark has been
delivered. Inside a block each visitor's events are one time-ordered *run*. The builder
groups runs by (local day, visitor id) — exactly one visitor of the counting rules —
and, once the watermark has passed the end of a local day, splits each visitor's runs
into sessions at gaps of more than 30 minutes, applies the filters and hands the
visitor's sessions to an accumulator, then forgets them. So memory holds the blocks of
at most the local days the current chunk overlaps, plus the accumulator's counters
(one per distinct value or bucket), never the whole range.

Sessions are lists of *segments* (block, first position, end position), not event
objects: most questions are answered from a session's first event, its length, and
C-level counts over a block's columns (`bytes.count` of the kinds, a slice of the page
column), which is what makes counting cost well under a microsecond an event.

Filters: `page` matches events; every other filter matches the session's attributes,
which are its first event's. An event *matches* when its session matches the attribute
filters, the page filter (if any) equals its page, and it lies inside the queried range.
A session *counts* (sessions, bounce rate, duration, entries) when it has at least one
matching event and its first event lies inside the range (a session belongs to the time
of its first event).
"""

import gc
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any, NamedTuple, Protocol, cast

from aizen.columns import ENGAGEMENT, INTERACTIONS, OUTBOUND_CLICK, PAGEVIEW, EventBlock
from aizen.events import NONE_VALUE
from aizen.query.conditions import page_test, session_test
from aizen.vocabulary import Filters

SESSION_GAP_MS = 30 * 60 * 1000
PENDING_LIMIT = 65_536  # values a ValueTable holds before counting them (bounds its memory)

Segment = tuple[EventBlock, int, int]  # a block and a range of positions of one visitor's events


@dataclass(slots=True)
class Session:
    """One visit: its events as time-ordered segments, and which of them match the query."""

    segments: list[Segment]
    matching: list[tuple[EventBlock, int]] | None  # None: every event of the session matches
    matching_pageviews: int
    counts: bool  # first event inside the range, at least one matching event
    events: int  # all events of the session
    first_ms: int
    last_ms: int

    def first_value(self, attribute: str) -> str:
        """The session's value of an attribute (its first event's), `(none)` when missing."""
        block, first, _ = self.segments[0]
        return block.value(attribute, first) or NONE_VALUE

    @property
    def bounced(self) -> bool:
        """Exactly one pageview and no interaction (outbound click, interactive custom event);
        engagement reports and non-interactive custom events do not count."""
        block, first, _ = self.segments[0]
        if self.events == 1:
            return block.kinds[first] == PAGEVIEW
        pageviews = 0
        click, custom = INTERACTIONS  # two counts, not a generator per segment
        for block, start, end in self.segments:
            kinds = block.kinds
            if kinds.count(click, start, end) or kinds.count(custom, start, end):
                return False
            pageviews += kinds.count(PAGEVIEW, start, end)
        return pageviews == 1

    @property
    def duration_ms(self) -> int:
        return self.last_ms - self.first_ms

    @property
    def entry_page(self) -> str | None:
        """The page of the session's first pageview."""
        for block, start, end in self.segments:
            position = block.kinds.find(PAGEVIEW, start, end)
            if position >= 0:
                return block.value("page", position)
        return None

    def matching_events(self) -> Iterator[tuple[EventBlock, int]]:
        if self.matching is not None:
            yield from self.matching
            return
        for block, start, end in self.segments:
            for position in range(start, end):
                yield block, position

    @property
    def matching_event_count(self) -> int:
        """The matching events the `events` metric counts: all but engagement reports."""
        if self.matching is not None:
            return sum(1 for block, position in self.matching if block.kinds[position] != ENGAGEMENT)
        count = 0
        for block, start, end in self.segments:
            count += end - start - block.kinds.count(ENGAGEMENT, start, end)
        return count


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
    # An event-level test beside the filters' page (custom property filters,
    # aizen.query.conversions.props_test): only events that pass it match.
    event_test: Callable[[EventBlock, int], bool] | None = None


def _attribute_mask(filters: Filters) -> Callable[[EventBlock], bytes] | None:
    """A block's events whose attributes match the session filters, one byte each (1: match).

    Made once per block from its dictionaries and codes with C-level byte operations, so that
    testing a session's first event is one index, done before anything is built for it."""
    wanted = filters.session_filters
    if not wanted:
        return None

    def mask(block: EventBlock) -> bytes:
        matched: bytes | None = None
        for name, value in wanted:
            table = bytes(1 if (entry or NONE_VALUE) == value else 0 for entry in block.dictionaries[name])
            if 1 not in table:
                return bytes(len(block))  # no event of the block has the value
            codes = block.codes[name]
            if len(table) <= 256 and getattr(codes, "itemsize", 1) == 1:  # one byte a code
                hits = bytes(codes).translate(table.ljust(256, b"\x00"))
            else:
                hits = bytes(map(table.__getitem__, codes))
            if matched is not None:  # both: the bitwise AND of the two masks, as integers
                hits = (int.from_bytes(matched) & int.from_bytes(hits)).to_bytes(len(hits))
            matched = hits
        return cast(bytes, matched)

    return mask


def _merged(segments: list[Segment]) -> list[Segment]:
    """Segments of one visitor that overlap in time, as one time-ordered segment (rare:
    only sources that deliver a visitor's events out of order need it)."""
    merged = EventBlock.of_events(event for block, start, end in segments for event in block.events("", start, end))
    return [(merged, 0, len(merged))]


class SessionBuilder:
    """Groups streamed blocks into visitors and sessions and feeds an accumulator."""

    def __init__(self, scope: CountingScope, accumulator: Accumulator) -> None:
        self._scope = scope
        self._accumulator = accumulator
        self._day_starts = scope.day_starts
        # Per open local day, in arrival order: whole blocks, and (visitor, block, start, end)
        # pieces of the blocks that span days.
        self._open: dict[int, list[EventBlock | tuple[str, EventBlock, int, int]]] = {}
        self._attribute_mask = _attribute_mask(scope.filters)
        self._masks: dict[EventBlock, bytes] = {}  # of the blocks of the open days
        self._matching: dict[int, set[str]] = {}  # per open day: visitors with an event passing the mask
        self._page = scope.filters.page
        self._condition_test = session_test(scope.filters.conditions)  # filters= (aizen.query.conditions)
        self._page_test = page_test(scope.filters.conditions)
        self._event_test = scope.event_test
        self._clip = scope.start_ms > scope.day_starts[0] or scope.end_ms < scope.day_starts[-1]
        # Whether a session's events are tested one by one (else every event of it matches).
        self._events_tested = (
            self._page is not None or self._clip or self._page_test is not None or self._event_test is not None
        )
        self.events_seen = 0

    def add(self, blocks: Iterable[EventBlock], watermark_ms: int | None = None) -> None:
        """A chunk of blocks; with a watermark, every local day ending by it is counted and dropped.

        A block whose events all lie in one local day (a packed hour) is kept whole and split
        into visitors when its day closes; only the others (a tail spanning days) are cut here.
        With session filters, each kept block also notes, in C-level passes over its filter
        mask, the visitors with at least one matching event: the only ones whose sessions can
        match (a session's attributes are its first event's), so the day's other visitors are
        never grouped at all."""
        day_starts = self._day_starts
        last_day = len(day_starts) - 2
        open_days = self._open
        masked = self._attribute_mask is not None
        for block in blocks:
            times, base = block.times, block.base_ms
            if not times:
                continue
            self.events_seen += len(times)
            first, last = block.span
            index = bisect_right(day_starts, base + first) - 1
            if 0 <= index <= last_day and base + last < day_starts[index + 1]:
                open_days.setdefault(index, []).append(block)
                if masked:
                    self._note_matching(index, block)
            else:
                for index, visitor, start, end in self._pieces(block):
                    open_days.setdefault(index, []).append((visitor, block, start, end))
                    if masked and self._mask(block).find(1, start, end) >= 0:
                        self._matching.setdefault(index, set()).add(visitor)
        if watermark_ms is not None:
            for index in sorted(open_days):
                if day_starts[index + 1] <= watermark_ms:
                    self._close_day(index)

    def _note_matching(self, index: int, block: EventBlock) -> None:
        """Add the block's visitors with an event that matches the session filters to its day's set."""
        mask = self._mask(block)
        if 1 in mask:
            starts = block.run_starts
            # One `bytes.find` per run (C-level map), not one step per event.
            firsts = map(mask.find, repeat(1), starts, starts[1:])
            self._matching.setdefault(index, set()).update(compress(block.visitors, map((-1).__ne__, firsts)))

    def _pieces(self, block: EventBlock) -> Iterator[tuple[int, str, int, int]]:
        """(local day, visitor, first position, end position) of each run cut at day ends,
        without the events before the first fetched day or after the last."""
        day_starts = self._day_starts
        last_day = len(day_starts) - 2
        times, base = block.times, block.base_ms  # times are after base: bounds are shifted instead
        starts = block.run_starts
        for run, visitor in enumerate(block.visitors):
            start, end = starts[run], starts[run + 1]
            while start < end:
                index = bisect_right(day_starts, base + times[start]) - 1
                if index > last_day:
                    break  # after the fetched days
                if index < 0:
                    start = bisect_left(times, day_starts[0] - base, start, end)
                    continue  # before them
                high = day_starts[index + 1] - base
                split = end if times[end - 1] < high else bisect_left(times, high, start, end)
                yield index, visitor, start, split
                start = split

    def finish(self) -> None:
        for index in sorted(self._open):
            self._close_day(index)

    def _close_day(self, index: int) -> None:
        entries = self._open.pop(index)
        matching = self._matching.pop(index, set()) if self._attribute_mask is not None else None
        visitors: defaultdict[str, list[Segment]] = defaultdict(list)
        for entry in entries:  # in arrival order, so each visitor's segments stay in time order
            if isinstance(entry, EventBlock):
                names, starts = entry.visitors, entry.run_starts
                runs: Iterable[int] = range(len(names))
                if matching is not None:
                    runs = compress(runs, map(matching.__contains__, names))
                for run in runs:
                    visitors[names[run]].append((entry, starts[run], starts[run + 1]))
            elif matching is None or entry[0] in matching:
                visitor, block, start, end = entry
                visitors[visitor].append((block, start, end))
        add_visitor = self._accumulator.add_visitor
        for segments in visitors.values():
            if len(segments) == 1:
                # One segment without a gap is one session, and its first event's attributes decide
                # it: many visitors of a filtered query are dropped here, before anything is built,
                # and the others skip the session splitting of `_count_visitor`.
                block, start, end = segments[0]
                times = block.times
                if times[end - 1] - times[start] <= SESSION_GAP_MS:
                    if matching is not None and not self._mask(block)[start]:
                        continue
                    sessions: list[Session] = []
                    self._session(segments, sessions)
                    if sessions:
                        add_visitor(index, sessions)
                    continue
            self._count_visitor(index, segments)
        for entry in entries:
            self._masks.pop(entry if isinstance(entry, EventBlock) else entry[1], None)
        if not self._open:
            self._masks.clear()  # blocks merged from out-of-order segments

    def _mask(self, block: EventBlock) -> bytes:
        """The block's `_attribute_mask` (made once per block while its days are open)."""
        mask = self._masks.get(block)
        if mask is None:
            mask = self._masks[block] = self._attribute_mask(block)  # type: ignore[misc]
        return mask

    def _count_visitor(self, day_index: int, segments: list[Segment]) -> None:
        mask_of = self._mask if self._attribute_mask is not None else None
        sessions: list[Session] = []
        current: list[Segment] = []  # the segments of the session in progress, if it is wanted
        wanted = False
        previous = -SESSION_GAP_MS - 1
        for segment in segments:
            block, start, end = segment
            times, base = block.times, block.base_ms
            first_ms = base + times[start]
            if first_ms < previous:  # out of time order (rare): merge the visitor's segments first
                self._count_visitor(day_index, _merged(segments))
                return
            mask = mask_of(block) if mask_of is not None else None
            if first_ms - previous > SESSION_GAP_MS:  # a session starts (always at the first)
                if current:
                    self._session(current, sessions)
                    current = []
                wanted = mask is None or mask[start] == 1
            if times[end - 1] - times[start] > SESSION_GAP_MS:  # a gap may lie inside the segment
                split_from = start
                for position in range(start + 1, end):
                    if times[position] - times[position - 1] > SESSION_GAP_MS:
                        if wanted:
                            current.append((block, split_from, position))
                            self._session(current, sessions)
                            current = []
                        split_from = position
                        wanted = mask is None or mask[position] == 1
                if split_from != start:
                    segment = (block, split_from, end)
            if wanted:
                current.append(segment)
            previous = base + times[end - 1]
        if current:
            self._session(current, sessions)
        if sessions:
            self._accumulator.add_visitor(day_index, sessions)

    def _session(self, segments: list[Segment], sessions: list[Session]) -> None:
        """A session that passed the session filters (its first event's mask byte)."""
        block, first, _ = segments[0]
        if self._condition_test is not None and not self._condition_test(segments):
            return
        last_block, _, last_end = segments[-1]
        first_ms = block.base_ms + block.times[first]
        last_ms = last_block.base_ms + last_block.times[last_end - 1]
        events = engagements = pageviews = 0
        for segment_block, start, end in segments:
            kinds = segment_block.kinds
            events += end - start
            engagements += kinds.count(ENGAGEMENT, start, end)
            pageviews += kinds.count(PAGEVIEW, start, end)
        if engagements == events:
            return  # engagement reports alone do not make a visit (docs/stats.md)
        matching: list[tuple[EventBlock, int]] | None = None
        page_passes = self._page_test
        if self._events_tested:
            page = self._page
            event_test = self._event_test
            range_start, range_end = self._scope.start_ms, self._scope.end_ms
            matching = []
            for segment_block, start, end in segments:
                times, base = segment_block.times, segment_block.base_ms
                pages = segment_block.values("page") if page is not None else None
                condition_pages = segment_block.values("page") if page_passes is not None else None
                for position in range(start, end):
                    if pages is not None and pages[position] != page:
                        continue
                    if condition_pages is not None and not page_passes[condition_pages[position]]:  # type: ignore[index]
                        continue
                    if self._clip and not range_start <= base + times[position] < range_end:
                        continue
                    if event_test is not None and not event_test(segment_block, position):
                        continue
                    matching.append((segment_block, position))
            if not matching:
                return
            pageviews = sum(1 for segment_block, position in matching if segment_block.kinds[position] == PAGEVIEW)
        counts = not self._clip or self._scope.start_ms <= first_ms < self._scope.end_ms
        sessions.append(Session(segments, matching, pageviews, counts, events, first_ms, last_ms))


def count_chunks(scope: CountingScope, chunks: Iterable[tuple[int, list[EventBlock]]], accumulator: Accumulator) -> int:
    """The engine over (watermark, blocks) chunks; returns the number of events read.

    The cyclic garbage collector is paused meanwhile: counting (and the decoding the chunks
    do) allocates hundreds of thousands of short-lived tuples and lists, all freed by
    reference counting, whose allocations would otherwise start collections that walk every
    live object of the process (boto3's included) — 10-25 % of a query's CPU."""
    builder = SessionBuilder(scope, accumulator)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for watermark, blocks in chunks:
            builder.add(blocks, watermark)
        builder.finish()
    finally:
        if collecting:
            gc.enable()
    return builder.events_seen


# Accumulators ------------------------------------------------------------------------------


def half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves away from zero (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def views_per_visit(pageviews: int, visits: int) -> float:
    """Pageviews per counting session, two decimals, halves rounded up; 0 without sessions."""
    if not visits:
        return 0.0
    return half_up(100 * pageviews, visits) / 100


@dataclass(slots=True)
class Totals:
    """Everything the aggregate endpoint reports; also what a rollup day holds."""

    visitors: int = 0
    pageviews: int = 0
    sessions: int = 0
    bounces: int = 0
    duration_ms: int = 0
    events: int = 0  # pageviews, outbound clicks and custom events (not part of a rollup day)

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        self.visitors += 1
        for session in sessions:
            self.pageviews += session.matching_pageviews
            self.events += session.matching_event_count
            if session.counts:
                self.sessions += 1
                if session.bounced:
                    self.bounces += 1
                self.duration_ms += session.last_ms - session.first_ms

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
        self.events += totals.get("events", 0)  # days rolled up before events were counted: see rollups.md

    @property
    def bounce_rate(self) -> float:
        """Percent of sessions that bounced, one decimal, halves rounded up; 0 without sessions."""
        if not self.sessions:
            return 0.0
        return half_up(1000 * self.bounces, self.sessions) / 10

    @property
    def visit_duration(self) -> int:
        """Mean session length in whole seconds (halves rounded up); 0 without sessions."""
        if not self.sessions:
            return 0
        return half_up(self.duration_ms, 1000 * self.sessions)

    @property
    def views_per_visit(self) -> float:
        return views_per_visit(self.pageviews, self.sessions)

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
            case "visits":
                return self.sessions
            case "views_per_visit":
                return self.views_per_visit
            case "events":
                return self.events
        raise ValueError(f"unknown aggregate metric {name}")


class Buckets:
    """Visitors, pageviews and visits per timeseries bucket.

    A visitor counts once in every bucket holding one of its matching events; a counting
    session (a visit) once, in the bucket of its first event.
    """

    def __init__(self, bucket_starts: list[int], day_buckets: list[int] | None) -> None:
        """`day_buckets[day_index]` is the bucket of a local day (day/week/month intervals)."""
        self.starts = bucket_starts
        self._day_buckets = day_buckets
        self.visitors = [0] * len(bucket_starts)
        self.pageviews = [0] * len(bucket_starts)
        self.visits = [0] * len(bucket_starts)
        self.events = [0] * len(bucket_starts)

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
        self.visits[bucket] += totals["sessions"]
        self.events[bucket] += totals.get("events", 0)  # as Totals.add_rollup_day

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        if self._day_buckets is not None:
            bucket = self._day_buckets[day_index]
            self.visitors[bucket] += 1
            for session in sessions:
                self.pageviews[bucket] += session.matching_pageviews
                if session.counts:
                    self.visits[bucket] += 1
                self.events[bucket] += session.matching_event_count
            return
        starts = self.starts
        touched: set[int] = set()
        for session in sessions:
            if session.counts:
                self.visits[bisect_right(starts, session.first_ms) - 1] += 1
            for block, position in session.matching_events():
                bucket = bisect_right(starts, block.timestamps[position]) - 1
                touched.add(bucket)
                kind = block.kinds[position]
                if kind == PAGEVIEW:
                    self.pageviews[bucket] += 1
                if kind != ENGAGEMENT:
                    self.events[bucket] += 1
        for bucket in touched:
            self.visitors[bucket] += 1


class ValueTable:
    """Metrics per value of one breakdown property."""

    def __init__(self, prop: str) -> None:
        self.property = prop
        self._visitors: Counter[str] = Counter()
        self._pageviews: Counter[str] = Counter()
        # The page breakdown's pending counts: a page per (visitor, page) pair, a page per
        # pageview. Counted into the counters with one `Counter.update` each per few thousand
        # visitors (or when read), not two per visitor: its Python-level cost was per call.
        # (Typed with None, which no page is, so that filling them needs no `typing.cast` per segment.)
        self._pending_pages: list[str | None] = []
        self._pending_views: list[str | None] = []
        self.entries: Counter[str] = Counter()
        self.clicks: Counter[str] = Counter()
        self.visits: Counter[str] = Counter()  # counting sessions (session-attribute properties)
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
        tables: list[Counter[str]] = [getattr(self, metric) for metric in metrics]
        for value, *numbers in rows:
            # zip stops at the row's end: rows rolled up before a metric existed lack its column
            for table, number in zip(tables, numbers, strict=False):
                table[value] += number

    @property
    def visitors(self) -> Counter[str]:
        self._count_pending()
        return self._visitors

    @property
    def pageviews(self) -> Counter[str]:
        self._count_pending()
        return self._pageviews

    def _count_pending(self) -> None:
        if self._pending_pages:
            self._visitors.update(cast(list[str], self._pending_pages))
            self._pending_pages = []
        if self._pending_views:
            self._pageviews.update(cast(list[str], self._pending_views))
            self._pending_views = []

    def _add_page(self, sessions: list[Session]) -> None:
        """A visitor's pages (one visitor each) and the pages of its pageviews, added to the
        pending lists in C-level steps (a slice, `set`, `list.extend`, `compress`) rather than one
        per value; counted in bulk (`_count_pending`)."""
        seen: list[str | None] = []  # the page of each matching event, in order
        viewed = self._pending_views
        for session in sessions:
            if session.matching is None:
                every_view = session.matching_pageviews == session.events  # no kinds to look at
                for block, start, end in session.segments:
                    values = block.values("page")[start:end]  # every event has a page
                    seen += values
                    kinds = block.kinds
                    if every_view or kinds.count(PAGEVIEW, start, end) == end - start:
                        viewed += values
                    else:
                        viewed += compress(values, map(PAGEVIEW.__eq__, kinds[start:end]))
                continue
            for block, position in session.matching:
                page = block.value("page", position)
                seen.append(page)
                if block.kinds[position] == PAGEVIEW:
                    viewed.append(page)
        pending = self._pending_pages
        pending += set(seen)
        if len(pending) > PENDING_LIMIT or len(viewed) > PENDING_LIMIT:
            self._count_pending()

    def _add_entry_page(self, sessions: list[Session]) -> None:
        for session in sessions:
            if session.counts and (entry := session.entry_page) is not None:
                self.entries[entry] += 1

    def _add_exit_link(self, sessions: list[Session]) -> None:
        for session in sessions:
            for block, position in session.matching_events():
                if block.kinds[position] == OUTBOUND_CLICK:
                    self.clicks[block.value("link", position) or NONE_VALUE] += 1

    def _add_session_attribute(self, sessions: list[Session]) -> None:
        values: set[str] = set()
        for session in sessions:
            value = session.first_value(self.property)
            values.add(value)
            self._pageviews[value] += session.matching_pageviews
            if session.counts:
                self.visits[value] += 1
        for value in values:
            self._visitors[value] += 1

    def values(self) -> set[str]:
        return set(self.visitors) | set(self.pageviews) | set(self.entries) | set(self.clicks) | set(self.visits)

    def metric(self, name: str, value: str) -> int:
        table: Counter[str] = getattr(self, name)
        return table.get(value, 0)
