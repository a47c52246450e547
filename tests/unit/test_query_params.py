"""The stats endpoints' parameter tables, directly: each reader, each default, each 400 (no store)."""

import dataclasses
from datetime import date

import pytest

from aizen.errors import InvalidRequest
from aizen.query.filter_grammar import parse_filters
from aizen.query.params import (
    INT64_MAX,
    INT64_MIN,
    Parameter,
    QueryParams,
    integer,
    local_date,
    metric_list,
    one_of,
    read_parameters,
)
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.query.params.realtime import RealtimeParams
from aizen.query.params.timeseries import TimeseriesParams
from aizen.vocabulary import FILTER_PARAMETERS, PROPERTY_METRICS, Condition, Filters

ENDPOINTS: list[type[QueryParams]] = [AggregateParams, TimeseriesParams, BreakdownParams, RealtimeParams]


def refused(params: type[QueryParams], **query: str) -> str:
    with pytest.raises(InvalidRequest) as raised:
        params.from_query(query)
    return raised.value.message


# The readers ------------------------------------------------------------------------------


def test_one_of_lists_the_allowed_values() -> None:
    check = one_of(("a", "b"))
    assert check("b") == "b"
    with pytest.raises(ValueError, match=r"^must be one of a, b$"):
        check("A")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-03-06", date(2026, 3, 6)), ("1970-01-01", date(1970, 1, 1)), ("2099-12-31", date(2099, 12, 31))],
)
def test_local_date_reads_real_dates_in_range(text: str, expected: date) -> None:
    assert local_date(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-3-6", "20260306", "2026-03-06T00:00", " 2026-03-06", ""])
def test_local_date_refuses_what_is_not_a_yyyy_mm_dd_date(text: str) -> None:
    with pytest.raises(ValueError, match=r"^must be a date in the form YYYY-MM-DD$"):
        local_date(text)


@pytest.mark.parametrize("text", ["1969-12-31", "2100-01-01"])
def test_local_date_refuses_dates_outside_the_supported_span(text: str) -> None:
    with pytest.raises(ValueError, match=r"^must be between 1970-01-01 and 2099-12-31$"):
        local_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", 10),
        ("+7", 7),
        ("-3", -3),
        ("007", 7),
        ("0" * 40 + "1", 1),
        (str(INT64_MAX), INT64_MAX),
        (str(INT64_MIN), INT64_MIN),
    ],
)
def test_integer_reads_any_64_bit_integer(text: str, expected: int) -> None:
    assert integer(text) == expected


@pytest.mark.parametrize("text", ["1.5", "ten", "", " 1", "1e3", "0x10"])
def test_integer_refuses_what_is_not_an_integer(text: str) -> None:
    with pytest.raises(ValueError, match=r"^must be an integer$"):
        integer(text)


@pytest.mark.parametrize("text", [str(INT64_MAX + 1), str(INT64_MIN - 1), "9" * 5000])
def test_integer_refuses_integers_beyond_64_bits(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^must be an integer from {INT64_MIN} to {INT64_MAX}$"):
        integer(text)


def test_metric_list_strips_entries_and_refuses_empty_ones_and_repeats() -> None:
    assert metric_list("visitors, pageviews") == ("visitors", "pageviews")
    with pytest.raises(ValueError, match="without empty entries"):
        metric_list("visitors,,pageviews")
    with pytest.raises(ValueError, match=r"^visitors is listed twice$"):
        metric_list("visitors,pageviews,visitors")


def test_read_parameters_names_unknown_parameters_before_missing_ones() -> None:
    table = (Parameter("a", str, {}, required=True), Parameter("b", integer, {}, default=5, attribute="bee"))
    assert read_parameters(table, {"a": "x"}) == {"a": "x", "bee": 5}
    with pytest.raises(InvalidRequest, match=r"^Unknown parameter c; allowed parameters: a, b$"):
        read_parameters(table, {"c": "1"})
    with pytest.raises(InvalidRequest, match=r"^a is required$"):
        read_parameters(table, {"b": "1"})
    with pytest.raises(InvalidRequest, match=r"^b: must be an integer$"):
        read_parameters(table, {"a": "x", "b": "one"})


# The tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize("params", ENDPOINTS, ids=lambda params: params.__name__)
def test_every_field_is_filled_by_exactly_one_parameter(params: type[QueryParams]) -> None:
    names = [parameter.name for parameter in params.PARAMETERS]
    fields = [parameter.field_name for parameter in params.PARAMETERS]
    assert len(set(names)) == len(names)
    assert sorted(fields) == sorted(field.name for field in dataclasses.fields(params))  # type: ignore[arg-type]


def test_aggregate_defaults() -> None:
    params = AggregateParams.from_query({})
    assert (params.period, params.date_from, params.date_to, params.metrics) == ("30d", None, None, None)
    assert params.metric_names == ("visitors",)
    assert params.filters == Filters()  # no plain filter, no conditions


def test_the_shared_filters_reach_the_engine_by_name() -> None:
    query = {name: f"{name}-value" for name in FILTER_PARAMETERS}
    filters = AggregateParams.from_query(query).filters
    assert {name: getattr(filters, name) for name in FILTER_PARAMETERS} == query
    assert filters.region is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"colour": "red"}, "Unknown parameter colour; allowed parameters: period, from, to, metrics, page, referrer, "
         "country, device, browser, os, filters, compare, compare_from, compare_to, match_day_of_week, goal, "
         "props:<key>"),
        ({"period": "week"}, "period: must be one of today, yesterday, 24h, 7d, 30d, 12m, wtd, mtd, ytd, month, "
         "custom, all"),
        ({"metrics": "visitors,clicks"}, "metrics: unknown metric clicks; allowed metrics: visitors, pageviews, "
         "bounce_rate, visit_duration, visits, views_per_visit, events, conversion_rate"),
        ({"country": ""}, "country: must not be empty"),
        ({"from": "2026-03-01"}, "from and to are only valid with period=custom"),
        ({"period": "7d", "to": "2026-03-01"}, "from and to are only valid with period=custom"),
        ({"period": "custom"}, "from is required with period=custom (both from and to, YYYY-MM-DD)"),
        ({"period": "custom", "from": "2026-03-01"}, "to is required with period=custom (both from and to, "
         "YYYY-MM-DD)"),
        ({"period": "custom", "from": "2026-03-02", "to": "2026-03-01"}, "from must not be after to"),
        ({"period": "custom", "from": "2026-02-30", "to": "2026-03-01"}, "from: must be a date in the form YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_aggregate_refusals(query: dict[str, str], message: str) -> None:
    assert refused(AggregateParams, **query) == message


def test_filters_become_conditions_beside_the_plain_filters() -> None:
    filters = AggregateParams.from_query({"page": "/", "filters": "visit:country==US|DE;visit:browser!=Safari"}).filters
    assert filters.page == "/"
    assert filters.conditions == (
        Condition("country", False, ("US", "DE")),
        Condition("browser", True, ("Safari",)),
    )
    assert filters.active
    assert AggregateParams.from_query({"filters": "event:page==/**"}).filters.active


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"filters": ""}, "filters: expected a property (event:page, event:goal, event:props:<key>, "),
        ({"filters": "visit:country=US"}, "filters: expected == or != after visit:country at position 14, found '='"),
        ({"filters": "event:goal!=Sign*", "goal": "Signup"}, "filters: goal is filtered twice, by the goal "
         "parameter and by event:goal; use one"),
        ({"filters": "event:props:plan==pro", "props:plan": "team"}, "filters: props:plan is filtered twice"),
        ({"filters": "event:props:plan!=pro|(none)", "props:plan": "team"}, "filters: props:plan is filtered twice"),
        ({"filters": "visit:country==US", "country": "DE"}, "filters: country is filtered twice, by the country "
         "parameter and by visit:country in filters; use one"),
        ({"filters": "event:page!=/a", "page": "/b"}, "filters: page is filtered twice, by the page parameter and by "
         "event:page in filters; use one"),
        ({"filters": "visit:source==x", "referrer": "y"}, "filters: referrer is filtered twice, by the referrer "
         "parameter and by visit:referrer in filters; use one"),
    ],
)  # fmt: skip
def test_filters_refusals(query: dict[str, str], message: str) -> None:
    for params in (AggregateParams, TimeseriesParams):
        assert refused(params, **query).startswith(message)
    assert refused(BreakdownParams, property="page", **query).startswith(message)


def test_breakdown_refuses_a_region_given_both_ways_and_takes_one() -> None:
    query = {"property": "city", "country": "US", "filters": "visit:region==US-CA"}
    assert BreakdownParams.from_query(query).filters.conditions == (Condition("region", False, ("US-CA",)),)
    assert refused(BreakdownParams, **query, region="US-NY") == (
        "filters: region is filtered twice, by the region parameter and by visit:region in filters; use one"
    )


def test_a_custom_range_of_one_day_is_accepted() -> None:
    params = AggregateParams.from_query({"period": "custom", "from": "2026-03-01", "to": "2026-03-01"})
    assert (params.date_from, params.date_to) == (date(2026, 3, 1), date(2026, 3, 1))


def test_timeseries_defaults_and_refusals() -> None:
    params = TimeseriesParams.from_query({})
    assert (params.period, params.interval, params.metric_names) == ("30d", None, ("visitors",))
    assert TimeseriesParams.from_query({"period": "24h", "interval": "hour"}).interval == "hour"
    assert refused(TimeseriesParams, period="24h", interval="day") == "interval: period=24h only supports interval=hour"
    assert refused(TimeseriesParams, interval="minute") == "interval: must be one of hour, day, week, month"
    assert refused(TimeseriesParams, metrics="bounce_rate") == (
        "metrics: unknown metric bounce_rate; allowed metrics: visitors, pageviews, visits, views_per_visit, events, "
        "conversion_rate"
    )


def test_breakdown_defaults() -> None:
    params = BreakdownParams.from_query({"property": "page"})
    assert (params.limit, params.page_number, params.sort, params.region) == (100, 1, None, None)
    assert params.metric_names == ("visitors",)
    assert params.sort_key == ("visitors", True)


@pytest.mark.parametrize(("prop", "metrics"), PROPERTY_METRICS.items())
def test_breakdown_default_metric_is_the_propertys_first(prop: str, metrics: tuple[str, ...]) -> None:
    query = {"property": prop, **({"country": "US"} if prop in ("region", "city") else {})}
    assert BreakdownParams.from_query(query).metric_names == metrics[:1]


def test_breakdown_sort_and_region() -> None:
    params = BreakdownParams.from_query(
        {
            "property": "city",
            "country": "US",
            "region": "US-CA",
            "metrics": "visitors,pageviews",
            "sort": "pageviews.asc",
        }
    )
    assert params.sort_key == ("pageviews", False)
    assert (params.filters.region, params.filters.country) == ("US-CA", "US")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "property is required"),
        ({"colour": "red"}, "Unknown parameter colour; allowed parameters: period, from, to, metrics, page, referrer, "
         "country, device, browser, os, filters, compare, compare_from, compare_to, match_day_of_week, goal, "
         "props:<key>, property, region, sort, limit, page_number"),
        ({"property": "weather"}, "property: must be one of page, entry_page, exit_link, channel, referrer, country, "
         "region, city, device, browser, os, goal, or props:<key>"),
        ({"property": "page", "metrics": "clicks"}, "metrics: clicks is not allowed with property=page; allowed "
         "metrics: visitors, pageviews, time_on_page, scroll_depth"),
        ({"property": "exit_link", "metrics": "visitors"}, "metrics: visitors is not allowed with "
         "property=exit_link; allowed metrics: clicks"),
        ({"property": "city"}, "country is required with property=city"),
        ({"property": "region"}, "country is required with property=region"),
        ({"property": "country", "region": "US-CA"}, "region is only valid with property=city (with country)"),
        ({"property": "page", "limit": "0"}, "limit must be between 1 and 1000"),
        ({"property": "page", "limit": "1001"}, "limit must be between 1 and 1000"),
        ({"property": "page", "limit": "ten"}, "limit: must be an integer"),
        ({"property": "page", "page_number": "0"}, "page_number must be 1 or more"),
        ({"property": "page", "sort": "visitors"}, "sort must be one of visitors.asc, visitors.desc (metric.asc or "
         "metric.desc)"),
        ({"property": "page", "sort": "pageviews.desc"}, "sort must be one of visitors.asc, visitors.desc "
         "(metric.asc or metric.desc)"),
    ],
)  # fmt: skip
def test_breakdown_refusals(query: dict[str, str], message: str) -> None:
    assert refused(BreakdownParams, **query) == message


def test_breakdown_limit_bounds_are_accepted() -> None:
    assert BreakdownParams.from_query({"property": "page", "limit": "1"}).limit == 1
    assert BreakdownParams.from_query({"property": "page", "limit": "1000", "page_number": "3"}).page_number == 3


@pytest.mark.parametrize(("minutes", "window"), [(None, 10), ("1", 1), ("60", 60), ("0", 1), ("-5", 1), ("61", 60)])
def test_realtime_minutes_default_and_clamp(minutes: str | None, window: int) -> None:
    params = RealtimeParams.from_query({} if minutes is None else {"minutes": minutes})
    assert params.window_minutes == window


def test_realtime_refusals() -> None:
    assert refused(RealtimeParams, minutes="5.5") == "minutes: must be an integer"
    assert refused(RealtimeParams, minutes=str(INT64_MAX + 1)) == (
        f"minutes: must be an integer from {INT64_MIN} to {INT64_MAX}"
    )
    assert refused(RealtimeParams, period="7d") == "Unknown parameter period; allowed parameters: minutes"


def test_exact_goal_and_props_conditions_are_the_goal_and_props_filters() -> None:
    # Given a goal and a custom property named in filters=, beside a page condition
    params = AggregateParams.from_query({"filters": "event:goal==Signup;event:props:plan==pro;event:page==/a/**"})
    # Then the goal and props filters hold them, and only the page condition stays a condition
    filters = params.filters
    assert (filters.goal, filters.props) == ("Signup", (("plan", "pro"),))
    assert [condition.property for condition in filters.conditions] == ["page"]


@pytest.mark.parametrize(
    "text",
    [
        "event:goal==Signup|Visit /blog/**",  # several values
        "event:goal==Sign*",  # a wildcard
        "event:goal!=Signup",  # excluded
        "event:goal==Signup;event:goal==Visit /**",  # two goal conditions
        "event:props:plan!=pro",
        "event:props:plan==pro|(none)",
        "event:props:plan==p*",
    ],
)
def test_other_goal_and_props_conditions_stay_conditions(text: str) -> None:
    # Given a goal or props condition that is not one exact value (the goal: the only goal condition)
    filters = AggregateParams.from_query({"filters": text}).filters
    # Then it stays a condition (matched by aizen.query.conversions), not the plain goal or props filter
    assert (filters.goal, filters.props) == (None, ())
    assert filters.conditions == parse_filters(text)


def test_only_a_goal_condition_that_keeps_conversions_allows_conversion_rate() -> None:
    assert AggregateParams.from_query(
        {"filters": "event:goal==Sign*", "metrics": "conversion_rate"}
    ).filters.goal_filtered
    assert refused(AggregateParams, filters="event:goal!=Signup", metrics="conversion_rate") == (
        "metrics: conversion_rate needs a goal filter (goal=<goal name>) or an event:goal== condition in filters"
    )
    query = {"property": "page", "filters": "event:goal==Sign*", "metrics": "scroll_depth"}
    assert refused(BreakdownParams, **query) == "metrics: scroll_depth is not available with a goal filter"
    assert BreakdownParams.from_query({**query, "filters": "event:goal!=Sign*"}).metric_names == ("scroll_depth",)
