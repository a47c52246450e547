"""The same question gives the same answer from raw events and from rollups (docs/rollups.md, Equivalence).

Random traffic over months; every unfiltered query is asked before the rollup
(raw events alone), after it (rolled-up days from rollups, today and the rest
from raw, so weeks and months mix both), after a forced re-run, and finally when
the raw events have expired and only rollups remain.

The raw answers are read as the planner reads a compacted site: packed hour blocks, and
single items after the watermark. That blocks answer like single items is
test_compaction.py's case, and test_stats_reference.py holds both against the reference
for every endpoint, period and filter (moto serves the 64 days of single items ten times
slower than their blocks).
"""

import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aizen import compaction
from aizen.rollup import job
from aizen.settings import Settings
from aizen.store import rollups
from aizen.vocabulary import ROLLUP_PROPERTIES
from tests import stats_reference as ref
from tests.support import SEED_NOW, FrozenClock, bearer, invoke, make_key, make_owner, store_single_items

DAY = 86_400


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


@pytest.mark.parametrize(
    ("timezone", "now"),
    [
        pytest.param("America/Los_Angeles", SEED_NOW, id="los-angeles-dst"),
        pytest.param("Asia/Kathmandu", int(datetime(2025, 11, 3, 10, tzinfo=UTC).timestamp()), id="kathmandu"),
    ],
)
def test_raw_and_rollups_agree(timezone: str, now: int, clock: FrozenClock, aizen_env: Any) -> None:
    # Given: 64 days of random traffic on a site, all inside the raw window, compacted
    settings: Settings = aizen_env(IP_LIMIT_PER_MINUTE="100000", KEY_LIMIT_PER_HOUR="100000")
    clock.current = float(now)
    owner = make_owner(timezone=timezone)
    _, token = make_key(owner.site.id)
    events = ref.random_traffic(zlib.crc32(timezone.encode()), owner.site.id, now * 1000, visitors=30, days=64)
    store_single_items(events, settings.raw_retention_days)
    today = ref.local(now * 1000, ZoneInfo(timezone)).date()
    custom = ((today - timedelta(days=63)).isoformat(), (today - timedelta(days=1)).isoformat())
    questions = _questions(custom)
    # packed into hour blocks, all but the last hours' single items (the compaction job ran)
    assert compaction.run().events_packed > len(events) * 0.9
    from_raw = _answers(questions, token)
    assert not any(used for _, used in from_raw)

    # When: the rollup runs; then again, forced to rewrite every day
    first = job.run()
    with_rollups = _answers(questions, token)
    rollups.mark_dirty(owner.site.id, list(rollups.rolled_up_days(owner.site.id, "2000-01-01", "2100-01-01")))
    clock.advance(1)
    rerun = job.run()
    after_rerun = _answers(questions, token)

    # Then: the same numbers, now from rollups (every period but today's spans rolled-up days)
    assert first.days_rolled_up > 60
    assert rerun.days_rolled_up == first.days_rolled_up
    assert [body for body, _ in with_rollups] == [body for body, _ in from_raw]
    assert after_rerun == with_rollups
    # every period that reaches before today used rollups; today alone is raw
    assert [used for _, used in with_rollups] == [body["period"]["from"] != today.isoformat() for body, _ in from_raw]

    # And: a year later the raw events have expired (moto keeps them; reads skip them),
    # yet the custom range over those days answers the same from rollups alone
    clock.advance(365 * DAY)
    custom_questions = questions[-2:]
    later = _answers(custom_questions, token)
    assert [body for body, _ in later] == [body for body, _ in from_raw[-2:]]
    assert all(used for _, used in later)
