"""Concurrent requests from many loopback addresses: exactly the limit gets through.

The counters are single conditional UpdateItems; the embedded store serialises
requests the way DynamoDB serialises writes to one item, so no race lets more
than the limit through.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import RunningStack, Tenant, client_from, next_loopback_address, wait_for_window_room

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
