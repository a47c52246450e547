"""How the counting rules treat custom events and engagement reports (docs/stats.md, Counting):
pageviews are pageviews only, custom events are interactions unless sent non-interactive, and
engagement reports are neither, nor a visit on their own."""

import pytest

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.query.engine import CountingScope, Totals, ValueTable, count_chunks

DAY_START = 1_775_113_200_000  # a local midnight (UTC ms); the day is counted whole
DAY_END = DAY_START + 86_400_000
MINUTE = 60_000


def pageview(visitor: str, minute: int, page: str = "/") -> RawEvent:
    return RawEvent("s", DAY_START + minute * MINUTE, "pageview", visitor, page)


def custom(visitor: str, minute: int, *, interactive: bool = True) -> RawEvent:
    return RawEvent("s", DAY_START + minute * MINUTE, "custom", visitor, "/", name="Signup", interactive=interactive)


def engagement(visitor: str, minute: int, page: str = "/") -> RawEvent:
    return RawEvent("s", DAY_START + minute * MINUTE, "engagement", visitor, page, engaged_ms=9_000, scroll_depth=80)


def totals(events: list[RawEvent]) -> Totals:
    scope = CountingScope(day_starts=[DAY_START, DAY_END], start_ms=DAY_START, end_ms=DAY_END)
    counted = Totals()
    count_chunks(scope, [(DAY_END, [EventBlock.of_events(events)])], counted)
    return counted


@pytest.mark.parametrize(
    ("events", "bounces"),
    [
        ([pageview("a", 0)], 1),
        ([pageview("a", 0), custom("a", 1)], 0),  # a custom event is an interaction
        ([pageview("a", 0), custom("a", 1, interactive=False)], 1),  # unless sent `i: false`
        ([pageview("a", 0), engagement("a", 2)], 1),  # an engagement report is none
        ([pageview("a", 0), engagement("a", 2), pageview("a", 3)], 0),  # two pageviews
        ([custom("a", 0)], 0),  # no pageview at all: no bounce
    ],
)
def test_a_bounce_is_one_pageview_and_no_interaction(events: list[RawEvent], bounces: int) -> None:
    counted = totals(events)
    assert (counted.sessions, counted.bounces) == (1, bounces)


def test_pageviews_count_only_pageviews() -> None:
    events = [pageview("a", 0), custom("a", 1), engagement("a", 2), pageview("a", 3, "/b"), engagement("a", 4, "/b")]

    counted = totals(events)
    pages = ValueTable("page")
    count_chunks(
        CountingScope(day_starts=[DAY_START, DAY_END], start_ms=DAY_START, end_ms=DAY_END),
        [(DAY_END, [EventBlock.of_events(events)])],
        pages,
    )

    assert (counted.visitors, counted.pageviews) == (1, 2)
    assert (pages.metric("pageviews", "/"), pages.metric("pageviews", "/b")) == (1, 1)


def test_engagement_reports_alone_are_no_visit() -> None:
    # visitor b's report comes two hours after its page view: a session of its own, which is none
    events = [pageview("a", 0), pageview("b", 0), engagement("b", 120)]

    counted = totals(events)

    assert (counted.visitors, counted.sessions, counted.pageviews, counted.bounces) == (2, 2, 2, 2)
    assert totals([engagement("c", 5)]).visitors == 0
