"""The same question gives the same answer from raw events and from rollups (docs/rollups.md, Equivalence).

Random traffic over months on two sites; every unfiltered query is asked of the one not
rolled up (raw events alone) and of the rolled-up one (rolled-up days from rollups, today
and the rest from raw, so weeks and months mix both); a forced re-run rewrites every day
to the same items; and when the raw events have expired only rollups remain and answer.

The raw answers are read as the planner reads a compacted site: packed hour blocks, and
single items after the watermark. That blocks answer like single items is
test_compaction.py's case, and test_stats_reference.py holds both against the reference
for every endpoint, period and filter (moto serves the 64 days of single items ten times
slower than their blocks).
"""

import dataclasses
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen import compaction
from aizen.models import Site
from aizen.rollup import job
from aizen.store import rollups
from aizen.vocabulary import ROLLUP_PROPERTIES
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
QUESTION_SHARES = 6


def _questions(custom: tuple[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    aggregate = ("StatsAggregateFunction", "/api/v1/stats/aggregate")
    series = ("StatsTimeseriesFunction", "/api/v1/stats/timeseries")
    breakdown = ("StatsBreakdownFunction", "/api/v1/stats/breakdown")
    metrics = "visitors,pageviews,bounce_rate,visit_duration,visits,views_per_visit"
    questions: list[tuple[str, str, dict[str, str]]] = []
    for period in ("7d", "30d", "yesterday", "wtd", "mtd", "month", "12m", "all"):
        questions.append((*aggregate, {"period": period, "metrics": metrics}))
    for period, interval in (("30d", "day"), ("12m", "week"), ("12m", "month"), ("all", "day")):
        questions.append((*series, {"period": period, "interval": interval, "metrics": "visitors,pageviews,visits"}))
    for prop, allowed in ROLLUP_PROPERTIES.items():
        questions.append((*breakdown, {"period": "30d", "property": prop, "metrics": ",".join(allowed)}))
        questions.append((*breakdown, {"period": "all", "property": prop, "limit": "3", "page_number": "2"}))
    # Comparisons (docs/stats.md, Comparisons): every mode, with and without match_day_of_week
    for compare, extra in (
        ("previous_period", {}),
        ("previous_period", {"match_day_of_week": "true"}),
        ("year_over_year", {}),
        ("year_over_year", {"match_day_of_week": "true"}),
        ("custom", {"compare_from": custom[0], "compare_to": custom[1]}),
    ):
        questions.append((*aggregate, {"period": "30d", "metrics": metrics, "compare": compare, **extra}))
        questions.append((*series, {"period": "mtd", "metrics": "visitors,visits", "compare": compare, **extra}))
        questions.append((*breakdown, {"period": "7d", "property": "country", "compare": compare, **extra}))
    questions.append((*aggregate, {"period": "custom", "from": custom[0], "to": custom[1], "metrics": metrics}))
    questions.append((*series, {"period": "custom", "from": custom[0], "to": custom[1], "interval": "week"}))
    return questions


def _stored_rollups(site_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The site's rolled-up days (totals and every property's rows of the generation each day
    names), and each day's generation apart."""
    days = rollups.rolled_up_days(site_id, "2000-01-01", "2100-01-01")
    tables = {
        prop: list(rollups.day_tables(site_id, prop, "2000-01-01", "2100-01-01", days)) for prop in ROLLUP_PROPERTIES
    }
    totals = {day: {name: value for name, value in record.items() if name != "gen"} for day, record in days.items()}
    return {"days": totals, "tables": tables}, {day: record["gen"] for day, record in days.items()}


def _answers(questions: list[tuple[str, str, dict[str, str]]], token: str) -> list[tuple[Any, bool]]:
    """Each answer without its meta.from_rollups, and that flag apart."""
    answers = []
    for function, path, params in questions:
        response = invoke(function, path, query=params, headers=bearer(token))
        assert response.status == 200, (params, response.body)
        body = dict(response.body)
        meta = dict(body.pop("meta"))
        answers.append((body, bool(meta.pop("from_rollups"))))
    return answers


@dataclass(frozen=True)
class _Sites:
    """The same traffic on two sites, both compacted; the second's finished days rolled up."""

    shared: SharedSite
    raw_token: str
    rolled_up: Site
    rolled_up_token: str
    today: date
    questions: list[tuple[str, str, dict[str, str]]]
    days_rolled_up: int


@pytest.fixture(
    scope="class",
    params=[
        pytest.param(("America/Los_Angeles", SEED_NOW), id="los-angeles-dst"),
        pytest.param(("Asia/Kathmandu", int(datetime(2025, 11, 3, 10, tzinfo=UTC).timestamp())), id="kathmandu"),
    ],
)
def sites(request: pytest.FixtureRequest) -> Iterator[_Sites]:
    """64 days of random traffic, all inside the raw window, on two sites, compacted (packed into hour
    blocks, all but the last hours' single items); the second site rolled up."""
    timezone, now = request.param
    with shared_site(now, timezone, IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000") as shared:
        rolled_up = make_owner(user_id="user_2", site_id="site_2", domain="rolled-up.example", timezone=timezone).site
        _, rolled_up_token = make_key(rolled_up.id, user_id="user_2")
        events = ref.random_traffic(
            zlib.crc32(timezone.encode()), shared.owner.site.id, now * 1000, visitors=30, days=64
        )
        copies = [dataclasses.replace(event, site_id=rolled_up.id) for event in events]
        store_single_items(events + copies, shared.settings.raw_retention_days)
        assert compaction.run().events_packed > len(events + copies) * 0.9
        report = job.run([rolled_up.id])
        today = ref.local(now * 1000, ZoneInfo(timezone)).date()
        custom = ((today - timedelta(days=63)).isoformat(), (today - timedelta(days=1)).isoformat())
        yield _Sites(shared, shared.token, rolled_up, rolled_up_token, today, _questions(custom), report.days_rolled_up)


@pytest.mark.shared_store
class TestRawAndRollupsAgree:
    """Every unfiltered question (a share of them per test) asked of the site read from raw events
    (blocks and the single-item tail) and of the rolled-up one (rolled-up days from rollups, today
    and the rest from raw, so weeks and months mix both)."""

    @pytest.mark.parametrize("share", range(QUESTION_SHARES))
    def test_the_same_answers(self, sites: _Sites, share: int) -> None:
        questions = sites.questions[share::QUESTION_SHARES]
        from_raw = _answers(questions, sites.raw_token)
        with_rollups = _answers(questions, sites.rolled_up_token)
        assert sites.days_rolled_up > 60
        assert not any(used for _, used in from_raw)
        assert [body for body, _ in with_rollups] == [body for body, _ in from_raw]
        # every period that reaches before today used rollups; today alone is raw
        expected = [body["period"]["from"] != sites.today.isoformat() for body, _ in from_raw]
        assert [used for _, used in with_rollups] == expected

    def test_a_forced_rerun_rewrites_every_day_to_the_same_rows(self, sites: _Sites) -> None:
        # the answers are read from these items: the same items, the same answers
        site_id = sites.rolled_up.id
        before, generations = _stored_rollups(site_id)
        rollups.mark_dirty(site_id, list(generations))
        sites.shared.clock.advance(1)
        try:
            assert job.run([site_id]).days_rolled_up == sites.days_rolled_up
        finally:
            sites.shared.clock.advance(-1)
        after, new_generations = _stored_rollups(site_id)
        assert after == before
        assert all(new_generations[day] != generation for day, generation in generations.items())

    def test_a_year_later_rollups_alone_answer_the_same(self, sites: _Sites) -> None:
        # raw events have expired (moto keeps them; reads skip them), yet the custom range over
        # those days answers the same from rollups alone
        custom_questions = sites.questions[-2:]
        from_raw = _answers(custom_questions, sites.raw_token)
        sites.shared.clock.advance(365 * DAY)
        try:
            later = _answers(custom_questions, sites.rolled_up_token)
        finally:
            sites.shared.clock.advance(-365 * DAY)
        assert [body for body, _ in later] == [body for body, _ in from_raw]
        assert all(used for _, used in later)
