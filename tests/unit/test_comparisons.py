"""Comparison periods and changes (aizen.query.comparisons, docs/stats.md Comparisons), held against
tests/stats_reference.py, and the comparison parameters' 400s."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aizen.errors import InvalidRequest
from aizen.query.comparisons import change, comparison_days
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.query.params.timeseries import TimeseriesParams
from tests import stats_reference as ref


@pytest.mark.parametrize(
    ("mode", "first", "last", "match", "expected"),
    [
        # previous_period: the same number of days just before
        ("previous_period", date(2026, 3, 6), date(2026, 3, 6), False, (date(2026, 3, 5), date(2026, 3, 5))),
        ("previous_period", date(2026, 2, 1), date(2026, 2, 28), False, (date(2026, 1, 4), date(2026, 1, 31))),
        # ... moved back to the same weekday (a Friday: the Friday a week before)
        ("previous_period", date(2026, 3, 6), date(2026, 3, 6), True, (date(2026, 2, 27), date(2026, 2, 27))),
        # 10 days before 2026-03-06 (Fri) starts on a Tuesday: forward 3 days would overlap, so back 4
        ("previous_period", date(2026, 3, 6), date(2026, 3, 15), True, (date(2026, 2, 20), date(2026, 3, 1))),
        # year_over_year: the same dates a year earlier; 29 February becomes the 28th
        ("year_over_year", date(2024, 2, 29), date(2024, 3, 6), False, (date(2023, 2, 28), date(2023, 3, 6))),
        ("year_over_year", date(2024, 2, 1), date(2024, 2, 29), False, (date(2023, 2, 1), date(2023, 2, 28))),
        # ... and a whole common February compares with the whole leap February before it
        ("year_over_year", date(2025, 2, 1), date(2025, 2, 28), False, (date(2024, 2, 1), date(2024, 2, 29))),
        ("year_over_year", date(2025, 2, 28), date(2025, 3, 6), False, (date(2024, 2, 28), date(2024, 3, 6))),
        # ... moved to the nearest same weekday: Sunday 2023-01-01 -> Sunday 2022-01-02
        ("year_over_year", date(2023, 1, 1), date(2023, 1, 31), True, (date(2022, 1, 2), date(2022, 2, 1))),
    ],
)
def test_named_comparison_periods(mode: str, first: date, last: date, match: bool, expected: tuple[date, date]) -> None:
    assert comparison_days(mode, first, last, match_day_of_week=match) == expected
    assert ref.expected_comparison_days(mode, first, last, match, None) == expected


@settings(max_examples=400, derandomize=True, database=None)
@given(
    st.sampled_from(["previous_period", "year_over_year"]),
    st.dates(date(2000, 1, 1), date(2037, 12, 31)),
    st.integers(0, 400),
    st.booleans(),
)
def test_comparison_periods_match_the_reference(mode: str, first: date, extra_days: int, match: bool) -> None:
    last = first + timedelta(days=extra_days)
    start, end = comparison_days(mode, first, last, match_day_of_week=match)
    assert (start, end) == ref.expected_comparison_days(mode, first, last, match, None)
    if match:
        assert start.weekday() == first.weekday()
    if mode == "previous_period":
        assert (end - start) == (last - first)
        assert end < first


def test_custom_comparisons_are_the_dates_asked_for() -> None:
    span = (date(2025, 1, 1), date(2025, 3, 1))
    assert comparison_days("custom", date(2026, 1, 1), date(2026, 1, 2), custom_from=span[0], custom_to=span[1]) == span


@pytest.mark.parametrize(
    ("metric", "current", "previous", "expected"),
    [
        ("visitors", 150, 100, 50),
        ("visitors", 50, 100, -50),
        ("visitors", 0, 100, -100),
        ("visitors", 5, 0, None),
        ("visitors", 0, 0, None),
        ("pageviews", 201, 200, 1),  # 0.5 % rounds away from zero
        ("pageviews", 199, 200, -1),
        ("pageviews", 1001, 1000, 0),
        ("visit_duration", 61, 60, 2),
        ("views_per_visit", 2.05, 1.64, 25),
        ("bounce_rate", 37.8, 35.1, 2.7),
        ("bounce_rate", 35.1, 37.8, -2.7),
        ("bounce_rate", 40.0, 0.0, None),
    ],
)
def test_change(metric: str, current: float, previous: float, expected: float | None) -> None:
    assert change(metric, current, previous) == expected
    assert ref.expected_change(metric, current, previous) == expected


@settings(max_examples=300, derandomize=True, database=None)
@given(
    st.sampled_from(["visitors", "views_per_visit", "bounce_rate"]), st.integers(0, 100_000), st.integers(0, 100_000)
)
def test_changes_match_the_reference(metric: str, current: int, previous: int) -> None:
    scale = {"visitors": 1, "views_per_visit": 100, "bounce_rate": 10}[metric]
    now, before = current / scale, previous / scale
    assert change(metric, now, before) == ref.expected_change(metric, now, before)


def _refused(params: type[AggregateParams] | type[TimeseriesParams] | type[BreakdownParams], **query: str) -> str:
    with pytest.raises(InvalidRequest) as raised:
        params.from_query(query)
    return raised.value.message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"compare": "last_year"}, "compare: must be one of previous_period, year_over_year, custom"),
        ({"compare": "previous_period", "period": "24h"},
         "compare: not available with period=24h; compare is available with every period but 24h and all"),
        ({"compare": "year_over_year", "period": "all"},
         "compare: not available with period=all; compare is available with every period but 24h and all"),
        ({"compare": "custom"},
         "compare_from is required with compare=custom (both compare_from and compare_to, YYYY-MM-DD)"),
        ({"compare": "custom", "compare_from": "2026-01-01"},
         "compare_to is required with compare=custom (both compare_from and compare_to, YYYY-MM-DD)"),
        ({"compare": "custom", "compare_from": "2026-01-05", "compare_to": "2026-01-01"},
         "compare_from must not be after compare_to"),
        ({"compare": "custom", "compare_from": "2026-02-30", "compare_to": "2026-03-01"},
         "compare_from: must be a date in the form YYYY-MM-DD"),
        ({"compare_from": "2026-01-01"}, "compare_from and compare_to are only valid with compare=custom"),
        ({"compare": "previous_period", "compare_to": "2026-01-01"},
         "compare_from and compare_to are only valid with compare=custom"),
        ({"match_day_of_week": "true"},
         "match_day_of_week is only valid with compare=previous_period or compare=year_over_year"),
        ({"match_day_of_week": "true", "compare": "custom", "compare_from": "2026-01-01", "compare_to": "2026-01-02"},
         "match_day_of_week is only valid with compare=previous_period or compare=year_over_year"),
        ({"match_day_of_week": "yes"}, "match_day_of_week: must be true or false"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("params", [AggregateParams, TimeseriesParams, BreakdownParams])
def test_comparison_refusals(
    params: type[AggregateParams] | type[TimeseriesParams] | type[BreakdownParams], query: dict[str, str], message: str
) -> None:
    if params is BreakdownParams:
        query = {**query, "property": "page"}
    assert _refused(params, **query) == message


def test_comparison_parameters_are_read() -> None:
    params = AggregateParams.from_query({"compare": "previous_period", "match_day_of_week": "true"})
    assert (params.compare, params.match_day_of_week, params.compare_from) == ("previous_period", True, None)
    assert AggregateParams.from_query({"match_day_of_week": "false"}).match_day_of_week is False
    assert AggregateParams.from_query({}).compare is None
    custom = TimeseriesParams.from_query(
        {"compare": "custom", "compare_from": "2025-01-01", "compare_to": "2025-01-31"}
    )
    assert (custom.compare_from, custom.compare_to) == (date(2025, 1, 1), date(2025, 1, 31))
