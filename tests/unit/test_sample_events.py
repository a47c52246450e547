"""events/<Function>.json: one `sam local invoke` sample per template function."""

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from aizen_local.template import PROJECT_ROOT, FunctionSpec, load_template

EVENTS_DIR = PROJECT_ROOT / "events"
FUNCTIONS = load_template().functions()
HTTP_FUNCTIONS = [spec for spec in FUNCTIONS if spec.routes]
SCHEDULED_FUNCTIONS = [spec for spec in FUNCTIONS if spec.schedules]


def sample(spec: FunctionSpec) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{spec.logical_id}.json").read_text())
    return event


def test_every_function_has_exactly_one_sample_event_and_no_sample_is_orphaned() -> None:
    samples = sorted(path.stem for path in EVENTS_DIR.glob("*.json"))

    assert samples == sorted(spec.logical_id for spec in FUNCTIONS)


def test_every_sample_file_is_a_json_object() -> None:
    for path in EVENTS_DIR.glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path.name


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_http_sample_route_key_is_one_of_the_functions_routes(spec: FunctionSpec) -> None:
    event = sample(spec)

    assert event["routeKey"] in {route.route_key for route in spec.routes}
    assert event["requestContext"]["routeKey"] == event["routeKey"]


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_http_sample_is_a_consistent_payload_2_event(spec: FunctionSpec) -> None:
    event = sample(spec)
    route = next(route for route in spec.routes if route.route_key == event["routeKey"])

    assert event["version"] == "2.0"
    assert event["requestContext"]["http"]["method"] == route.method
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
    match = route.pattern().match(event["rawPath"])
    assert match is not None
    assert event.get("pathParameters", {}) == match.groupdict()
    assert event["isBase64Encoded"] is False
    assert all(name == name.lower() for name in event["headers"])
    assert "cookie" not in event["headers"]  # payload 2.0 moves cookies to `cookies`
    if event["rawQueryString"]:
        assert event["queryStringParameters"] == dict(parse_qsl(event["rawQueryString"]))
    else:
        assert "queryStringParameters" not in event


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_http_samples_never_carry_a_token_in_the_query_string(spec: FunctionSpec) -> None:
    event = sample(spec)

    assert not {"token", "api_key", "access_token"} & set(event.get("queryStringParameters", {}))


@pytest.mark.parametrize("spec", SCHEDULED_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_scheduled_sample_is_an_eventbridge_scheduled_event(spec: FunctionSpec) -> None:
    event = sample(spec)

    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["detail"] == {}
    assert event["resources"][0].startswith("arn:aws:events:")


def test_samples_are_pretty_printed_json() -> None:
    for path in EVENTS_DIR.glob("*.json"):
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=2) + "\n", f"{path.name} is not formatted"
