"""The goal and custom property predicates every goal or property filter uses."""

from aizen.columns import EventBlock
from aizen.events import RawEvent
from aizen.goals import Goal
from aizen.query.conversions import (
    GoalExclusion,
    GoalMatcher,
    converting_test,
    filter_event_test,
    goal_test,
    goals_selected,
    prop_value,
    props_test,
)
from aizen.query.engine import CountingScope, Session, count_chunks
from aizen.query.filter_grammar import parse_filters
from aizen.vocabulary import Filters

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


def test_props_conditions_match_each_value_against_their_patterns() -> None:
    # Given an event:props condition with several values, a wildcard and (none), and a plain props filter
    block = _block()
    plans = filter_event_test(Filters(conditions=parse_filters("event:props:plan==p*|(none)")))
    not_ann = filter_event_test(
        Filters(conditions=parse_filters("event:props:author!=ann"), props=(("plan", "(none)"),))
    )
    assert plans is not None
    assert not_ann is not None
    # Then each event passes by its own value ((none) without the key)
    assert [plans(block, position) for position in range(3)] == [True, True, True]
    assert [not_ann(block, position) for position in range(3)] == [False, False, True]
    assert filter_event_test(Filters(conditions=parse_filters("event:page==/x"))) is None


def test_goal_conditions_select_goals_by_name_pattern() -> None:
    goals = [SIGNUP, BLOG, OUTBOUND]
    (condition,) = parse_filters("event:goal!=Sign*|Visit **")
    assert goals_selected(condition, goals) == (SIGNUP, BLOG)  # != selects the goals it excludes
    (condition,) = parse_filters("event:goal==Visit*")
    assert goals_selected(condition, goals) == ()  # * stops at /
    # Two == conditions: an event converts one goal of each
    block = _block()
    either = converting_test([(SIGNUP, OUTBOUND)], goals)
    both = converting_test([(SIGNUP, OUTBOUND), (OUTBOUND,)], goals)
    assert [either(block, position) for position in range(len(block))] == [False, True, True, True, False, False, True]
    assert [both(block, position) for position in range(len(block))] == [False, False, False, True, False, False, True]


class _Sessions:
    def __init__(self) -> None:
        self.sessions: list[Session] = []

    def add_visitor(self, day_index: int, sessions: list[Session]) -> None:
        self.sessions.extend(sessions)


def test_an_excluded_goal_drops_the_whole_session_that_converts_it() -> None:
    # Given two sessions of one visitor (an hour apart): a blog pageview then a signup on /thanks; a pricing one
    visitor = "00000000000000a1"
    block = EventBlock.of_events(
        [
            RawEvent("s", 1_000, "pageview", visitor, "/blog/post"),
            RawEvent("s", 2_000, "custom", visitor, "/thanks", name="Signup"),
            RawEvent("s", 3_601_000, "pageview", visitor, "/pricing"),
        ]
    )
    kept = _Sessions()
    scope = CountingScope(day_starts=[0, 86_400_000], start_ms=0, end_ms=86_400_000)
    # When sessions pass event:goal!=Signup, even counting pageviews only (the signup is not a matching event)
    count_chunks(
        scope._replace(filters=Filters(page="/blog/post")), [(86_400_000, [block])], GoalExclusion([SIGNUP], kept)
    )
    count_chunks(scope, [(86_400_000, [block])], GoalExclusion([SIGNUP], kept))
    # Then the session with the signup is dropped whatever matched in it; the other one goes on
    assert [session.first_ms for session in kept.sessions] == [3_601_000]
