"""Goal and custom property questions: their 400s, their 422s, and small hand-counted answers
(the reference test, tests/integration/test_goal_stats_reference.py, covers random traffic)."""

from typing import Any
from urllib.parse import quote

import pytest

from aizen.events import RawEvent
from aizen.goals import Goal
from aizen.models import ApiKey
from aizen.settings import get_settings
from aizen.store import goals as goal_store
from tests.support import SEED_NOW, FrozenClock, Owner, bearer, invoke, store_single_items

AGGREGATE = ("StatsAggregateFunction", "/api/v1/stats/aggregate")
TIMESERIES = ("StatsTimeseriesFunction", "/api/v1/stats/timeseries")
BREAKDOWN = ("StatsBreakdownFunction", "/api/v1/stats/breakdown")
MINUTE = 60_000
NOW_MS = SEED_NOW * 1000


def _ask(endpoint: tuple[str, str], query: str, token: str) -> Any:
    return invoke(*endpoint, query=query, headers=bearer(token))


@pytest.fixture
def signup_traffic(owner: Owner, clock: FrozenClock) -> None:
    """Three visitors today: A views /pricing, signs up (plan pro) and reads /blog/a (engaged
    40 s, scrolled 80 then 60); B views /pricing twice and clicks out; C views /blog/a (engaged
    10 s, scrolled 30) and signs up without a plan."""
    site = owner.site.id

    def event(minutes_ago: int, kind: Any, visitor: str, page: str, **fields: Any) -> RawEvent:
        return RawEvent(site, NOW_MS - minutes_ago * MINUTE, kind, visitor, page, **fields)

    store_single_items(
        [
            event(50, "pageview", "a" * 16, "/pricing"),
            event(49, "custom", "a" * 16, "/pricing", name="Signup", props='{"plan": "pro"}'),
            event(48, "pageview", "a" * 16, "/blog/a"),
            event(47, "engagement", "a" * 16, "/blog/a", engaged_ms=30_000, scroll_depth=80),
            event(46, "engagement", "a" * 16, "/blog/a", engaged_ms=10_000, scroll_depth=60),
            event(40, "pageview", "b" * 16, "/pricing", referrer="google.com"),
            event(39, "pageview", "b" * 16, "/pricing", referrer="google.com"),
            event(38, "outbound_click", "b" * 16, "/pricing", link="https://x.com/a"),
            event(30, "pageview", "c" * 16, "/blog/a"),
            event(29, "engagement", "c" * 16, "/blog/a", engaged_ms=10_000, scroll_depth=30),
            event(28, "custom", "c" * 16, "/blog/a", name="Signup"),
        ],
        get_settings().raw_retention_days,
    )
    for number, (name, event_name, pattern) in enumerate(
        [
            ("Signup", "Signup", None),
            ("Visit /blog/**", None, "/blog/**"),
            ("Outbound Link: Click", "Outbound Link: Click", None),
            ("Purchase", "Purchase", None),
        ]
    ):
        goal_store.put_goal(site, Goal(f"g{number}", name, event_name=event_name, page_pattern=pattern, created_at=1))


@pytest.mark.usefixtures("signup_traffic")
def test_the_goal_breakdown_counts_converters_conversions_and_their_rate(api_key: tuple[ApiKey, str]) -> None:
    response = _ask(BREAKDOWN, "period=today&property=goal&metrics=visitors,events,conversion_rate", api_key[1])
    assert response.status == 200, response.body
    assert response.body["results"] == [
        {"value": "Signup", "visitors": 2, "events": 2, "conversion_rate": 66.7},
        {"value": "Visit /blog/**", "visitors": 2, "events": 2, "conversion_rate": 66.7},
        {"value": "Outbound Link: Click", "visitors": 1, "events": 1, "conversion_rate": 33.3},
    ]


@pytest.mark.usefixtures("signup_traffic")
def test_a_goal_filter_counts_its_conversions_and_the_rate_against_the_visitors_without_it(
    api_key: tuple[ApiKey, str],
) -> None:
    metrics = "visitors,pageviews,events,conversion_rate"
    signups = _ask(AGGREGATE, f"period=today&goal=Signup&metrics={metrics}", api_key[1])
    assert signups.body["metrics"] == {"visitors": 2, "pageviews": 0, "events": 2, "conversion_rate": 66.7}
    # AND-ed with the seed's filters: of google.com's one visitor, nobody signed up
    google = _ask(AGGREGATE, f"period=today&goal=Signup&referrer=google.com&metrics={metrics}", api_key[1])
    assert google.body["metrics"] == {"visitors": 0, "pageviews": 0, "events": 0, "conversion_rate": 0.0}
    blog = _ask(AGGREGATE, f"period=today&goal=Visit /blog/**&metrics={metrics}", api_key[1])
    assert blog.body["metrics"] == {"visitors": 2, "pageviews": 2, "events": 2, "conversion_rate": 66.7}
    everyone = _ask(AGGREGATE, "period=today&metrics=visitors,pageviews,events", api_key[1])
    assert everyone.body["metrics"] == {"visitors": 3, "pageviews": 5, "events": 8}
    series = _ask(TIMESERIES, "period=today&interval=day&goal=Signup&metrics=visitors,conversion_rate", api_key[1])
    assert series.body["results"][0]["visitors"] == 2
    assert series.body["results"][0]["conversion_rate"] == 66.7


@pytest.mark.usefixtures("signup_traffic")
def test_props_breakdowns_and_filters_with_none_for_events_without_the_prop(api_key: tuple[ApiKey, str]) -> None:
    plans = _ask(
        BREAKDOWN, "period=today&property=props:plan&goal=Signup&metrics=visitors,events,conversion_rate", api_key[1]
    )
    assert plans.body["results"] == [
        {"value": "(none)", "visitors": 1, "events": 1, "conversion_rate": 33.3},
        {"value": "pro", "visitors": 1, "events": 1, "conversion_rate": 100.0},
    ]
    every_event = _ask(BREAKDOWN, "period=today&property=props:plan&metrics=visitors,events,pageviews", api_key[1])
    assert every_event.body["results"] == [
        {"value": "(none)", "visitors": 3, "events": 7, "pageviews": 5},
        {"value": "pro", "visitors": 1, "events": 1, "pageviews": 0},
    ]
    pro = _ask(AGGREGATE, "period=today&props:plan=pro&metrics=visitors,events", api_key[1])
    assert pro.body["metrics"] == {"visitors": 1, "events": 1}


@pytest.mark.usefixtures("signup_traffic")
def test_filters_event_goal_and_event_props_answer_as_the_goal_and_props_filters(api_key: tuple[ApiKey, str]) -> None:
    for plain, grammar, metrics in [
        ("goal=Signup", "filters=event:goal%3D%3DSignup", "visitors,events,conversion_rate"),
        ("props:plan=pro", "filters=event:props:plan%3D%3Dpro", "visitors,events"),
        (
            "goal=Signup&props:plan=pro",
            "filters=event:goal%3D%3DSignup%3Bevent:props:plan%3D%3Dpro",
            "visitors,events,conversion_rate",
        ),
    ]:
        expected = _ask(AGGREGATE, f"period=today&{plain}&metrics={metrics}", api_key[1])
        answered = _ask(AGGREGATE, f"period=today&{grammar}&metrics={metrics}", api_key[1])
        assert (answered.status, answered.body) == (200, expected.body), plain


@pytest.mark.parametrize(
    ("filters", "metrics", "expected"),
    [
        # A and C sign up, B clicks out: three converters, three conversions
        ("event:goal==Signup|Outbound Link: Click", "visitors,events,conversion_rate", [3, 3, 100.0]),
        # only B's session has no signup: its two pageviews and its click
        ("event:goal!=Signup", "visitors,pageviews,events", [1, 2, 3]),
        ("event:goal!=Signup;event:page==/pricing", "visitors,pageviews", [1, 2]),
        # * stops at /: no goal name matches Visit*; Visit ** is Visit /blog/** (A's and C's /blog/a)
        ("event:goal==Visit*", "visitors,events", [0, 0]),
        ("event:goal==Visit **", "visitors,pageviews,events,conversion_rate", [2, 2, 2, 66.7]),
        # every event but A's pro signup; (none) is an event without the prop
        ("event:props:plan!=pro", "visitors,events", [3, 7]),
        ("event:props:plan==(none)|free", "visitors,events", [3, 7]),
        ("event:props:plan==p*", "visitors,events", [1, 1]),
        ("event:props:plan!=(none);event:goal!=Visit /blog/**", "visitors", [0]),
    ],
)
@pytest.mark.usefixtures("signup_traffic")
def test_goal_and_props_conditions_count_by_hand(
    api_key: tuple[ApiKey, str], filters: str, metrics: str, expected: list[Any]
) -> None:
    response = _ask(AGGREGATE, f"period=today&metrics={metrics}&filters={quote(filters)}", api_key[1])
    assert response.status == 200, response.body
    assert response.body["metrics"] == dict(zip(metrics.split(","), expected, strict=True))
    assert response.body["meta"]["from_rollups"] is False


@pytest.mark.usefixtures("signup_traffic")
def test_goal_breakdown_without_the_sessions_of_an_excluded_goal(api_key: tuple[ApiKey, str]) -> None:
    query = f"period=today&property=goal&metrics=visitors,events,conversion_rate&filters={quote('event:goal!=Signup')}"
    response = _ask(BREAKDOWN, query, api_key[1])
    # Only B's session is left: its outbound click, over the question's one visitor
    assert response.body["results"] == [
        {"value": "Outbound Link: Click", "visitors": 1, "events": 1, "conversion_rate": 100.0}
    ]


@pytest.mark.usefixtures("signup_traffic")
def test_time_on_page_and_scroll_depth(api_key: tuple[ApiKey, str]) -> None:
    response = _ask(BREAKDOWN, "period=today&property=page&metrics=pageviews,time_on_page,scroll_depth", api_key[1])
    assert response.body["results"] == [
        # /pricing: 3 pageviews, no engagement report; /blog/a: (30 + 10 + 10) s over 2 pageviews,
        # A's deepest scroll 80 and C's 30
        {"value": "/pricing", "pageviews": 3, "time_on_page": 0, "scroll_depth": None},
        {"value": "/blog/a", "pageviews": 2, "time_on_page": 25, "scroll_depth": 55},
    ]


@pytest.mark.parametrize(
    ("endpoint", "query", "message"),
    [
        (AGGREGATE, "goal=Nope", "goal: unknown goal 'Nope'; the site's goals: Signup, Visit /blog/**,"),
        (BREAKDOWN, "property=page&goal=Nope", "goal: unknown goal 'Nope'; the site's goals: Signup,"),
        (AGGREGATE, "goal=", "goal: must not be empty"),
        (AGGREGATE, "props:plan=", "props:plan: must not be empty"),
        (AGGREGATE, "props:=pro", "props:: needs a key after props:"),
        (AGGREGATE, "metrics=conversion_rate", "metrics: conversion_rate needs a goal filter (goal=<goal name>)"),
        (TIMESERIES, "metrics=conversion_rate", "metrics: conversion_rate needs a goal filter"),
        (BREAKDOWN, "property=props:plan&metrics=conversion_rate", "conversion_rate needs a goal filter"),
        (BREAKDOWN, "property=goal&metrics=pageviews", "metrics: pageviews is not allowed with property=goal"),
        (BREAKDOWN, "property=referrer&metrics=time_on_page", "time_on_page is not allowed with property=referrer"),
        (BREAKDOWN, "property=page&goal=Signup&metrics=scroll_depth", "scroll_depth is not available with a goal"),
        # a goal named without wildcards must be the site's (\| is a literal |: no goal is named Signup|x)
        (
            AGGREGATE,
            "filters=event:goal%3D%3DSign*%7CSignup%5C%7Cx",
            "filters: unknown goal 'Signup|x' in event:goal; the site's goals: Signup, Visit /blog/**,",
        ),
        (AGGREGATE, "filters=event:goal!%3DNope*%7CPurchas", "filters: unknown goal 'Purchas' in event:goal;"),
        (AGGREGATE, "filters=event:goal!%3DSignup&metrics=conversion_rate", "conversion_rate needs a goal filter"),
    ],
)
@pytest.mark.usefixtures("signup_traffic")
def test_bad_goal_and_props_parameters_are_400(
    api_key: tuple[ApiKey, str], endpoint: tuple[str, str], query: str, message: str
) -> None:
    response = _ask(endpoint, query, api_key[1])
    assert response.status == 400, response.body
    assert message in response.body["error"]["message"]


def test_an_unknown_goal_on_a_site_without_goals_says_so(api_key: tuple[ApiKey, str]) -> None:
    response = _ask(AGGREGATE, "goal=Signup", api_key[1])
    assert response.body["error"]["message"] == "goal: unknown goal 'Signup'; the site has no goals"


@pytest.mark.parametrize(
    ("endpoint", "query"),
    [
        (AGGREGATE, "period=12m&props:plan=pro"),
        (BREAKDOWN, "period=12m&property=props:plan"),
        (BREAKDOWN, "period=12m&property=page&metrics=time_on_page"),
        (AGGREGATE, "period=12m&goal=Signup&metrics=visitors,bounce_rate"),
        (AGGREGATE, "period=12m&goal=Signup&country=US"),
        (BREAKDOWN, "period=12m&property=goal&device=desktop"),
        (TIMESERIES, "period=12m&interval=hour&goal=Signup"),
        (AGGREGATE, "period=12m&filters=event:goal%3D%3DSignup%7CPurchase"),
        (TIMESERIES, "period=12m&filters=event:goal!%3DSignup"),
        (BREAKDOWN, "period=12m&property=goal&filters=event:goal%3D%3DSign*"),
        (AGGREGATE, "period=12m&filters=event:props:plan%3D%3Dpro"),
    ],
)
@pytest.mark.usefixtures("signup_traffic")
def test_props_engagement_and_goal_questions_rollups_do_not_hold_are_422_outside_the_raw_window(
    api_key: tuple[ApiKey, str], endpoint: tuple[str, str], query: str
) -> None:
    response = _ask(endpoint, query, api_key[1])
    assert response.status == 422, response.body
    assert response.body["error"]["code"] == "unsupported_query"
    assert "raw event window" in response.body["error"]["message"]
