"""Plausible's official tracker payloads, posted over HTTP to the local stack, then read back."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from aizen.events import RawEvent
from aizen.store.events import from_item
from tests.e2e.conftest import RunningStack, client_from, next_loopback_address, start_stack
from tests.geoip import write_city_database

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="module")
def geo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    tmp = tmp_path_factory.mktemp("geo-stack")
    database = write_city_database(tmp / "city.mmdb")
    running = start_stack(tmp, "--no-demo", environment={"AIZEN_GEOIP_DATABASE": str(database)})
    yield running
    running.stop()


def stored_events(stack: RunningStack, site_id: str) -> list[RawEvent]:
    env = stack.cli_environment
    table = boto3.resource(
        "dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    ).Table(env["AIZEN_EVENTS_TABLE"])  # fmt: skip
    items = table.scan(FilterExpression="attribute_exists(v)")["Items"]  # single items, not blocks or markers
    events = [from_item(item) for item in items]
    return sorted((event for event in events if event.site_id == site_id), key=lambda event: event.timestamp_ms)


def tracker_post(client: httpx.Client, payload: dict[str, Any], user_agent: str) -> httpx.Response:
    """What plausible.js does: JSON in a text/plain body (no CORS preflight), the browser's user agent."""
    return client.post(
        "/api/event",
        content=json.dumps(payload, separators=(",", ":")),
        headers={"Content-Type": "text/plain", "User-Agent": user_agent, "Origin": "https://shop.example.com"},
    )


def test_official_tracker_payloads_are_stored_enriched(geo_stack: RunningStack) -> None:
    user = geo_stack.cli_json("users", "create", "--email", "tracker@example.com")
    site = geo_stack.cli_json(
        "sites", "create", "--domain", "shop.example.com", "--timezone", "Europe/Berlin", "--owner", user["id"]
    )
    with client_from(next_loopback_address(), geo_stack.url) as browser:
        pageview = {"n": "pageview", "u": "https://shop.example.com/pricing?utm_source=google&utm_medium=cpc",
                    "d": "shop.example.com", "r": "https://www.google.com/", "w": 390}  # fmt: skip
        hash_view = {"n": "pageview", "u": "https://shop.example.com/app#/settings", "d": "shop.example.com",
                     "r": None, "w": 390, "h": 1}  # fmt: skip
        click = {"n": "Outbound Link: Click", "u": "https://shop.example.com/app", "d": "shop.example.com",
                 "r": None, "w": 390, "p": {"url": "https://github.com/aizen"}}  # fmt: skip
        for payload in (pageview, hash_view, click):
            response = tracker_post(browser, payload, IPHONE)
            assert response.status_code == 202, response.text
            assert response.headers["access-control-allow-origin"] == "*"
        # The npm tracker sends custom events with props as an object, the legacy script as a JSON
        # string, and the newer tracker (v2) engagement reports with a version.
        signup = {"n": "Signup", "u": "https://shop.example.com/pricing", "d": "shop.example.com", "r": None,
                  "w": 390, "p": {"plan": "pro"}}  # fmt: skip
        legacy = {"n": "Signup", "u": "https://shop.example.com/pricing", "d": "shop.example.com", "r": None,
                  "w": 390, "m": None, "p": '{"plan":"free"}'}  # fmt: skip
        v2 = {"n": "engagement", "u": "https://shop.example.com/", "d": "shop.example.com", "r": None, "v": 25,
              "e": 1200, "sd": 40}  # fmt: skip
        for payload in (signup, legacy, v2):
            response = tracker_post(browser, payload, IPHONE)
            assert response.status_code == 202, response.text
            assert "x-aizen-dropped" not in response.headers
        preflight = browser.options(
            "/api/event",
            headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
    with client_from(next_loopback_address(), geo_stack.url) as desktop:
        assert (
            tracker_post(
                desktop,
                {**pageview, "u": "https://shop.example.com/", "r": "https://news.ycombinator.com/"},
                WINDOWS_CHROME,
            ).status_code
            == 202
        )

    first, second, third, *custom, fourth = stored_events(geo_stack, site["id"])
    assert [event.kind for event in (first, second, third, fourth)] == [
        "pageview",
        "pageview",
        "outbound_click",
        "pageview",
    ]
    assert [(event.kind, event.name, event.props, event.engaged_ms, event.scroll_depth) for event in custom] == [
        ("custom", "Signup", '{"plan":"pro"}', None, None),
        ("custom", "Signup", '{"plan":"free"}', None, None),
        ("engagement", None, None, 1200, 40),
    ]
    assert {event.visitor_id for event in custom} == {first.visitor_id}
    assert (first.page, first.referrer, first.channel) == ("/pricing", "google.com", "Paid Search")
    assert (second.page, second.referrer, second.channel) == ("/app#/settings", None, "Direct")
    assert (third.page, third.link) == ("/app", "https://github.com/aizen")
    for event in (first, second, third):
        assert (event.device, event.browser, event.os) == ("mobile", "Safari", "iOS")
        assert (event.country, event.region, event.city) == (
            "US",
            "US-CA",
            "San Francisco",
        )  # 127.0.0.0/8 in the test db
    assert first.visitor_id == second.visitor_id == third.visitor_id
    assert (fourth.device, fourth.browser, fourth.os, fourth.channel) == (
        "desktop",
        "Chrome",
        "Windows",
        "Organic Social",
    )
    assert fourth.visitor_id != first.visitor_id


def test_import_cli_reports_every_bad_line_and_writes_a_summary(geo_stack: RunningStack, tmp_path: Path) -> None:
    user = geo_stack.cli_json("users", "create", "--email", "importer@example.com")
    site = geo_stack.cli_json(
        "sites", "create", "--domain", "import.example.com", "--timezone", "UTC", "--owner", user["id"]
    )
    traffic = geo_stack.cli("traffic", "--domain", "import.example.com", "--days", "3", "--visitors", "20").stdout
    lines = traffic.splitlines()
    good = tmp_path / "good.ndjson"
    good.write_text(traffic)
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join([lines[0], "{", lines[1], '{"name": "pageview"}', '"just a string"', lines[2]]) + "\n")
    rejected = geo_stack.cli("import", "--site", site["id"], str(bad), check=False)
    assert rejected.returncode == 1
    error = json.loads(rejected.stderr)["error"]
    assert [bad_line["line"] for bad_line in error["bad_lines"]] == [2, 4, 5]
    assert stored_events(geo_stack, site["id"]) == []
    summary = geo_stack.cli_json("import", "--site", site["id"], str(good))
    assert summary["imported"] + summary["skipped_bots"] == len(lines)
    assert len(stored_events(geo_stack, site["id"])) == summary["imported"]
