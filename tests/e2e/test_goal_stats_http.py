"""The official tracker's goal, props and engagement payloads over HTTP, read back through the stats API."""

import json
import subprocess
import sys
import textwrap
from typing import Any

import httpx

from tests.e2e.conftest import RunningStack, Tenant, client_from, next_loopback_address

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GOALS_SCRIPT = """
import sys
from aizen.goals import Goal
from aizen.store.goals import put_goal
put_goal(sys.argv[1], Goal("g1", "Signup", event_name="Signup", created_at=1))
put_goal(sys.argv[1], Goal("g2", "Visit /blog/**", page_pattern="/blog/**", created_at=2))
"""


def _send(stack: RunningStack, payloads: list[dict[str, Any]]) -> None:
    """One visitor (its own address) sending what plausible.js sends: JSON in a text/plain body."""
    with client_from(next_loopback_address(), stack.url) as browser:
        for payload in payloads:
            response = browser.post(
                "/api/event",
                content=json.dumps(payload),
                headers={"Content-Type": "text/plain", "User-Agent": FIREFOX},
            )
            assert response.status_code == 202, response.text


def _get(http: httpx.Client, tenant: Tenant, path: str) -> Any:
    response = http.get(path, headers={"Authorization": f"Bearer {tenant.token}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_tracker_goals_props_and_engagement_read_back(stack: RunningStack, http: httpx.Client) -> None:
    # Given: a site with two goals, and three visitors: one on the npm tracker (props as an
    # object), one on the legacy script (props as a JSON string), one who only looks
    host = "goals.example.com"
    user = stack.cli_json("users", "create", "--email", "goal-stats@example.com")
    site_id = stack.cli_json("sites", "create", "--domain", host, "--timezone", "UTC", "--owner", user["id"])["id"]
    token = stack.cli_json("keys", "create", "--site", site_id, "--name", "goals")["token"]
    tenant = Tenant(user["id"], site_id, "", token, "")
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(GOALS_SCRIPT), site_id],
        env=stack.cli_environment,
        check=True,
        timeout=120,
    )
    site = f"https://{host}"
    _send(
        stack,
        [
            {"n": "pageview", "u": f"{site}/pricing", "d": host, "r": None},
            {"n": "Signup", "u": f"{site}/pricing", "d": host, "r": None, "p": {"plan": "pro"}},
            {"n": "engagement", "u": f"{site}/pricing", "d": host, "r": None, "sd": 100, "e": 325, "h": 1},
        ],
    )
    _send(
        stack,
        [
            {"n": "pageview", "u": f"{site}/blog/launch", "d": host, "r": "https://news.ycombinator.com/"},
            {"n": "engagement", "u": f"{site}/blog/launch", "d": host, "r": None, "sd": 50, "e": 3000},
            {"n": "Signup", "u": f"{site}/blog/launch", "d": host, "r": None, "p": '{"plan":"free"}'},
        ],
    )
    _send(stack, [{"n": "pageview", "u": f"{site}/", "d": host, "r": None}])

    # Then: conversions, their rate, the plans, and time and scroll per page
    goals = _get(
        http, tenant, "/api/v1/stats/breakdown?period=today&property=goal&metrics=visitors,events,conversion_rate"
    )
    assert goals["results"] == [
        {"value": "Signup", "visitors": 2, "events": 2, "conversion_rate": 66.7},
        {"value": "Visit /blog/**", "visitors": 1, "events": 1, "conversion_rate": 33.3},
    ]
    signups = _get(
        http, tenant, "/api/v1/stats/aggregate?period=today&goal=Signup&metrics=visitors,events,conversion_rate"
    )
    assert signups["metrics"] == {"visitors": 2, "events": 2, "conversion_rate": 66.7}
    plans = _get(
        http,
        tenant,
        "/api/v1/stats/breakdown?period=today&property=props:plan&goal=Signup&metrics=visitors,conversion_rate",
    )
    assert plans["results"] == [
        {"value": "free", "visitors": 1, "conversion_rate": 100.0},
        {"value": "pro", "visitors": 1, "conversion_rate": 100.0},
    ]
    pro = _get(http, tenant, "/api/v1/stats/aggregate?period=today&props:plan=pro&metrics=visitors,events")
    assert pro["metrics"] == {"visitors": 1, "events": 1}
    pages = _get(
        http, tenant, "/api/v1/stats/breakdown?period=today&property=page&metrics=visitors,time_on_page,scroll_depth"
    )
    assert pages["results"] == [
        {"value": "/", "visitors": 1, "time_on_page": 0, "scroll_depth": None},
        {"value": "/blog/launch", "visitors": 1, "time_on_page": 3, "scroll_depth": 50},
        {"value": "/pricing", "visitors": 1, "time_on_page": 0, "scroll_depth": 100},
    ]
    unknown = http.get("/api/v1/stats/aggregate?goal=Purchase", headers={"Authorization": f"Bearer {tenant.token}"})
    assert unknown.status_code == 400
    assert (
        unknown.json()["error"]["message"] == "goal: unknown goal 'Purchase'; the site's goals: Signup, Visit /blog/**"
    )
