"""Goal conversions from rollups: the same answers as from raw events (docs/rollups.md, Goal
conversions), a goal defined after its days were rolled up counted from raw inside the raw
window, and said unavailable (never a silent zero) before it."""

import dataclasses
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen import compaction
from aizen.goals import Goal
from aizen.rollup import job
from aizen.store import goals as goal_store
from aizen.store import rollups
from tests import stats_reference as ref
from tests.support import (
    SEED_NOW,
    SharedSite,
    bearer,
    invoke,
    make_key,
    make_owner,
    shared_site,
    store_single_items,
)

DAY = 86_400
QUESTION_SHARES = 2
AGGREGATE = ("StatsAggregateFunction", "/api/v1/stats/aggregate")
SERIES = ("StatsTimeseriesFunction", "/api/v1/stats/timeseries")
BREAKDOWN = ("StatsBreakdownFunction", "/api/v1/stats/breakdown")
GOALS = [
    Goal("g1", "Signup", event_name="Signup", created_at=1),
    Goal("g2", "Visit /blog/**", page_pattern="/blog/**", created_at=1),
    Goal("g3", "Outbound Link: Click", event_name="Outbound Link: Click", created_at=1),
]
LATE_GOAL = Goal("g9", "Pricing", page_pattern="/pricing", created_at=2)
# filters= forms that rollups do not hold (several goals, wildcards, !=, props): raw events only,
# so they answer the same once the days are rolled up, and 422 once the raw events are gone.
RAW_ONLY_FILTERS = ("event:goal==Sign*|Visit /blog/**", "event:goal!=Signup;event:props:plan!=free")


def _questions(custom: tuple[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    rate = "visitors,pageviews,events,conversion_rate"
    span = {"period": "custom", "from": custom[0], "to": custom[1]}
    questions: list[tuple[str, str, dict[str, str]]] = [
        (*AGGREGATE, {**span, "metrics": "visitors,pageviews,events"}),
        (*BREAKDOWN, {"period": "30d", "property": "goal", "metrics": "visitors,events,conversion_rate"}),
        (*BREAKDOWN, {**span, "property": "goal", "metrics": "visitors,events,conversion_rate"}),
    ]
    for goal, prop in (("Signup", "referrer"), ("Visit /blog/**", "page"), ("Pricing", "device")):
        questions.append((*AGGREGATE, {**span, "goal": goal, "metrics": rate}))
        questions.append((*SERIES, {**span, "interval": "week", "goal": goal, "metrics": rate}))
        questions.append((*BREAKDOWN, {**span, "goal": goal, "property": prop, "metrics": "visitors,pageviews"}))
    # event:goal==<name> alone is the goal filter: rollups answer it too
    questions.append((*SERIES, {**span, "interval": "month", "filters": "event:goal==Pricing", "metrics": rate}))
    for filters in RAW_ONLY_FILTERS:
        questions.append((*AGGREGATE, {**span, "filters": filters, "metrics": "visitors,pageviews,events"}))
        questions.append((*BREAKDOWN, {**span, "filters": filters, "property": "country", "metrics": "visitors"}))
    return questions


def _from_rollups_alone(question: tuple[str, str, dict[str, str]]) -> bool:
    """A question rollups answer once the raw events are gone."""
    return question[2].get("period") == "custom" and question[2].get("filters") not in RAW_ONLY_FILTERS


def _answers(questions: list[tuple[str, str, dict[str, str]]], token: str) -> list[tuple[Any, dict[str, Any]]]:
    """Each answer without its meta, and the meta apart."""
    answers = []
    for function, path, params in questions:
        response = invoke(function, path, query=params, headers=bearer(token))
        assert response.status == 200, (params, response.body)
        body = dict(response.body)
        answers.append((body, body.pop("meta")))
    return answers


@dataclass(frozen=True)
class _Sites:
    """The same traffic and goals on two sites; the second's days rolled up before its late goal existed."""

    shared: SharedSite
    rolled_up_token: str
    questions: list[tuple[str, str, dict[str, str]]]


@pytest.fixture(
    scope="class",
    params=[
        pytest.param(("America/Los_Angeles", SEED_NOW), id="los-angeles-dst"),
        pytest.param(("Asia/Kathmandu", int(datetime(2025, 11, 3, 10, tzinfo=UTC).timestamp())), id="kathmandu"),
    ],
)
def sites(request: pytest.FixtureRequest) -> Iterator[_Sites]:
    """40 days of traffic with custom events on two sites with three goals and a fourth defined
    later, compacted; the second site rolled up before the fourth was defined."""
    timezone, now = request.param
    with shared_site(now, timezone, IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000") as shared:
        rolled_up = make_owner(user_id="user_2", site_id="site_2", domain="rolled-up.example", timezone=timezone).site
        _, rolled_up_token = make_key(rolled_up.id, user_id="user_2")
        raw_site = shared.owner.site.id
        for goal in GOALS:
            goal_store.put_goal(raw_site, goal)
            goal_store.put_goal(rolled_up.id, goal)
        events = ref.random_goal_traffic(zlib.crc32(timezone.encode()), raw_site, now * 1000, visitors=20, days=40)
        copies = [dataclasses.replace(event, site_id=rolled_up.id) for event in events]
        store_single_items(events + copies, shared.settings.raw_retention_days)
        # packed into hour blocks, all but the last hours' single items (the compaction job ran;
        # goals over single items are tests/integration/test_goal_stats_reference.py's Berlin)
        assert compaction.run().events_packed > len(events + copies) * 0.9
        goal_store.put_goal(raw_site, LATE_GOAL)
        # the days are rolled up without the late goal (it is defined afterwards)
        assert job.run([rolled_up.id]).days_rolled_up > 60
        goal_store.put_goal(rolled_up.id, LATE_GOAL)
        today = ref.local(now * 1000, ZoneInfo(timezone)).date()
        custom = ((today - timedelta(days=39)).isoformat(), (today - timedelta(days=1)).isoformat())
        yield _Sites(shared, rolled_up_token, _questions(custom))


@pytest.mark.shared_store
class TestGoalRollupsAnswerAsRawEventsDo:
    @pytest.mark.parametrize("share", range(QUESTION_SHARES))
    def test_the_same_answers(self, sites: _Sites, share: int) -> None:
        questions = sites.questions[share::QUESTION_SHARES]
        from_raw = _answers(questions, sites.shared.token)
        assert not any(meta["from_rollups"] for _, meta in from_raw)
        assert any(body.get("results") for body, _ in from_raw if "property" in body)
        with_rollups = _answers(questions, sites.rolled_up_token)
        # the same numbers; rollups answer periods reaching before today, and the late goal's days
        # come from raw events (inside the raw window nothing is unavailable)
        assert [body for body, _ in with_rollups] == [body for body, _ in from_raw]
        assert any(meta["from_rollups"] for _, meta in with_rollups)
        assert not any("unavailable" in meta for _, meta in with_rollups)

    def test_a_year_later_the_late_goal_is_unavailable(self, sites: _Sites) -> None:
        # only rollups remain: the goals rolled up answer as before, the late goal's days are
        # said to be unavailable
        questions = [question for question in sites.questions if _from_rollups_alone(question)]
        earlier = _answers(questions, sites.shared.token)
        sites.shared.clock.advance(365 * DAY)
        try:
            later = _answers(questions, sites.rolled_up_token)
            # the filters= forms rollups do not hold need the raw events, which are gone
            raw_only = [question for question in sites.questions if question[2].get("filters") in RAW_ONLY_FILTERS]
            refused = [
                (params, invoke(function, path, query=params, headers=bearer(sites.rolled_up_token)))
                for function, path, params in raw_only
            ]
        finally:
            sites.shared.clock.advance(-365 * DAY)
        for (body, meta), (raw_body, _), question in zip(later, earlier, questions, strict=True):
            assert meta["from_rollups"], question
            late = question[2].get("goal") == "Pricing" or question[2].get("filters") == "event:goal==Pricing"
            if late or question[2].get("property") == "goal":
                assert [note["what"] for note in meta["unavailable"]] == ["goal Pricing"], question
                assert meta["unavailable"][0]["days"] == 39
            else:
                assert "unavailable" not in meta, question
                assert body == raw_body, question
        assert raw_only
        for params, response in refused:
            assert response.status == 422, (params, response.body)


def test_events_of_days_rolled_up_before_events_were_counted_are_reported(owner: Any, api_key: Any) -> None:
    # Given: two old days, long out of the raw window: one rolled up before events were counted
    totals = {"visitors": 3, "pageviews": 5, "sessions": 3, "bounces": 1, "duration_ms": 60_000}
    rollups.put_day(owner.site.id, "2025-01-10", "a", totals, {})
    rollups.put_day(owner.site.id, "2025-01-11", "a", {**totals, "events": 7}, {})
    # When
    query = {"period": "custom", "from": "2025-01-10", "to": "2025-01-11", "metrics": "visitors,events"}
    response = invoke(*AGGREGATE, query=query, headers=bearer(api_key[1]))
    # Then: the counts the rollups hold, and the day without events said so
    assert response.status == 200, response.body
    assert response.body["metrics"] == {"visitors": 6, "events": 7}
    assert response.body["meta"]["unavailable"] == [
        {
            "what": "events",
            "from": "2025-01-10",
            "to": "2025-01-10",
            "days": 1,
            "reason": "events: these days were rolled up before it was counted, and their raw events have expired;"
            " they count nothing for it",
        }
    ]
    # And: without events asked, nothing is said
    plain = invoke(*AGGREGATE, query={**query, "metrics": "visitors"}, headers=bearer(api_key[1]))
    assert "unavailable" not in plain.body["meta"]
