"""docs/openapi.json is exactly what the code generates, and it covers every public route."""

from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from aizen.auth.keys import ApiKeyView, key_view
from aizen.models import ApiKey
from aizen.query.params import QueryParams
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.query.params.realtime import RealtimeParams
from aizen.query.params.timeseries import TimeseriesParams
from aizen_local import openapi
from aizen_local.template import load_template

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_checked_in_document_matches_the_code() -> None:
    generated = openapi.document_text()
    assert DOCUMENT.read_text() == generated, f"docs/openapi.json is out of date: run `{openapi.REGENERATE}`"


def test_every_public_route_is_described() -> None:
    # The CORS preflight (OPTIONS /api/event) included
    routes = {(route.method.lower(), route.path) for spec in load_template().functions() for route in spec.routes}
    document = openapi.build()
    described = {(method, path) for path, methods in document["paths"].items() for method in methods}
    assert described == routes
    assert document["openapi"].startswith("3.1")


def test_every_operation_documents_errors_with_the_error_schema() -> None:
    for methods in openapi.build()["paths"].values():
        for method, operation in methods.items():
            if method == "options":  # the preflight: the resolver answers it before any code of ours
                continue
            statuses = set(operation["responses"])
            assert {"500", "503"} <= statuses
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorResponse")


def test_stats_headers_are_documented() -> None:
    paths = openapi.build()["paths"]
    realtime = paths["/api/v1/stats/realtime"]["get"]["responses"]
    assert realtime["200"]["headers"]["Cache-Control"]["required"]
    assert realtime["429"]["headers"]["Retry-After"]["required"]
    assert realtime["401"]["headers"]["WWW-Authenticate"]["required"]
    assert set(realtime["200"]["headers"]) >= {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    breakdown = {parameter["name"]: parameter for parameter in paths["/api/v1/stats/breakdown"]["get"]["parameters"]}
    assert breakdown["property"]["required"]
    assert breakdown["limit"]["schema"] == {
        "default": 100,
        "maximum": 1000,
        "minimum": 1,
        "type": "integer",
        "format": "int64",
    }


# Every 429 of ours carries these (docs/api.md, Rate limits)
RATE_LIMITED_HEADERS = {
    "Retry-After",
    "Cache-Control",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
}


def test_ingestion_documents_its_rate_limit_and_cors() -> None:
    event = openapi.build()["paths"]["/api/event"]
    limited = event["post"]["responses"]["429"]
    assert {name for name, header in limited["headers"].items() if header["required"]} == RATE_LIMITED_HEADERS
    for response in event["post"]["responses"].values():
        assert "Access-Control-Allow-Origin" in response["headers"]
    preflight = event["options"]
    assert preflight["security"] == []
    assert set(preflight["responses"]) == {"204"}
    assert "content" not in preflight["responses"]["204"]
    assert preflight["responses"]["204"]["headers"]["Access-Control-Allow-Methods"]["required"]
    assert "Access-Control-Allow-Origin" in preflight["responses"]["204"]["headers"]


def test_key_management_documents_its_rate_limit() -> None:
    paths = openapi.build()["paths"]
    for path, method in (
        ("/api/sites/{siteId}/api-keys", "get"),
        ("/api/sites/{siteId}/api-keys", "post"),
        ("/api/sites/{siteId}/api-keys/{keyId}", "delete"),
    ):
        limited = paths[path][method]["responses"]["429"]
        assert {name for name, header in limited["headers"].items() if header["required"]} == RATE_LIMITED_HEADERS


def test_the_described_key_is_the_stored_record_plus_its_preview() -> None:
    assert set(ApiKeyView.model_fields) == {*ApiKey._fields, "preview"}


def test_key_view_is_built_through_its_model() -> None:
    key = ApiKey(
        id="k1",
        site_id="site_1",
        created_by_user_id="user_1",
        name="n",
        scope="stats:read",
        key_prefix="aiz_live_0123456789ab",
        expires_at=None,
        last_used_at=None,
        revoked_at=None,
        created_at=1,
        updated_at=1,
    )
    view = key_view(key)
    ApiKeyView.model_validate(view)
    assert view["preview"] == "aiz_live_0123456789ab_" + "*" * 32


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in openapi.build()["paths"].items()
        for method, operation in methods.items()
    ]


def _valid(instance: Any, schema: dict[str, Any]) -> None:
    """Validate against `schema`, whose $refs point into the document's components."""
    wrapped = {**schema, "components": openapi.build()["components"]}
    Draft202012Validator(wrapped).validate(instance)


def test_every_operation_has_request_and_answer_examples_that_match_their_schemas() -> None:
    for method, path, operation in _operations():
        parameters = operation.get("parameters", [])
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        # a request example: every required parameter and the body, when the operation takes any
        for parameter in parameters:
            if parameter["required"]:
                assert "example" in parameter, f"{method} {path}: parameter {parameter['name']} has no example"
            if "example" in parameter:
                _valid(parameter["example"], parameter["schema"])
            for named in parameter.get("examples", {}).values():
                _valid(named["value"], parameter["schema"])
        if body is not None:
            _valid(body["example"], body["schema"])
        if method != "options":
            assert any("example" in p or "examples" in p for p in parameters) or body, f"{method} {path}"
        # an answer example for every answer with a body
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                assert "example" in media, f"{method} {path} {status} has no example"
                _valid(media["example"], media["schema"])


def test_every_error_example_has_its_status_code() -> None:
    for _, _, operation in _operations():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["example"]["error"]["code"] in _STATUS_CODES[status]


_STATUS_CODES = {
    "400": {"invalid_request"},
    "401": {"unauthorized"},
    "403": {"forbidden"},
    "404": {"not_found"},
    "409": {"conflict"},
    "413": {"payload_too_large"},
    "422": {"unsupported_query"},
    "429": {"rate_limited"},
    "500": {"internal_error"},
    "503": {"service_unavailable"},
}


def _example_requests(operation: dict[str, Any]) -> list[dict[str, str]]:
    """Each request an example client sends: the single examples, with each named request's values."""
    parameters = operation.get("parameters", [])
    single = {p["name"]: str(p["example"]).lower() if isinstance(p["example"], bool) else str(p["example"])
              for p in parameters if "example" in p and p["in"] == "query"}  # fmt: skip
    names = {name for p in parameters for name in p.get("examples", {})}
    return [
        {**single, **{p["name"]: str(p["examples"][name]["value"]) for p in parameters if "examples" in p}}
        for name in sorted(names)
    ] or [single]


def test_every_stats_request_example_is_a_valid_request() -> None:
    """Swagger UI's "Try it out" and schemathesis's explicit phase send these: none may be a 400
    (a comparison with compare=custom and its dates, the filters= forms on goals and props)."""
    tables: dict[str, type[QueryParams]] = {
        "/api/v1/stats/aggregate": AggregateParams,
        "/api/v1/stats/timeseries": TimeseriesParams,
        "/api/v1/stats/breakdown": BreakdownParams,
        "/api/v1/stats/realtime": RealtimeParams,
    }
    sent: list[dict[str, str]] = []
    for path, params in tables.items():
        for request in _example_requests(openapi.build()["paths"][path]["get"]):
            params.from_query(request)  # raises InvalidRequest (a 400) for an invalid one
            sent.append(request)
    assert any(request.get("compare") == "custom" and "compare_from" in request for request in sent)
    assert any("event:goal!=" in request.get("filters", "") for request in sent)
    assert any("event:props:" in request.get("filters", "") for request in sent)
