"""The local stack serves template.yaml's routes over HTTP, like API Gateway would."""

import time

import httpx
import pytest

from aizen_local.template import HttpRoute, load_template
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def _concrete(path: str) -> str:
    return path.replace("{siteId}", "site_x").replace("{keyId}", "key_x")


@pytest.mark.parametrize("route", load_template().routes(), ids=lambda route: route.route_key)
def test_every_template_route_reaches_its_function(route: HttpRoute, http: httpx.Client) -> None:
    # When
    response = http.request(route.method, _concrete(route.path))

    # Then: the route's function answered (401, 501, 204...), not the router's 404/405
    assert response.status_code not in (404, 405)
    if route.method != "OPTIONS":
        assert set(response.json()["error"]) == {"code", "message"}


def test_unknown_path_is_404_in_the_error_shape(http: httpx.Client) -> None:
    response = http.get("/api/v2/nothing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_with_allow(http: httpx.Client) -> None:
    response = http.put("/api/v1/stats/aggregate")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize(
    ("method", "path"), [("QUERY", "/api/event"), ("PUT", "/api/v1/stats/aggregate"), ("POST", "/x")]
)
def test_a_refused_request_with_a_body_leaves_the_connection_usable(method: str, path: str, http: httpx.Client) -> None:
    # Given a request the router refuses (405 or 404) that carries a body, on a kept-alive connection
    refused = http.request(method, path, content=b'{"name": "pageview"}', headers={"Content-Type": "application/json"})

    # When the next request goes over the same connection
    following = http.get("/api/v2/nothing")

    # Then both got the router's JSON answer: the first body was not read as the second request
    assert refused.status_code in (404, 405)
    assert refused.json()["error"]["code"] in ("not_found", "method_not_allowed")
    assert following.status_code == 404
    assert following.json()["error"]["code"] == "not_found"


def test_ingestion_preflight_is_open_to_any_origin(http: httpx.Client) -> None:
    response = http.options(
        "/api/event",
        headers={"Origin": "https://tracked-site.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"


def test_rollup_runs_on_the_template_schedule_one_site_an_invocation_through_the_queue(stack: RunningStack) -> None:
    # The template's schedule is rate(...): the stack runs the dispatcher at start, then every period;
    # the queue's poller (the template's event source mapping) hands the demo site's message to the worker.
    deadline = time.monotonic() + 60
    while not all(ran in stack.log_file.read_text() for ran in ("RollupDispatchFunction ran", "RollupFunction ran")):
        assert time.monotonic() < deadline, "the rollup dispatcher or worker never ran"
        time.sleep(0.5)
