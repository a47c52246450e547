"""The goal and custom property predicates every goal or property filter uses."""

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.goals import Goal
from aizen.query.conversions import GoalMatcher, goal_test, prop_value, props_test

SIGNUP = Goal("g1", "Signup", event_name="Signup")
BLOG = Goal("g2", "Visit /blog/*", page_pattern="/blog/*")
OUTBOUND = Goal("g3", "Outbound Link: Click", event_name="Outbound Link: Click")


def _block() -> EventBlock:
    visitor = "00000000000000a1"
    return EventBlock.of_events(
        [
            RawEvent("s", 1, "pageview", visitor, "/blog/post", props='{"author": "ann"}'),
            RawEvent("s", 2, "custom", visitor, "/blog/post", name="Signup", props='{"plan": "pro"}'),
            RawEvent("s", 3, "custom", visitor, "/blog/post", name="Signup", interactive=False),
            RawEvent("s", 4, "outbound_click", visitor, "/blog/post", link="https://x.com"),
            RawEvent("s", 5, "engagement", visitor, "/blog/post", engaged_ms=1, scroll_depth=2),
            RawEvent("s", 6, "pageview", visitor, "/blog/2024/post"),
            RawEvent("s", 7, "custom", visitor, "/blog/post", name="Outbound Link: Click"),
        ]
    )


def test_goals_convert_on_their_kind_of_event_only() -> None:
    block = _block()
    matcher = GoalMatcher([SIGNUP, BLOG, OUTBOUND])
    assert [[goal.goal_id for goal in matcher.goals_of(block, position)] for position in range(len(block))] == [
        ["g2"],  # a pageview of a page the pattern matches
        ["g1"],  # a custom event of the goal's name
        ["g1"],  # non-interactive custom events convert too
        ["g3"],  # an outbound click is the tracker's "Outbound Link: Click"
        [],  # engagement reports convert nothing
        [],  # `*` stops at `/`
        ["g3"],  # ... and so is a custom event of that name
    ]
    assert [goal_test(BLOG)(block, position) for position in range(len(block))] == [True] + [False] * 6


def test_props_tests_compare_exactly_and_none_matches_a_missing_key() -> None:
    block = _block()
    assert [prop_value(block, position, "plan") for position in range(3)] == ["(none)", "pro", "(none)"]
    pro = props_test([("plan", "pro")])
    none = props_test([("plan", "(none)"), ("author", "ann")])
    assert pro is not None
    assert none is not None
    assert [pro(block, position) for position in range(3)] == [False, True, False]
    assert [none(block, position) for position in range(3)] == [True, False, False]
    assert props_test([]) is None
