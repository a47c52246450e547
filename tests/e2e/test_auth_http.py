"""Every auth case of the seed document, over HTTP through the local stack.

An expiring key is tested against a frozen clock instead of waiting for it
(tests/integration/test_stats_auth.py::test_expired_token_is_401_invalid_token)."""

import time

import httpx
import pytest

from tests.e2e.conftest import KEY_LIMIT_PER_HOUR, RunningStack, Tenant, make_tenant

pytestmark = pytest.mark.e2e

STATS = "/api/v1/stats/aggregate"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401_with_a_plain_challenge(http: httpx.Client) -> None:
    response = http.get(STATS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="aizen"'
    assert response.json()["error"]["code"] == "unauthorized"


def test_token_in_the_query_string_is_never_read(http: httpx.Client, tenant: Tenant) -> None:
    response = http.get(STATS, params={"token": tenant.token, "api_key": tenant.token, "access_token": tenant.token})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="aizen"'


@pytest.mark.parametrize(
    "token",
    ["aiz_live_123", "aiz_test_0123456789ab_" + "0" * 64, "aiz_live_0123456789ab_" + "0" * 63, "not-a-token"],
)
def test_malformed_token_is_401_invalid_token(http: httpx.Client, token: str) -> None:
    response = http.get(STATS, headers=_bearer(token))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_unknown_token_is_401_invalid_token(http: httpx.Client, tenant: Tenant) -> None:
    prefix, _, secret = tenant.token.rpartition("_")
    forged = f"{prefix}_{'0' * len(secret)}"

    response = http.get(STATS, headers=_bearer(forged))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_revoked_token_is_401(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    # Given
    stack.cli("keys", "revoke", "--site", tenant.site_id, "--key", tenant.key_id)

    # When
    response = http.get(STATS, headers=_bearer(tenant.token))

    # Then
    assert response.status_code == 401
    assert "revoked" in response.headers["www-authenticate"]


def test_owner_without_billing_access_is_403(stack: RunningStack, http: httpx.Client) -> None:
    unpaid = make_tenant(stack, billing=False)

    response = http.get(STATS, headers=_bearer(unpaid.token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_valid_key_passes_auth_and_rate_limits(http: httpx.Client, tenant: Tenant) -> None:
    # When
    first = http.get(STATS, headers=_bearer(tenant.token))
    second = http.get(STATS, headers=_bearer(tenant.token))

    # Then: both pass auth and rate limiting and get the analytics
    assert first.status_code == 200
    assert "metrics" in first.json()
    assert first.headers["x-ratelimit-limit"] == str(KEY_LIMIT_PER_HOUR)  # the stack's setting
    assert int(first.headers["x-ratelimit-remaining"]) == KEY_LIMIT_PER_HOUR - 1
    assert int(second.headers["x-ratelimit-remaining"]) == KEY_LIMIT_PER_HOUR - 2
    reset = int(first.headers["x-ratelimit-reset"])
    assert reset % 3600 == 0
    assert 0 < reset - time.time() <= 3600


def test_realtime_is_never_cacheable(http: httpx.Client, tenant: Tenant) -> None:
    assert http.get("/api/v1/stats/realtime").headers["cache-control"] == "no-store"
    assert http.get("/api/v1/stats/realtime", headers=_bearer(tenant.token)).headers["cache-control"] == "no-store"
