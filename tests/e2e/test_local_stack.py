"""The local stack serves template.yaml's routes over HTTP, like API Gateway would."""

import json
import time

import boto3
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


@pytest.mark.parametrize(
    ("dispatcher", "queue", "worker", "email"),
    [
        ("RollupDispatchFunction", "RollupQueue", "RollupFunction", "queue-owner@example.com"),
        ("CompactionDispatchFunction", "CompactionQueue", "CompactionFunction", "compaction-owner@example.com"),
    ],
)
def test_each_jobs_dispatcher_runs_on_the_template_schedule_and_its_worker_on_its_queue(
    stack: RunningStack, dispatcher: str, queue: str, worker: str, email: str
) -> None:
    # Given: the template's schedule is rate(...): the stack runs the dispatcher at start, then every
    # period (this stack has no site yet, so it sent nothing)
    deadline = time.monotonic() + 60
    while f"{dispatcher} ran" not in stack.log_file.read_text():
        assert time.monotonic() < deadline, f"{dispatcher} never ran"
        time.sleep(0.5)
    owner = stack.cli_json("users", "create", "--email", email)
    domain = f"{queue.lower()}.example"
    site = stack.cli_json("sites", "create", "--domain", domain, "--timezone", "UTC", "--owner", owner["id"])

    # When: a message for the site lands in the job's queue, as the dispatcher sends it
    sqs = boto3.client(
        "sqs", endpoint_url=stack.summary["sqs_endpoint"], region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    sqs.send_message(
        QueueUrl=stack.summary["queues"][queue], MessageBody=json.dumps({"site_id": site["id"]}),
        MessageGroupId=site["id"], MessageDeduplicationId=f"{site['id']}#e2e",
    )  # fmt: skip

    # Then: the template's event source mapping hands it to the worker, which works that site
    while f"{worker} ran" not in stack.log_file.read_text():
        assert time.monotonic() < deadline + 60, f"{worker} never ran"
        time.sleep(0.5)
