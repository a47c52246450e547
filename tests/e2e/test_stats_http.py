"""The seed document's example requests against the local stack over real HTTP."""

import subprocess
import sys
import textwrap

import httpx

from tests.e2e.conftest import RunningStack, Tenant

SEED_SCRIPT = """
import sys, time
from aizen.events import RawEvent
from aizen.store.events import put_event
site = sys.argv[1]
now = int(time.time() * 1000)
for n, (ago_minutes, kind, page, link) in enumerate([
    (3, "pageview", "/", None),
    (2, "pageview", "/pricing", None),
    (1, "outbound_click", "/pricing", "https://github.com/example/repo"),
    (5, "pageview", "/", None),
    (60 * 30, "pageview", "/docs", None),
]):
    put_event(RawEvent(site, now - ago_minutes * 60_000, kind, f"{n % 2:014x}{n % 2:02x}", page,
                       referrer="google.com", country="US", device="desktop", link=link))
"""


def _seed(stack: RunningStack, site_id: str) -> None:
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SEED_SCRIPT), site_id],
        env=stack.cli_environment,
        check=True,
        timeout=120,
    )


def _get(http: httpx.Client, path: str, tenant: Tenant) -> httpx.Response:
    return http.get(path, headers={"Authorization": f"Bearer {tenant.token}"})


def test_the_seed_examples(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    _seed(stack, tenant.site_id)
    meta = {"timezone": "Europe/Berlin", "from_rollups": False}

    aggregate = _get(http, "/api/v1/stats/aggregate?period=30d&metrics=visitors,pageviews,bounce_rate", tenant)
    assert aggregate.status_code == 200
    assert aggregate.headers["content-type"] == "application/json"
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(aggregate.headers)
    body = aggregate.json()
    assert list(body) == ["period", "metrics", "meta"]
    assert body["period"]["preset"] == "30d"
    assert list(body["metrics"]) == ["visitors", "pageviews", "bounce_rate"]
    assert body["metrics"]["pageviews"] == 4
    assert body["meta"] == meta

    series = _get(http, "/api/v1/stats/timeseries?period=7d&interval=day&metrics=visitors,pageviews", tenant).json()
    assert list(series) == ["period", "interval", "results", "meta"]
    assert series["interval"] == "day"
    assert len(series["results"]) == 7
    assert series["results"][0]["date"].endswith(":00:00.000Z")
    assert sum(point["pageviews"] for point in series["results"]) == 4

    rows = _get(
        http, "/api/v1/stats/breakdown?period=30d&property=exit_link&metrics=clicks&sort=clicks.desc&limit=10", tenant
    ).json()
    assert rows["property"] == "exit_link"
    assert rows["results"] == [{"value": "https://github.com/example/repo", "clicks": 1}]
    assert rows["pagination"] == {"page_number": 1, "limit": 10, "total_rows": 1, "total_pages": 1}
    assert rows["meta"] == meta

    realtime = _get(http, "/api/v1/stats/realtime?minutes=10", tenant)
    assert realtime.status_code == 200
    assert realtime.headers["cache-control"] == "no-store"
    assert realtime.json() == {"current_visitors": 2, "window_minutes": 10}

    missing = _get(http, "/api/v1/stats/breakdown?period=30d", tenant)
    assert missing.status_code == 400
    assert missing.json() == {"error": {"code": "invalid_request", "message": "property is required"}}


def test_a_filters_string_over_http(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    # The client percent-encodes | ; = as in any query value; the stack hands the handler the decoded string
    _seed(stack, tenant.site_id)
    headers = {"Authorization": f"Bearer {tenant.token}"}

    def aggregate(filters: str) -> httpx.Response:
        params = {"period": "7d", "metrics": "visitors,pageviews", "filters": filters}
        return http.get("/api/v1/stats/aggregate", params=params, headers=headers)

    assert aggregate("event:page==/|/pricing;visit:country==US|DE").json()["metrics"] == {
        "visitors": 2,
        "pageviews": 3,
    }
    assert aggregate("event:page==/d*;visit:browser!=(none)").json()["metrics"] == {"visitors": 0, "pageviews": 0}
    assert aggregate("event:page==/d*").json()["metrics"] == {"visitors": 1, "pageviews": 1}
    refused = aggregate("visit:country=US")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "filters: expected == or != after visit:country at position 14, found '='"
    )
