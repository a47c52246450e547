"""Real handler answers validate against the response models docs/openapi.json is generated from.

Plus the bugs schemathesis found: a request body that is not UTF-8 was a 500.
"""

import json
from typing import Any

import pytest
from pydantic import BaseModel

from aizen.auth.keys import CreatedKey, KeyList, Revoked
from aizen.ingest import service as ingest_service
from aizen.ingest import visitors
from aizen.models import ApiKey
from aizen.query.responses import AggregateResponse, BreakdownResponse, RealtimeResponse, TimeseriesResponse
from aizen.responses import ErrorResponse
from aizen.site_goals import CreatedGoal, DeletedGoal, GoalList
from tests.support import FrozenClock, Owner, bearer, dashboard_headers, invoke

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NOT_UTF8 = b"\xff\xfe{\x80"


def _ingest(body: str | bytes) -> Any:
    return invoke(
        "IngestEventFunction",
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": UA},
        body=body,
    )


@pytest.fixture
def traffic(clock: FrozenClock, owner: Owner) -> None:
    visitors.reset_cache()
    ingest_service.reset_cache()
    for path in ("/", "/pricing", "/docs"):
        event = {"n": "pageview", "u": f"https://example.com{path}", "d": "example.com", "r": "https://google.com/"}
        assert _ingest(json.dumps(event)).status == 202
    assert (
        _ingest(
            json.dumps(
                {
                    "n": "Outbound Link: Click",
                    "u": "https://example.com/",
                    "d": "example.com",
                    "p": {"url": "https://github.com/x"},
                }
            )
        ).status
        == 202
    )


@pytest.mark.parametrize(
    ("function", "path", "query", "model"),
    [
        (
            "StatsAggregateFunction",
            "/api/v1/stats/aggregate",
            "period=today&metrics=visitors,pageviews,bounce_rate,visit_duration",
            AggregateResponse,
        ),
        (
            "StatsTimeseriesFunction",
            "/api/v1/stats/timeseries",
            "period=today&metrics=visitors,pageviews",
            TimeseriesResponse,
        ),
        ("StatsTimeseriesFunction", "/api/v1/stats/timeseries", "period=7d", TimeseriesResponse),
        (
            "StatsBreakdownFunction",
            "/api/v1/stats/breakdown",
            "period=today&property=page&metrics=visitors,pageviews",
            BreakdownResponse,
        ),
        ("StatsBreakdownFunction", "/api/v1/stats/breakdown", "period=today&property=exit_link", BreakdownResponse),
        ("StatsBreakdownFunction", "/api/v1/stats/breakdown", "period=today&property=entry_page", BreakdownResponse),
        (
            "StatsBreakdownFunction",
            "/api/v1/stats/breakdown",
            "period=today&property=referrer&limit=1",
            BreakdownResponse,
        ),
        ("StatsRealtimeFunction", "/api/v1/stats/realtime", "minutes=60", RealtimeResponse),
        (
            "StatsAggregateFunction",
            "/api/v1/stats/aggregate",
            "period=today&compare=previous_period&metrics=visitors,pageviews,bounce_rate,visit_duration,visits,"
            "views_per_visit",
            AggregateResponse,
        ),
        (
            "StatsTimeseriesFunction",
            "/api/v1/stats/timeseries",
            "period=7d&compare=year_over_year&match_day_of_week=true&metrics=visitors,visits,views_per_visit",
            TimeseriesResponse,
        ),
        (
            "StatsBreakdownFunction",
            "/api/v1/stats/breakdown",
            "period=today&property=referrer&metrics=visitors,pageviews,visits&compare=custom"
            "&compare_from=2026-01-01&compare_to=2026-01-31",
            BreakdownResponse,
        ),
    ],
)
def test_stats_answers_match_their_models(
    traffic: None, api_key: tuple[ApiKey, str], function: str, path: str, query: str, model: type[BaseModel]
) -> None:
    response = invoke(function, path, query=query, headers=bearer(api_key[1]))
    assert response.status == 200, response.body
    model.model_validate(response.body)
    if model is not RealtimeResponse:
        assert response.body["results"] if "results" in response.body else response.body["metrics"]["pageviews"]


def test_stats_errors_match_the_error_model(api_key: tuple[ApiKey, str]) -> None:
    for query in ("period=nope", "colour=red"):
        response = invoke("StatsAggregateFunction", "/api/v1/stats/aggregate", query=query, headers=bearer(api_key[1]))
        assert response.status == 400
        ErrorResponse.model_validate(response.body)


def test_key_management_answers_match_their_models(owner: Owner) -> None:
    path = f"/api/sites/{owner.site.id}/api-keys"
    created = invoke("ApiKeysCreateFunction", path, headers=dashboard_headers(owner.session), body='{"name": "x"}')
    assert created.status == 201
    CreatedKey.model_validate(created.body)
    listed = invoke("ApiKeysListFunction", path, headers=dashboard_headers(owner.session, origin=None))
    KeyList.model_validate(listed.body)
    revoked = invoke(
        "ApiKeysRevokeFunction", f"{path}/{created.body['key']['id']}", headers=dashboard_headers(owner.session)
    )
    Revoked.model_validate(revoked.body)


def test_goal_management_answers_match_their_models(owner: Owner) -> None:
    path = f"/api/sites/{owner.site.id}/goals"
    created = invoke("GoalsCreateFunction", path, headers=dashboard_headers(owner.session), body='{"page": "/a"}')
    assert created.status == 201
    CreatedGoal.model_validate(created.body)
    listed = invoke("GoalsListFunction", path, headers=dashboard_headers(owner.session, origin=None))
    GoalList.model_validate(listed.body)
    deleted = invoke(
        "GoalsDeleteFunction", f"{path}/{created.body['goal']['id']}", headers=dashboard_headers(owner.session)
    )
    DeletedGoal.model_validate(deleted.body)
    duplicate = invoke("GoalsCreateFunction", path, headers=dashboard_headers(owner.session), body='{"page": "/a"}')
    again = invoke("GoalsCreateFunction", path, headers=dashboard_headers(owner.session), body='{"page": "/a"}')
    assert (duplicate.status, again.status) == (201, 409)
    ErrorResponse.model_validate(again.body)


def test_a_body_that_is_not_utf8_is_400_not_500(clock: FrozenClock, owner: Owner) -> None:
    path = f"/api/sites/{owner.site.id}/api-keys"
    created = invoke("ApiKeysCreateFunction", path, headers=dashboard_headers(owner.session), body=NOT_UTF8)
    assert created.status == 400, created.body
    ErrorResponse.model_validate(created.body)
    ingested = _ingest(NOT_UTF8)
    assert ingested.status == 400, ingested.body
    assert ingested.body["error"]["code"] == "invalid_request"
