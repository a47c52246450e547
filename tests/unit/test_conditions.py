"""`filters=` conditions in the engine (aizen.query.conditions through aizen.query.engine), over blocks in memory."""

import pytest

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.query.conditions import ValueTest
from aizen.query.engine import CountingScope, Totals, count_chunks
from aizen.query.filter_grammar import parse_filters
from aizen.vocabulary import Condition, Filters

DAY_MS = 86_400_000
MINUTE = 60_000


def _event(visitor: str, minute: int, page: str, kind: str = "pageview", **attributes: str) -> RawEvent:
    return RawEvent("site", minute * MINUTE, kind, visitor, page, **attributes)  # type: ignore[arg-type]


# a: one session /blog/x -> /pricing from google.com in US on Chrome
# b: one session /, an outbound click on / and /blog/y/z, no referrer, DE, Safari
# c: a session with only an outbound click (no pageview: no entry or exit page), no country
EVENTS = [
    _event("a", 1, "/blog/x", referrer="google.com", country="US", browser="Chrome"),
    _event("a", 2, "/pricing", referrer="github.com", country="US", browser="Chrome"),
    _event("b", 1, "/", country="DE", browser="Safari"),
    _event("b", 2, "/", "outbound_click", country="DE", browser="Safari", link="https://x.example"),
    _event("b", 3, "/blog/y/z", country="DE", browser="Safari"),
    _event("c", 5, "/a|b", "outbound_click", browser="Firefox", link="https://y.example"),
]


def _count(filters: str) -> tuple[int, int]:
    totals = Totals()
    scope = CountingScope(
        day_starts=[0, DAY_MS], start_ms=0, end_ms=DAY_MS, filters=Filters(conditions=parse_filters(filters))
    )
    count_chunks(scope, [(DAY_MS, [EventBlock.of_events(EVENTS)])], totals)
    return totals.visitors, totals.pageviews


@pytest.mark.parametrize(
    ("filters", "visitors", "pageviews"),
    [
        ("visit:country==US", 1, 2),
        ("visit:country==US|DE", 2, 4),
        ("visit:country!=US|DE", 1, 0),
        ("visit:country==(none)", 1, 0),
        ("visit:country!=(none)", 2, 4),
        ("visit:referrer==google.com", 1, 2),  # the first event's referrer, not a later one's
        ("visit:source==github.com", 0, 0),
        ("visit:referrer==(none)", 2, 2),
        ("event:page==/blog/*", 1, 1),  # /blog/x, not /blog/y/z
        ("event:page==/blog/**", 2, 2),
        ("event:page!=/blog/**", 3, 2),  # b's / pageview and click, a's /pricing, c's click
        ("event:page==/", 1, 1),  # b's pageview and its click on /
        (r"event:page==/a\|b", 1, 0),
        ("event:page==/a|b", 0, 0),  # two values: /a or b
        ("visit:entry_page==/blog/**", 1, 2),
        ("visit:exit_page==/blog/**", 1, 2),  # b's last pageview is /blog/y/z (its click came before)
        ("visit:exit_page==/pricing", 1, 2),
        ("visit:entry_page==(none)", 1, 0),  # c has no pageview
        ("visit:browser!=Safari;event:page==/blog/**", 1, 1),
        ("visit:browser==*;visit:browser!=Chrome|Safari", 1, 0),
        ("event:page==/blog/**;event:page!=/blog/*/**", 1, 1),
        ("visit:city==**", 3, 4),  # every value matches **, (none) included
    ],
)
def test_conditions_select_sessions_and_events(filters: str, visitors: int, pageviews: int) -> None:
    assert _count(filters) == (visitors, pageviews)


def test_a_value_is_matched_once() -> None:
    passes = ValueTest([Condition("page", True, ("/blog/**",)), Condition("page", False, ("/**",))])
    assert (passes["/x"], passes["/blog/a"], passes["x"]) == (True, False, False)
    assert dict(passes) == {"/x": True, "/blog/a": False, "x": False}
