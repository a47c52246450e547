"""How the engine matches `filters=` conditions (aizen.vocabulary.Condition). Pure.

A condition's patterns are matched once per distinct value (a dictionary that fills itself),
so a session costs one lookup per condition and an event one lookup per page condition,
whatever the patterns. The missing value is `(none)`, so `==(none)` matches it and `*`/`**`
match it too.

- `page` conditions match events (`page_test`);
- `entry_page`/`exit_page` conditions match the session's first/last pageview's page, and
  the session attributes its first event's value (`session_test`).

Goal and custom-property conditions are not matched here: they need the site's goals and the
events' props, so aizen.query.conversions compiles them (with `ValueTest`) into an event test
(`event:props:<key>`, `event:goal==…`) and a session exclusion (`event:goal!=…`); the
engine's session and page tests skip them (aizen.vocabulary.CONVERSION_CONDITION_PROPERTIES).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from aizen.columns import PAGEVIEW
from aizen.events import NONE_VALUE
from aizen.patterns import wildcard
from aizen.vocabulary import SESSION_ATTRIBUTES, Condition

if TYPE_CHECKING:
    from aizen.query.engine import Segment


class ValueTest(dict[str, bool]):
    """value -> whether it passes every one of the conditions; each value is tested once."""

    def __init__(self, conditions: list[Condition]) -> None:
        super().__init__()
        self._conditions = [
            ([wildcard(pattern) for pattern in condition.patterns], condition.negated) for condition in conditions
        ]

    def __missing__(self, value: str) -> bool:
        passes = all(
            any(pattern.fullmatch(value) for pattern in patterns) != negated for patterns, negated in self._conditions
        )
        self[value] = passes
        return passes


def page_test(conditions: tuple[Condition, ...]) -> ValueTest | None:
    """page -> whether an event on it matches every `page` condition; None without any."""
    pages = [condition for condition in conditions if condition.property == "page"]
    return ValueTest(pages) if pages else None


def _first_pageview_page(segments: "list[Segment]") -> str:
    for block, start, end in segments:
        position = block.kinds.find(PAGEVIEW, start, end)
        if position >= 0:
            return block.value("page", position) or NONE_VALUE
    return NONE_VALUE


def _last_pageview_page(segments: "list[Segment]") -> str:
    for block, start, end in reversed(segments):
        position = block.kinds.rfind(PAGEVIEW, start, end)
        if position >= 0:
            return block.value("page", position) or NONE_VALUE
    return NONE_VALUE


def _first_event_value(attribute: str) -> "Callable[[list[Segment]], str]":
    def value(segments: "list[Segment]") -> str:
        block, first, _ = segments[0]
        return block.value(attribute, first) or NONE_VALUE

    return value


def session_test(conditions: tuple[Condition, ...]) -> "Callable[[list[Segment]], bool] | None":
    """segments of a session -> whether it passes every session-level condition; None without any."""
    readers: dict[str, Callable[[list[Segment]], str]] = {
        "entry_page": _first_pageview_page,
        "exit_page": _last_pageview_page,
        **{attribute: _first_event_value(attribute) for attribute in SESSION_ATTRIBUTES},
    }
    checks: list[tuple[Callable[[list[Segment]], str], ValueTest]] = []
    for prop, reader in readers.items():
        mine = [condition for condition in conditions if condition.property == prop]
        if mine:
            checks.append((reader, ValueTest(mine)))
    if not checks:
        return None

    def test(segments: "list[Segment]") -> bool:
        return all(passes[reader(segments)] for reader, passes in checks)

    return test
