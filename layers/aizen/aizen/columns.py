"""Raw events as columns: the form the query engine counts.

Whatever the source — a packed event block (`aizen.store.block_codec`), the single items
of the tail (`aizen.store.events`), or events in memory — events reach the engine as
`EventBlock`s: one site's events sorted by (visitor id, time), so each visitor's events
are one contiguous *run*, with one column per field. Attribute columns are
dictionary-encoded (a list of distinct values and a code per event) and turned into
per-event values only when a query needs them; most queries read one value per session
(its first event's), through `value`.
"""

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter

from aizen.events import RawEvent

# Kinds as codes, one byte per event in `EventBlock.kinds`. A custom event's `interactive`
# flag is part of its code, so counting interactions (bounces) stays a `bytes.count`.
PAGEVIEW = 0
OUTBOUND_CLICK = 1
CUSTOM = 2  # a custom event that is an interaction (the default)
CUSTOM_NON_INTERACTIVE = 3  # a custom event the tracker sent with `i: false`
ENGAGEMENT = 4  # time and scroll on a page view: neither a pageview nor an interaction
KIND_CODES = {"pageview": PAGEVIEW, "outbound_click": OUTBOUND_CLICK, "custom": CUSTOM, "engagement": ENGAGEMENT}
KIND_NAMES = ("pageview", "outbound_click", "custom", "custom", "engagement")
INTERACTIONS = (OUTBOUND_CLICK, CUSTOM)  # the kinds after which a session has not bounced

# Every optional or per-event string field of RawEvent, in storage order (append only).
ATTRIBUTES = (
    "page",
    "referrer",
    "channel",
    "country",
    "region",
    "city",
    "device",
    "browser",
    "os",
    "link",
    "name",
    "props",
)
# The integer fields of engagement events; 0 on every other event (`events()` gives None there).
NUMBERS = ("engaged_ms", "scroll_depth")


def kind_code(event: RawEvent) -> int:
    """The event's code in `EventBlock.kinds` (`interactive` matters for custom events only)."""
    if event.kind == "custom" and not event.interactive:
        return CUSTOM_NON_INTERACTIVE
    return KIND_CODES[event.kind]


_by_visitor_and_time = attrgetter("visitor_id", "timestamp_ms")


class EventBlock:
    """Events sorted by (visitor id, time), as columns.

    - `base_ms + times[i]`: UTC ms of event i (`timestamps[i]`); `kinds[i]`: one of the kind
      codes above (bytes).
    - `visitors[r]`, `run_starts[r]`..`run_starts[r + 1]`: run r, one visitor's events.
    - attribute `a`: `dictionaries[a][codes[a][i]]` is event i's value (None when absent).
    - `numbers["engaged_ms"][i]`, `numbers["scroll_depth"][i]`: event i's engagement
      figures (0 unless `kinds[i] == ENGAGEMENT`).

    A packed block's times are offsets from its hour (`base_ms`), as stored: the engine
    compares them with bounds shifted by `base_ms` instead of adding it to every event.
    """

    __slots__ = (
        "_span",
        "_timestamps",
        "_values",
        "base_ms",
        "codes",
        "dictionaries",
        "kinds",
        "numbers",
        "run_starts",
        "times",
        "visitors",
    )

    def __init__(
        self,
        times: list[int],
        kinds: bytes,
        visitors: list[str],
        run_starts: list[int],
        dictionaries: dict[str, list[str | None]],
        codes: dict[str, Sequence[int]],
        numbers: dict[str, Sequence[int]] | None = None,
        *,
        base_ms: int = 0,
        span: tuple[int, int] | None = None,
    ) -> None:
        """`numbers` None: a block without engagement events (all zeros). `span`: the smallest
        and largest of `times`, when the caller knows them (a packed block's header holds them)."""
        self.times = times
        self.base_ms = base_ms
        self.kinds = kinds
        self.visitors = visitors
        self.run_starts = run_starts
        self.dictionaries = dictionaries
        self.codes = codes
        self.numbers: dict[str, Sequence[int]] = (
            numbers if numbers is not None else dict.fromkeys(NUMBERS, bytes(len(times)))
        )
        self._timestamps = times if base_ms == 0 else None
        self._values: dict[str, list[str | None]] = {}
        self._span = span

    def __len__(self) -> int:
        return len(self.times)

    @property
    def span(self) -> tuple[int, int]:
        """The smallest and the largest of `times` (of a block with events): which local days it
        touches. A packed block's come from its header, saving two passes over the times."""
        if self._span is None:
            self._span = (min(self.times), max(self.times))
        return self._span

    @property
    def timestamps(self) -> list[int]:
        """Every event's UTC ms (added up once per block, when first asked for)."""
        if self._timestamps is None:
            self._timestamps = list(map(self.base_ms.__add__, self.times))
        return self._timestamps

    def value(self, attribute: str, position: int) -> str | None:
        """One event's value of an attribute."""
        return self.dictionaries[attribute][self.codes[attribute][position]]

    def values(self, attribute: str) -> list[str | None]:
        """Every event's value of an attribute (decoded once per block)."""
        decoded = self._values.get(attribute)
        if decoded is None:
            lookup = self.dictionaries[attribute].__getitem__
            decoded = self._values[attribute] = list(map(lookup, self.codes[attribute]))
        return decoded

    def runs(self) -> Iterator[tuple[str, int, int]]:
        """(visitor id, first position, end position) of every run."""
        starts = self.run_starts
        for run, visitor in enumerate(self.visitors):
            yield visitor, starts[run], starts[run + 1]

    def events(self, site_id: str, start: int = 0, end: int | None = None) -> Iterator[RawEvent]:
        """The events at positions start..end as RawEvents (tests, expiry filtering, the rare
        out-of-order merge)."""
        end = len(self) if end is None else end
        columns = [self.values(attribute) for attribute in ATTRIBUTES]
        engaged_ms, scroll_depth = (self.numbers[number] for number in NUMBERS)
        run = bisect_right(self.run_starts, start) - 1
        for position in range(start, end):
            while self.run_starts[run + 1] <= position:
                run += 1
            kind = self.kinds[position]
            engagement = kind == ENGAGEMENT
            yield RawEvent(  # type: ignore[misc]  # the attributes fill the fields before `interactive`
                site_id,
                self.timestamps[position],
                KIND_NAMES[kind],  # type: ignore[arg-type]
                self.visitors[run],
                *(column[position] for column in columns),  # type: ignore[arg-type]
                interactive=kind != CUSTOM_NON_INTERACTIVE,
                engaged_ms=engaged_ms[position] if engagement else None,
                scroll_depth=scroll_depth[position] if engagement else None,
            )

    @classmethod
    def of_events(cls, events: Iterable[RawEvent]) -> "EventBlock":
        """A block of any events (sorted here)."""
        ordered = sorted(events, key=_by_visitor_and_time)
        visitors: list[str] = []
        run_starts: list[int] = []
        previous: str | None = None
        for position, event in enumerate(ordered):
            if event.visitor_id != previous:
                previous = event.visitor_id
                visitors.append(previous)
                run_starts.append(position)
        run_starts.append(len(ordered))
        dictionaries: dict[str, list[str | None]] = {}
        codes: dict[str, Sequence[int]] = {}
        for attribute in ATTRIBUTES:
            dictionary: list[str | None] = [None]
            index: dict[str | None, int] = {None: 0}
            column: list[int] = []
            for value in map(attrgetter(attribute), ordered):
                code = index.get(value)
                if code is None:
                    code = index[value] = len(dictionary)
                    dictionary.append(value)
                column.append(code)
            dictionaries[attribute] = dictionary
            codes[attribute] = column
        kinds = bytes(map(kind_code, ordered))
        numbers: dict[str, Sequence[int]] | None = None
        if ENGAGEMENT in kinds:
            numbers = {number: [getattr(event, number) or 0 for event in ordered] for number in NUMBERS}
        return cls([event.timestamp_ms for event in ordered], kinds, visitors, run_starts, dictionaries, codes, numbers)

    def since(self, first_ms: int, site_id: str) -> "EventBlock":
        """The block without its events before `first_ms` (expired events of an old block)."""
        if not self.times or self.base_ms + self.span[0] >= first_ms:
            return self
        return EventBlock.of_events(event for event in self.events(site_id) if event.timestamp_ms >= first_ms)
