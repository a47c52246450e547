"""Concurrent requests from many loopback addresses: exactly the limit gets through.

The counters are single conditional UpdateItems; the embedded store serialises
requests the way DynamoDB serialises writes to one item, so no race lets more
than the limit through.

One real-clock check per window (the API's per-IP minute, the key's hour, ingestion's
per-IP minute; the key's and ingestion's limits are set lower in the stack than their
defaults): each waits, at worst, for a window with room for its burst. What the windows
decide at their edges (resets, Retry-After, headers, which routes share a window) is logic,
tested against a frozen clock in tests/integration/test_rate_limits.py and
tests/integration/test_ingest.py.
"""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import (
    EVENT_IP_LIMIT_PER_MINUTE,
    KEY_LIMIT_PER_HOUR,
    RunningStack,
    Tenant,
    client_from,
    next_loopback_address,
    wait_for_window_room,
)

pytestmark = pytest.mark.e2e

STATS = "/api/v1/stats/realtime"  # the cheapest stats query: the limits are shared by all four


def _burst(stack: RunningStack, requests_per_address: int, addresses: int, headers: dict[str, str]) -> Counter[int]:
    clients = [client_from(next_loopback_address(), stack.url) for _ in range(addresses)]
    jobs = [client for client in clients for _ in range(requests_per_address)]
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda client: client.get(STATS, headers=headers).status_code, jobs))
    finally:
        for client in clients:
            client.close()
    return Counter(statuses)


def test_exactly_60_requests_a_minute_per_ip_pass_before_the_credentials(stack: RunningStack, tenant: Tenant) -> None:
    # Given: a fresh minute with room for the burst
    wait_for_window_room(60, needed_seconds=20)

    # When: 90 concurrent requests from one address without any credential, every one claiming
    # another X-Forwarded-For; half to a stats route, half to key management
    paths = [STATS, f"/api/sites/{tenant.site_id}/api-keys"] * 45
    with client_from(next_loopback_address(), stack.url) as client, ThreadPoolExecutor(max_workers=32) as pool:
        responses = list(
            pool.map(
                lambda job: client.get(job[1], headers={"X-Forwarded-For": f"203.0.113.{job[0]}"}),
                enumerate(paths),
            )
        )

    # Then: one window for the TCP peer's address (the local stack's sourceIp, never X-Forwarded-For),
    # shared by both kinds of route and checked before the token or the cookie: 60 reach their
    # credential check (401), 30 are limited, with the headers of a 429
    assert Counter(response.status_code for response in responses) == Counter({401: 60, 429: 30})
    for limited in (response for response in responses if response.status_code == 429):
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["cache-control"] == "no-store"
        assert limited.headers["x-ratelimit-limit"] == "60"


def test_exactly_the_key_limit_of_requests_an_hour_per_key_pass(stack: RunningStack, tenant: Tenant) -> None:
    # Given: a key, its hour's limit (the stack's setting), and an hour window with room for the burst
    assert KEY_LIMIT_PER_HOUR == 100
    wait_for_window_room(3600, needed_seconds=120)

    # When: 120 concurrent requests spread over 3 addresses (40 each: under the per-IP limit)
    statuses = _burst(stack, requests_per_address=40, addresses=3, headers={"Authorization": f"Bearer {tenant.token}"})

    # Then: exactly 100 pass rate limiting (and get their answer), 20 are refused
    assert statuses == Counter({200: 100, 429: 20})


def test_exactly_60_events_a_minute_per_ip_pass_in_their_own_window(stack: RunningStack) -> None:
    # Given: a site, an address window of 60 events a minute (the stack's setting), and a fresh minute
    assert EVENT_IP_LIMIT_PER_MINUTE == 60
    user = stack.cli_json("users", "create", "--email", "events-burst@example.com")
    domain = "events-burst.example.com"
    stack.cli_json("sites", "create", "--domain", domain, "--timezone", "UTC", "--owner", user["id"])
    body = json.dumps({"n": "pageview", "u": f"https://{domain}/", "d": domain})
    headers = {
        "Content-Type": "text/plain",
        "Origin": f"https://{domain}",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    }
    wait_for_window_room(60, needed_seconds=30)

    with client_from(next_loopback_address(), stack.url) as browser:
        # When: 80 concurrent events from one address (a NAT full of visitors)
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda _: browser.post("/api/event", content=body, headers=headers), range(80)))
        # and a developer behind the same address calls the API
        api_status = browser.get(STATS).status_code

    # Then: exactly 60 events pass, the rest are 429 readable by the page (CORS), and the
    # API window of the address is untouched (its request reaches auth)
    assert Counter(answer.status_code for answer in answers) == Counter({202: 60, 429: 20})
    limited = next(answer for answer in answers if answer.status_code == 429)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.headers["access-control-allow-origin"] == "*"
    assert limited.headers["x-ratelimit-limit"] == "60"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert api_status == 401
