"""aizen.http: what every API function's entry does with API Gateway's payload-2.0 events."""

import json
from typing import Any

import pytest

from aizen.errors import InvalidRequest
from aizen.http import CorsPolicy, Request, Response, json_response, lambda_entry, viewer_address
from aizen_local.apigw import LocalLambdaContext, http_event
from aizen_local.functions import Handler
from aizen_local.template import HttpRoute

ROUTE = HttpRoute("POST", "/things/{thingId}", "ThingFunction")
PREFLIGHT = HttpRoute("OPTIONS", "/things/{thingId}", "ThingFunction")


def _echo(request: Request) -> Response:
    """Answers with what it was given, so the tests can see the parsed request."""
    request.add_response_headers({"X-Seen": "yes"})
    return json_response(
        request,
        200,
        {
            "headers": dict(request.headers),
            "query": dict(request.query),
            "path": dict(request.path_parameters),
            "cookies": list(request.cookies),
            "body": request.body.hex(),
            "source_ip": request.source_ip,
        },
    )


def _refuse(request: Request) -> Response:
    request.add_response_headers({"X-Seen": "yes"})
    raise InvalidRequest("thing: must be blue")


def _crash(request: Request) -> Response:
    raise RuntimeError("secret internals")


def _call(handler: Any, route: HttpRoute, *, cors: CorsPolicy | None = None, **event: Any) -> dict[str, Any]:
    entry: Handler = lambda_entry(handler, route=ROUTE.route_key, cors=cors)
    answer: dict[str, Any] = entry(
        http_event(route, "/things/t1", path_parameters={"thingId": "t1"}, **event),
        LocalLambdaContext(function_name="ThingFunction", aws_request_id="req-1"),
    )
    return answer


def test_the_handler_sees_the_parsed_request() -> None:
    answer = _call(
        _echo,
        ROUTE,
        headers={"X-Custom": "1", "Cookie": "a=1; b=2"},
        query="q=x&q=y",
        body=b"\xff\x00raw",
        source_ip="203.0.113.9",
    )

    assert answer["statusCode"] == 200
    assert answer["headers"] == {"X-Seen": "yes", "Content-Type": "application/json"}
    seen = json.loads(answer["body"])
    assert seen["headers"]["x-custom"] == "1"
    assert seen["query"] == {"q": "x,y"}
    assert seen["path"] == {"thingId": "t1"}
    assert seen["cookies"] == ["a=1", "b=2"]
    assert bytes.fromhex(seen["body"]) == b"\xff\x00raw"  # base64 on the wire, bytes to the handler
    assert seen["source_ip"] == "203.0.113.9"


def test_header_names_are_lower_cased_whoever_built_the_event() -> None:
    event = http_event(ROUTE, "/things/t1")
    event["headers"] = {"X-Mixed-Case": "v"}
    request = Request.from_event(event, LocalLambdaContext(function_name="ThingFunction"))

    assert request.headers == {"x-mixed-case": "v"}


def test_a_domain_error_takes_the_error_shape_with_the_headers_set_before_it() -> None:
    answer = _call(_refuse, ROUTE)

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {"error": {"code": "invalid_request", "message": "thing: must be blue"}}
    assert answer["headers"]["X-Seen"] == "yes"


def test_an_unexpected_error_is_a_500_with_the_request_id_and_nothing_else() -> None:
    answer = _call(_crash, ROUTE)

    assert answer["statusCode"] == 500
    assert answer["headers"]["X-Request-Id"] == "req-1"
    assert "secret" not in answer["body"]
    assert json.loads(answer["body"])["error"]["message"] == "Internal error; request id req-1"


def test_a_route_the_function_does_not_serve_is_a_404() -> None:
    answer = _call(_echo, HttpRoute("GET", "/things/{thingId}", "ThingFunction"))

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"error": {"code": "not_found", "message": "No such route"}}


def test_without_cors_a_preflight_is_not_answered() -> None:
    answer = _call(_echo, PREFLIGHT, headers={"Origin": "https://site.example"})

    assert answer["statusCode"] == 404


@pytest.mark.parametrize(
    ("headers", "cors_headers"),
    [
        ({"Origin": "https://site.example"}, {"Access-Control-Allow-Origin", "Access-Control-Allow-Headers"}),
        ({}, set()),
    ],
)
def test_with_cors_answers_carry_cors_headers_only_for_cross_origin_requests(
    headers: dict[str, str], cors_headers: set[str]
) -> None:
    for handler, status in ((_echo, 200), (_refuse, 400), (_crash, 500)):
        answer = _call(handler, ROUTE, cors=CorsPolicy(), headers=headers)

        assert answer["statusCode"] == status
        assert {name for name in answer["headers"] if name.startswith("Access-Control-Allow")} == cors_headers


def test_with_cors_a_preflight_is_answered_without_running_the_handler() -> None:
    answer = _call(_crash, PREFLIGHT, cors=CorsPolicy(), headers={"Origin": "https://site.example"})

    assert answer["statusCode"] == 204
    assert answer["body"] == ""
    assert answer["headers"]["Access-Control-Allow-Methods"] == "OPTIONS,POST"
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"
    assert answer["headers"]["Access-Control-Max-Age"] == "86400"


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("2001:db8::7:46532", "2001:db8::7"),
        ("203.0.113.9:443", "203.0.113.9"),
        ("[2001:db8::8]:443", "2001:db8::8"),
        ("", None),
        ("not-an-address:443", None),
    ],
)
def test_the_viewer_address_is_cloudfronts_address_without_its_port(value: str, address: str | None) -> None:
    assert viewer_address({"cloudfront-viewer-address": value}) == address
