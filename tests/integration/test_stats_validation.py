"""Every parameter of every stats endpoint: 400 naming it and the allowed values; 422 outside the raw window."""

from typing import Any

import pytest

from aizen.models import ApiKey
from tests.support import FrozenClock, bearer, invoke

AGGREGATE = ("StatsAggregateFunction", "/api/v1/stats/aggregate")
TIMESERIES = ("StatsTimeseriesFunction", "/api/v1/stats/timeseries")
BREAKDOWN = ("StatsBreakdownFunction", "/api/v1/stats/breakdown")
REALTIME = ("StatsRealtimeFunction", "/api/v1/stats/realtime")


@pytest.mark.parametrize(
    ("endpoint", "query", "message"),
    [
        (AGGREGATE, "colour=red", "Unknown parameter colour; allowed parameters: period, from, to, metrics, page,"),
        (AGGREGATE, "period=week", "period: must be one of today, yesterday, 24h, 7d, 30d, 12m, wtd, mtd, ytd, month"),
        (
            AGGREGATE,
            "metrics=visitors,sessions",
            "metrics: unknown metric sessions; allowed metrics: visitors, pageviews",
        ),
        (AGGREGATE, "metrics=visitors,,pageviews", "metrics: must be a comma-separated list"),
        (AGGREGATE, "metrics=visitors,visitors", "metrics: visitors is listed twice"),
        (AGGREGATE, "from=2026-01-01&to=2026-01-02", "from and to are only valid with period=custom"),
        (AGGREGATE, "period=custom&from=2026-01-01", "to is required with period=custom"),
        (AGGREGATE, "period=custom", "from is required with period=custom"),
        (AGGREGATE, "period=custom&from=2026-01-05&to=2026-01-01", "from must not be after to"),
        (AGGREGATE, "period=custom&from=2026-1-5&to=2026-01-06", "from: must be a date in the form YYYY-MM-DD"),
        (AGGREGATE, "period=custom&from=2026-02-30&to=2026-03-01", "from: must be a date in the form YYYY-MM-DD"),
        (AGGREGATE, "page=", "page: must not be empty"),
        (AGGREGATE, "region=US-CA", "Unknown parameter region"),
        (
            TIMESERIES,
            "metrics=bounce_rate",
            "metrics: unknown metric bounce_rate; allowed metrics: visitors, pageviews",
        ),
        (TIMESERIES, "interval=minute", "interval: must be one of hour, day, week, month"),
        (TIMESERIES, "period=24h&interval=day", "interval: period=24h only supports interval=hour"),
        (BREAKDOWN, "", "property is required"),
        (BREAKDOWN, "property=colour", "property: must be one of page, entry_page, exit_link, channel, referrer,"),
        (
            BREAKDOWN,
            "property=exit_link&metrics=visitors",
            "metrics: visitors is not allowed with property=exit_link; allowed metrics: clicks",
        ),
        (BREAKDOWN, "property=page&metrics=entries", "allowed metrics: visitors, pageviews"),
        (BREAKDOWN, "property=region", "country is required with property=region"),
        (BREAKDOWN, "property=city", "country is required with property=city"),
        (BREAKDOWN, "property=page&region=US-CA", "region is only valid with property=city"),
        (BREAKDOWN, "property=page&sort=visitors", "sort must be one of visitors.asc, visitors.desc"),
        (
            BREAKDOWN,
            "property=page&metrics=visitors&sort=pageviews.desc",
            "sort must be one of visitors.asc, visitors.desc",
        ),
        (BREAKDOWN, "property=page&limit=0", "limit must be between 1 and 1000"),
        (BREAKDOWN, "property=page&limit=1001", "limit must be between 1 and 1000"),
        (BREAKDOWN, "property=page&limit=ten", "limit: must be an integer"),
        (BREAKDOWN, "property=page&page_number=0", "page_number must be 1 or more"),
        (BREAKDOWN, "property=page&page_number=1.5", "page_number: must be an integer"),
        (REALTIME, "minutes=ten", "minutes: must be an integer"),
        (REALTIME, "minutes=9223372036854775808", "minutes: must be an integer from -9223372036854775808 to "),
        (REALTIME, "minutes=-9223372036854775809", "minutes: must be an integer from -9223372036854775808 to "),
        (BREAKDOWN, "property=page&page_number=1" + "0" * 5000, "page_number: must be an integer from "),
        (REALTIME, "minutes=", "minutes: must be an integer"),
        (REALTIME, "period=today", "Unknown parameter period; allowed parameters: minutes"),
        (AGGREGATE, "filters=visit:country%3DUS", "filters: expected == or != after visit:country at position 14"),
        (TIMESERIES, "filters=visit:country==US%7C", "filters: expected a value at position 19, found the end"),
        (BREAKDOWN, "property=page&filters=visit:utm_source==x", "filters: unknown property visit:utm_source at "),
        (AGGREGATE, "filters=event:goal==Signup%7CDownload", "filters: unknown goal 'Signup' in event:goal; the site"),
        (TIMESERIES, "filters=event:goal!=Sign*%7CDownload", "filters: unknown goal 'Download' in event:goal"),
        (AGGREGATE, "filters=event:goal==Signup", "goal: unknown goal 'Signup'; the site has no goals"),
        (AGGREGATE, "goal=Signup&filters=event:goal==Signup", "filters: goal is filtered twice"),
        (AGGREGATE, "country=US&filters=visit:country!=DE", "filters: country is filtered twice"),
        (
            BREAKDOWN,
            "property=city&country=US&region=US-CA&filters=visit:region==US-NY",
            "filters: region is filtered twice",
        ),
        (REALTIME, "filters=visit:country==US", "Unknown parameter filters; allowed parameters: minutes"),
        (AGGREGATE, "period=24h&compare=previous_period", "compare: not available with period=24h"),
        (TIMESERIES, "period=all&compare=year_over_year", "compare: not available with period=all"),
        (BREAKDOWN, "property=page&compare=custom", "compare_from is required with compare=custom"),
        (AGGREGATE, "match_day_of_week=true", "match_day_of_week is only valid with compare=previous_period"),
        (
            AGGREGATE,
            "period=custom&from=1970-01-01&to=1970-01-05&compare=previous_period",
            "compare: the comparison period would start before 1970-01-01",
        ),
        (REALTIME, "compare=previous_period", "Unknown parameter compare; allowed parameters: minutes"),
    ],
)
def test_bad_parameters_are_400_naming_them(
    api_key: tuple[ApiKey, str], endpoint: tuple[str, str], query: str, message: str
) -> None:
    response = invoke(*endpoint, query=query, headers=bearer(api_key[1]))
    assert response.status == 400, response.body
    assert response.body["error"]["code"] == "invalid_request"
    assert message in response.body["error"]["message"]
    # Errors still carry the key's rate-limit headers
    assert "x-ratelimit-remaining" in response.headers


def test_a_page_number_past_the_last_page_is_an_empty_page(api_key: tuple[ApiKey, str]) -> None:
    last_int64 = 2**63 - 1

    response = invoke(*BREAKDOWN, query=f"property=page&page_number={last_int64}", headers=bearer(api_key[1]))

    assert response.status == 200, response.body
    assert response.body["results"] == []
    assert response.body["pagination"]["page_number"] == last_int64


def test_realtime_errors_are_not_cached(api_key: tuple[ApiKey, str]) -> None:
    response = invoke(*REALTIME, query="minutes=x", headers=bearer(api_key[1]))
    assert response.status == 400
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("minutes", "window"), [(None, 10), ("0", 1), ("-5", 1), ("1", 1), ("60", 60), ("61", 60), ("999", 60)]
)
def test_minutes_default_and_clamp(api_key: tuple[ApiKey, str], minutes: str | None, window: int) -> None:
    response = invoke(*REALTIME, query=f"minutes={minutes}" if minutes else "", headers=bearer(api_key[1]))
    assert response.status == 200
    assert response.body == {"current_visitors": 0, "window_minutes": window}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("endpoint", "query"),
    [
        (AGGREGATE, "period=12m&page=/pricing"),
        (AGGREGATE, "period=ytd&country=US"),  # the seed's now is 2026-04-02: ytd reaches back 92 days
        (AGGREGATE, "period=custom&from=2025-01-01&to=2025-01-31&device=mobile"),
        (TIMESERIES, "period=12m&interval=hour"),
        (TIMESERIES, "period=custom&from=2025-12-01&to=2025-12-01"),  # single old day: hourly by default
        (BREAKDOWN, "period=12m&property=region&country=US"),
        (BREAKDOWN, "period=12m&property=city&country=US"),
        (BREAKDOWN, "period=12m&property=page&browser=Chrome"),
        (AGGREGATE, "period=12m&filters=visit:country!=US"),
        (TIMESERIES, "period=ytd&interval=month&filters=event:page==/blog/**"),
        (BREAKDOWN, "period=12m&property=country&filters=visit:exit_page==/**"),
    ],
)
def test_raw_only_queries_outside_the_raw_window_are_422(
    api_key: tuple[ApiKey, str], clock: FrozenClock, endpoint: tuple[str, str], query: str
) -> None:
    response = invoke(*endpoint, query=query, headers=bearer(api_key[1]))
    assert response.status == 422, response.body
    assert response.body["error"]["code"] == "unsupported_query"
    assert "90-day raw event window" in response.body["error"]["message"]


@pytest.mark.parametrize(
    ("endpoint", "query", "keys"),
    [
        (AGGREGATE, "", {"period", "metrics", "meta"}),
        (AGGREGATE, "period=12m", {"period", "metrics", "meta"}),  # unfiltered: fine beyond the window
        (
            TIMESERIES,
            "period=90d".replace("90d", "30d") + "&interval=hour&page=/",
            {"period", "interval", "results", "meta"},
        ),
        (BREAKDOWN, "property=city&country=US&region=US-CA", {"property", "period", "results", "pagination", "meta"}),
    ],
)
def test_shapes_and_defaults(
    api_key: tuple[ApiKey, str], endpoint: tuple[str, str], query: str, keys: set[str]
) -> None:
    response = invoke(*endpoint, query=query, headers=bearer(api_key[1]))
    assert response.status == 200, response.body
    body: dict[str, Any] = response.body
    assert set(body) == keys
    assert body["meta"] == {"timezone": "America/Los_Angeles", "from_rollups": False}
    if "metrics" in body:
        assert body["metrics"] == {"visitors": 0}  # default metric
    if endpoint == BREAKDOWN:
        assert body["pagination"] == {"page_number": 1, "limit": 100, "total_rows": 0, "total_pages": 0}
        assert body["results"] == []
