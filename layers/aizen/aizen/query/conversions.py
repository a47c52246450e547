"""Goals, custom properties and engagement over events as columns (docs/stats.md, Goals and
custom properties; Engagement). Pure: no I/O.

The predicates (`GoalMatcher`, `goal_test`, `props_test`, `prop_value`) answer for one event
of a block and are what every goal or property filter uses; the `filters=` conditions on
`event:goal` and `event:props:<key>` are compiled here into the same kind of predicate
(`filter_event_test`, `goals_selected`, `converting_test`), matched once per distinct value
(`aizen.query.conditions.ValueTest`). The accumulators here take the sessions the engine
built (`aizen.query.engine`), like its own `Totals`, `Buckets` and `ValueTable`:

- `GoalFilter` keeps, of each session, the events that convert a goal, and passes that
  restricted session on (a `goal=` filter, or `event:goal==…`); the unrestricted sessions go
  to a *base* accumulator, the denominator of `conversion_rate`;
- `GoalExclusion` drops the sessions that convert one of some goals (`event:goal!=…`);
- `GoalTable` counts converters and conversions per goal (`property=goal`);
- `PropsTable` counts visitors, events and pageviews per value of one property
  (`property=props:<key>`);
- `PageEngagement` sums engaged time and deepest scrolls per page (`time_on_page`,
  `scroll_depth` on `property=page`).

Engagement reports are never conversions nor events (`events` counts pageviews, outbound
clicks and custom events), and carry no goal.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from aizen.columns import CUSTOM, CUSTOM_NON_INTERACTIVE, ENGAGEMENT, OUTBOUND_CLICK, PAGEVIEW, EventBlock
from aizen.events import NONE_VALUE
from aizen.goals import OUTBOUND_CLICK_EVENT, Goal
from aizen.query.conditions import ValueTest
from aizen.query.engine import Accumulator, RollupAccumulator, RollupRow, Session, half_up
from aizen.vocabulary import (
    GOAL_KEY_SEPARATOR,
    GOAL_ROLLUP_PROPERTIES,
    GOAL_TABLE,
    OTHER_VALUE,
    Condition,
    Filters,
    goal_table,
)

EventTest = Callable[[EventBlock, int], bool]
CUSTOM_KINDS = (CUSTOM, CUSTOM_NON_INTERACTIVE)


# Predicates -------------------------------------------------------------------------------


class GoalMatcher:
    """Which of a site's goals an event converts: a pageview goal on pageviews whose page
    matches its pattern, an event goal on custom events of its name (and the outbound-click
    goal on outbound clicks). Answers are cached per page and per event name."""

    def __init__(self, goals: Sequence[Goal]) -> None:
        self.goals = tuple(goals)
        self._page_goals = [goal for goal in self.goals if goal.page_pattern is not None]
        self._by_name: defaultdict[str, list[Goal]] = defaultdict(list)
        for goal in self.goals:
            if goal.event_name is not None:
                self._by_name[goal.event_name].append(goal)
        self._outbound = tuple(self._by_name.get(OUTBOUND_CLICK_EVENT, ()))
        self._pages: dict[str | None, tuple[Goal, ...]] = {}

    def goals_of(self, block: EventBlock, position: int) -> tuple[Goal, ...]:
        kind = block.kinds[position]
        if kind == PAGEVIEW:
            page = block.value("page", position)
            found = self._pages.get(page)
            if found is None:
                found = self._pages[page] = tuple(
                    goal for goal in self._page_goals if page is not None and goal.matches_page(page)
                )
            return found
        if kind in CUSTOM_KINDS:
            return tuple(self._by_name.get(block.value("name", position) or "", ()))
        if kind == OUTBOUND_CLICK:
            return self._outbound
        return ()


def goal_test(goal: Goal) -> EventTest:
    """True for an event that converts `goal`."""
    matcher = GoalMatcher([goal])

    def test(block: EventBlock, position: int) -> bool:
        return bool(matcher.goals_of(block, position))

    return test


@lru_cache(maxsize=4096)
def _parsed(props: str) -> Mapping[str, str]:
    parsed: dict[str, str] = json.loads(props)
    return parsed


def prop_value(block: EventBlock, position: int, key: str) -> str:
    """An event's value of custom property `key`, `(none)` when it has none."""
    props = block.value("props", position)
    if props is None:
        return NONE_VALUE
    return _parsed(props).get(key, NONE_VALUE)


def props_test(props: Sequence[tuple[str, str]]) -> EventTest | None:
    """True for an event whose every (key, value) holds (`(none)`: the event lacks the key);
    None when there is nothing to test."""
    if not props:
        return None
    wanted = tuple(props)

    def test(block: EventBlock, position: int) -> bool:
        return all(prop_value(block, position, key) == value for key, value in wanted)

    return test


def filter_event_test(filters: Filters) -> EventTest | None:
    """True for an event that passes the `props:<key>` filters and every `event:props:<key>`
    condition (its value of the key, `(none)` without it, against the condition's patterns);
    None when there is nothing to test."""
    plain = props_test(filters.props)
    by_key: defaultdict[str, list[Condition]] = defaultdict(list)
    for condition in filters.conditions:
        if condition.property == "props":
            by_key[condition.key or ""].append(condition)
    if not by_key:
        return plain
    checks = [(key, ValueTest(conditions)) for key, conditions in by_key.items()]

    def test(block: EventBlock, position: int) -> bool:
        if plain is not None and not plain(block, position):
            return False
        return all(passes[prop_value(block, position, key)] for key, passes in checks)

    return test


def goals_selected(condition: Condition, goals: Sequence[Goal]) -> tuple[Goal, ...]:
    """The goals whose name one of an `event:goal` condition's patterns matches (whatever its operator)."""
    names = ValueTest([condition._replace(negated=False)])
    return tuple(goal for goal in goals if names[goal.name])


def converting_test(selections: Sequence[Sequence[Goal]], goals: Sequence[Goal]) -> EventTest:
    """True for an event that converts, for each selection (an `event:goal==…` condition's
    goals), one of its goals: the conditions are AND-ed, each an event-level filter."""
    matcher = GoalMatcher(goals)
    wanted = [frozenset(goal.goal_id for goal in selection) for selection in selections]

    def test(block: EventBlock, position: int) -> bool:
        converted = {goal.goal_id for goal in matcher.goals_of(block, position)}
        return all(not converted.isdisjoint(ids) for ids in wanted)

    return test


def restricted(session: Session, test: EventTest) -> Session | None:
    """The session with only its matching events that pass `test`; None when none does."""
    kept = [(block, position) for block, position in session.matching_events() if test(block, position)]
    if not kept:
        return None
    pageviews = sum(1 for block, position in kept if block.kinds[position] == PAGEVIEW)
    return Session(session.segments, kept, pageviews, session.counts, session.events, session.first_ms, session.last_ms)


# Accumulators -----------------------------------------------------------------------------


class Fanout:
    """Feeds every visitor to several accumulators in one pass over the events; a rolled-up
    day goes to each of them too (they read the same table, or only the day's totals)."""

    def __init__(self, *targets: Accumulator) -> None:
        self._targets = targets

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        for target in self._targets:
            target.add_visitor(day_index, sessions)

    @property
    def rollup_property(self) -> str | None:
        tables = {getattr(target, "rollup_property", None) for target in self._targets} - {None}
        if len(tables) > 1:
            raise ValueError(f"one rolled-up day holds one table per question, not {sorted(map(str, tables))}")
        return next(iter(tables), None)

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        listed = list(rows)
        for target in self._targets:
            cast(RollupAccumulator, target).add_rollup_day(day_index, totals, listed, metrics)


class GoalFilter(Fanout):
    """A `goal=` filter: `base` gets every visitor as the other filters match them (the
    denominator of conversion_rate); `converted` gets each visitor's sessions restricted to
    the events that convert the goal, and only visitors with one.

    `goal` None: the events `test` passes (`converting_test`, `event:goal==…` conditions);
    such a filter is counted from raw events only (it has no rollup rows)."""

    def __init__(
        self, goal: Goal | None, converted: Accumulator, base: Accumulator | None = None, test: EventTest | None = None
    ) -> None:
        super().__init__(*([] if base is None else [base]))
        if test is None:
            if goal is None:
                raise ValueError("a goal filter needs a goal or a test")
            test = goal_test(goal)
        self._goal = goal
        self._test = test
        self._converted = converted
        self._base = base

    @property
    def rollup_property(self) -> str:
        """The goal's table: `goals` for totals and buckets, `goals:<property>` for a breakdown."""
        inner = getattr(self._converted, "rollup_property", None)
        return GOAL_TABLE if inner is None else goal_table(inner)

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        """The goal's rows of a rolled-up day (`goals` or `goals:<property>`); the base gets the day's totals.
        A page goal's conversions are pageviews; an event goal's are none."""
        if self._goal is None:
            raise ValueError("goal conditions are counted from raw events only: they have no rollup rows")
        if self._base is not None:
            cast(RollupAccumulator, self._base).add_rollup_day(day_index, totals, (), ())
        converted = cast(RollupAccumulator, self._converted)
        goal_id = self._goal.goal_id
        page_goal = self._goal.page_pattern is not None
        if converted.rollup_property is None:
            for value, visitors, events in rows:
                if value == goal_id:
                    pageviews = events if page_goal else 0
                    day = {"visitors": visitors, "pageviews": pageviews, "events": events}
                    converted.add_rollup_day(day_index, {**_NO_SESSIONS, **day}, (), ())
            return
        prefix = goal_id + GOAL_KEY_SEPARATOR
        own = [
            [key[len(prefix) :], visitors, events if page_goal else 0]
            for key, visitors, events in rows
            if key.startswith(prefix)
        ]
        converted.add_rollup_day(day_index, totals, own, ("visitors", "pageviews"))

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        super().add_visitor(day_index, sessions)
        kept = [session for session in map(self._restrict, sessions) if session is not None]
        if kept:
            self._converted.add_visitor(day_index, kept)

    def _restrict(self, session: Session) -> Session | None:
        return restricted(session, self._test)


class GoalExclusion(Fanout):
    """`event:goal!=…`: a session that converts one of `goals` anywhere in it (whatever the
    other filters keep of it) is dropped, as Plausible's "goal is not" drops the sessions
    that completed the goal; the others go on to `inner` unchanged. Counted from raw events
    only (filtered questions never read rollups)."""

    def __init__(self, goals: Sequence[Goal], inner: Accumulator) -> None:
        super().__init__(inner)
        self._matcher = GoalMatcher(goals)

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        kept = [session for session in sessions if not self._converts(session)]
        if kept:
            super().add_visitor(day_index, kept)

    def _converts(self, session: Session) -> bool:
        goals_of = self._matcher.goals_of
        return any(
            goals_of(block, position) for block, start, end in session.segments for position in range(start, end)
        )


def conversion_rate(converters: int, visitors: int) -> float:
    """Percent, one decimal, halves rounded up; 0 without visitors."""
    if not visitors:
        return 0.0
    return half_up(1000 * converters, visitors) / 10


_NO_SESSIONS = {"sessions": 0, "bounces": 0, "duration_ms": 0}  # conversions from rollups carry no sessions


class GoalTable:
    """Converters (visitors) and conversions (events) per goal, by goal name."""

    def __init__(self, matcher: GoalMatcher) -> None:
        self._matcher = matcher
        self._names = {goal.goal_id: goal.name for goal in matcher.goals}
        self.visitors: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    rollup_property = GOAL_TABLE

    def add_rollup_day(
        self, day_index: int, totals: Mapping[str, int], rows: Iterable[RollupRow], metrics: tuple[str, ...]
    ) -> None:
        for goal_id, visitors, events in rows:
            name = self._names.get(goal_id)
            if name is not None:  # a deleted goal's rows stay in old days
                self.visitors[name] += visitors
                self.events[name] += events

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        goals_of = self._matcher.goals_of
        converted: set[str] = set()
        for session in sessions:
            for block, position in session.matching_events():
                for goal in goals_of(block, position):
                    self.events[goal.name] += 1
                    converted.add(goal.name)
        for name in converted:
            self.visitors[name] += 1

    def values(self) -> set[str]:
        return set(self.visitors)


class GoalValueTable:
    """Converters (visitors) and conversions (events) per `<goal id><GOAL_KEY_SEPARATOR><value>`
    key of one property: a day's `goals:<property>` table, ranked like a `ValueTable`."""

    def __init__(self) -> None:
        self.visitors: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def values(self) -> set[str]:
        return set(self.visitors)

    def metric(self, name: str, value: str) -> int:
        return (self.visitors if name == "visitors" else self.events).get(value, 0)


class GoalRollup:
    """A day's goal conversions for its rollup: per goal, and per goal and value of each
    `GOAL_ROLLUP_PROPERTIES` property, converters and conversions, counted as `GoalFilter`
    over the goal feeds `Totals` and `ValueTable` (page: the converting event's page; the
    others: the session's value).

    `kept`: per property, the keys a day over its limit of values keeps; every other key of
    that property is counted as its goal's `OTHER_VALUE` (docs/rollups.md, "Distinct values
    per day")."""

    def __init__(self, goals: Sequence[Goal], kept: Mapping[str, set[str]] | None = None) -> None:
        self._matcher = GoalMatcher(goals)
        self._kept = kept or {}
        self.visitors: Counter[str] = Counter({goal.goal_id: 0 for goal in goals})
        self.events: Counter[str] = Counter({goal.goal_id: 0 for goal in goals})
        self.by_property = {prop: GoalValueTable() for prop in GOAL_ROLLUP_PROPERTIES}

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        if not self._matcher.goals:
            return
        goals_of = self._matcher.goals_of
        converted: set[str] = set()
        keys: set[tuple[str, str]] = set()
        for session in sessions:
            for block, position in session.matching_events():
                goals = goals_of(block, position)
                if not goals:
                    continue
                for prop in GOAL_ROLLUP_PROPERTIES:
                    value = (block.value("page", position) if prop == "page" else None) or session.first_value(prop)
                    kept = self._kept.get(prop)
                    for goal in goals:
                        key = goal.goal_id + GOAL_KEY_SEPARATOR + value
                        if kept is not None and key not in kept:
                            key = goal.goal_id + GOAL_KEY_SEPARATOR + OTHER_VALUE
                        self.by_property[prop].events[key] += 1
                        keys.add((prop, key))
                for goal in goals:
                    self.events[goal.goal_id] += 1
                    converted.add(goal.goal_id)
        for goal_id in converted:
            self.visitors[goal_id] += 1
        for prop, key in keys:
            self.by_property[prop].visitors[key] += 1

    def tables(self) -> dict[str, list[list[Any]]]:
        """`goals` (every goal, zeros included) and `goals:<property>` rows, sorted."""
        tables = {
            GOAL_TABLE: [[goal_id, self.visitors[goal_id], self.events[goal_id]] for goal_id in sorted(self.visitors)]
        }
        for prop, table in self.by_property.items():
            tables[goal_table(prop)] = [[key, table.visitors[key], table.events[key]] for key in sorted(table.visitors)]
        return tables


class PropsTable:
    """Visitors, events and pageviews per value of one custom property (`(none)` for events
    without it); engagement reports are not events."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.visitors: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.pageviews: Counter[str] = Counter()

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        values: set[str] = set()
        for session in sessions:
            for block, position in session.matching_events():
                kind = block.kinds[position]
                if kind == ENGAGEMENT:
                    continue
                value = prop_value(block, position, self.key)
                values.add(value)
                self.events[value] += 1
                if kind == PAGEVIEW:
                    self.pageviews[value] += 1
        for value in values:
            self.visitors[value] += 1

    def values(self) -> set[str]:
        return set(self.visitors)


class PageEngagement:
    """Per page: pageviews, engaged milliseconds of the engagement reports, and each visitor's
    deepest reported scroll (docs/stats.md, Engagement)."""

    def __init__(self) -> None:
        self.pageviews: Counter[str] = Counter()
        self.engaged_ms: Counter[str] = Counter()
        self.scroll_sum: Counter[str] = Counter()
        self.scrolled_visitors: Counter[str] = Counter()

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        deepest: dict[str, int] = {}
        for session in sessions:
            for block, position in _engagement_and_pageviews(session):
                page = block.value("page", position) or NONE_VALUE
                if block.kinds[position] == PAGEVIEW:
                    self.pageviews[page] += 1
                    continue
                self.engaged_ms[page] += block.numbers["engaged_ms"][position]
                scroll = block.numbers["scroll_depth"][position]
                if scroll > deepest.get(page, -1):
                    deepest[page] = scroll
        for page, scroll in deepest.items():
            self.scroll_sum[page] += scroll
            self.scrolled_visitors[page] += 1

    def time_on_page(self, page: str) -> int | None:
        """Mean engaged seconds per page view, whole seconds (halves up); None without page views."""
        pageviews = self.pageviews.get(page, 0)
        if not pageviews:
            return None
        return half_up(self.engaged_ms.get(page, 0), 1000 * pageviews)

    def scroll_depth(self, page: str) -> int | None:
        """Mean of the visitors' deepest scroll on the page, percent (halves up); None without reports."""
        visitors = self.scrolled_visitors.get(page, 0)
        if not visitors:
            return None
        return half_up(self.scroll_sum[page], visitors)


def _engagement_and_pageviews(session: Session) -> Iterator[tuple[EventBlock, int]]:
    for block, position in session.matching_events():
        if block.kinds[position] in (PAGEVIEW, ENGAGEMENT):
            yield block, position
