"""Concurrent requests from many loopback addresses: exactly the limit gets through.

The counters are single conditional UpdateItems; the embedded store serialises
requests the way DynamoDB serialises writes to one item, so no race lets more
than the limit through.
"""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import (
    EVENT_IP_LIMIT_PER_MINUTE,
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


def test_exactly_60_requests_a_minute_per_ip_pass_before_auth(stack: RunningStack) -> None:
    # Given: a fresh minute with room for the burst
    wait_for_window_room(60, needed_seconds=20)

    # When: 90 concurrent requests from one address, without any token
    statuses = _burst(stack, requests_per_address=90, addresses=1, headers={})

    # Then: the IP limit is checked before the token: 60 reach auth (401), 30 are limited
    assert statuses == Counter({401: 60, 429: 30})


def test_exactly_600_requests_an_hour_per_key_pass(stack: RunningStack, tenant: Tenant) -> None:
    # Given: a key, and an hour window with room for the burst
    wait_for_window_room(3600, needed_seconds=120)

    # When: 650 concurrent requests spread over 13 addresses (50 each: under the per-IP limit)
    statuses = _burst(stack, requests_per_address=50, addresses=13, headers={"Authorization": f"Bearer {tenant.token}"})

    # Then: exactly 600 pass rate limiting (and get their answer), 50 are refused
    assert statuses == Counter({200: 600, 429: 50})


def test_429_carries_retry_after_and_no_store(stack: RunningStack) -> None:
    wait_for_window_room(60, needed_seconds=20)
    with client_from(next_loopback_address(), stack.url) as client:
        responses = [client.get(STATS) for _ in range(61)]

    limited = responses[-1]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["cache-control"] == "no-store"


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


def test_key_management_shares_the_api_window_before_the_cookie(stack: RunningStack, tenant: Tenant) -> None:
    # Given: a fresh minute with room for the requests
    wait_for_window_room(60, needed_seconds=30)
    with client_from(next_loopback_address(), stack.url) as client:
        # When: 30 stats requests and 30 key-management requests without any credential, then one more
        statuses = [client.get(STATS).status_code for _ in range(30)]
        statuses += [client.get(f"/api/sites/{tenant.site_id}/api-keys").status_code for _ in range(30)]
        limited = client.delete(f"/api/sites/{tenant.site_id}/api-keys/{tenant.key_id}")

    # Then: all 60 reached their credential check (401), and the 61st is limited before its cookie is read
    assert statuses == [401] * 60
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.headers["x-ratelimit-limit"] == "60"
    assert limited.headers["cache-control"] == "no-store"
