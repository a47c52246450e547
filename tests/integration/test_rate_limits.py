"""Fixed-window rate limits: 60 a minute per client IP (before the token or the session cookie),
600 an hour per key, and a ceiling an hour per site across its keys."""

from collections.abc import Callable

from aizen.models import ApiKey
from aizen.ratelimit import consume_key
from aizen.settings import Settings
from aizen_local.template import load_template
from tests.support import (
    STATS_PATHS,
    FrozenClock,
    HandlerResponse,
    Owner,
    bearer,
    dashboard_headers,
    invoke,
    keys_path,
    main_table_items,
    make_key,
    make_owner,
)

ApplyEnv = Callable[..., Settings]
AGGREGATE = ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])
REALTIME = ("StatsRealtimeFunction", STATS_PATHS["StatsRealtimeFunction"])


def distinct_ip(n: int) -> str:
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def assert_rate_limited(response: HandlerResponse, retry_after: int) -> None:
    assert response.status == 429
    assert response.body["error"]["code"] == "rate_limited"
    assert response.headers["retry-after"] == str(retry_after)
    assert response.headers["cache-control"] == "no-store"


# Per API key -----------------------------------------------------------------------------------


def test_key_limit_refuses_the_request_after_the_limit(aizen_env: ApplyEnv, owner: Owner, clock: FrozenClock) -> None:
    # Given a limit of 5 an hour
    aizen_env(KEY_LIMIT_PER_HOUR="5")
    _, token = make_key(owner.site.id)

    # When the key is used 5 times, the 5 requests pass with a falling Remaining
    remaining = [invoke(*AGGREGATE, headers=bearer(token)).headers["x-ratelimit-remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]

    # Then the 6th is refused until the hour ends
    response = invoke(*AGGREGATE, headers=bearer(token))
    assert_rate_limited(response, retry_after=clock.next_boundary(3600) - int(clock.now()))
    assert response.headers["x-ratelimit-limit"] == "5"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == str(clock.next_boundary(3600))


def test_key_limit_at_the_real_default_of_600(owner: Owner, clock: FrozenClock) -> None:
    # Given the default limit, and a key that has spent 599 requests of its hour (counted by the
    # same counter the handler uses: the 600-request burst over real HTTP is the e2e tier's
    # real-clock check, tests/e2e/test_rate_limits_http.py)
    key, token = make_key(owner.site.id)
    for _ in range(599):
        consume_key(key.id, 600)

    # When it is used once more (realtime is the cheapest endpoint; the limit is the key's across endpoints)
    last = invoke(*REALTIME, headers=bearer(token), source_ip=distinct_ip(1))

    # Then the 600th passes with nothing left, and the 601st is 429 under the limit of 600
    assert last.status == 200
    assert last.headers["x-ratelimit-limit"] == "600"
    assert last.headers["x-ratelimit-remaining"] == "0"
    response = invoke(*AGGREGATE, headers=bearer(token), source_ip=distinct_ip(2))
    assert_rate_limited(response, retry_after=clock.next_boundary(3600) - int(clock.now()))
    assert response.headers["x-ratelimit-limit"] == "600"


# Per site, all its keys together ---------------------------------------------------------------


def test_a_sites_keys_together_stop_at_the_site_ceiling(aizen_env: ApplyEnv, owner: Owner, clock: FrozenClock) -> None:
    # Given: a site ceiling of 4 an hour, above each key's own limit of 3, and three keys
    aizen_env(KEY_LIMIT_PER_HOUR="3", SITE_STATS_LIMIT_PER_HOUR="4")
    tokens = [make_key(owner.site.id, name=f"key {n}")[1] for n in range(3)]

    # When: the first key spends its limit, then the second key is used twice
    statuses = [invoke(*REALTIME, headers=bearer(tokens[0]), source_ip=distinct_ip(n)).status for n in range(3)]
    statuses.append(invoke(*REALTIME, headers=bearer(tokens[1]), source_ip=distinct_ip(3)).status)
    refused = invoke(*REALTIME, headers=bearer(tokens[1]), source_ip=distinct_ip(4))

    # Then: the site's fifth request is refused, though its key had room, until the hour ends
    assert statuses == [200] * 4
    assert_rate_limited(refused, retry_after=clock.next_boundary(3600) - int(clock.now()))
    assert "hour per site" in refused.body["error"]["message"]
    assert refused.headers["x-ratelimit-limit"] == "4"
    assert invoke(*REALTIME, headers=bearer(tokens[2]), source_ip=distinct_ip(5)).status == 429
    clock.current = clock.next_boundary(3600)
    assert invoke(*REALTIME, headers=bearer(tokens[2]), source_ip=distinct_ip(6)).status == 200


def test_the_site_ceiling_is_per_site(aizen_env: ApplyEnv, owner: Owner, clock: FrozenClock) -> None:
    # Given: a ceiling of 1, spent by site_1
    aizen_env(SITE_STATS_LIMIT_PER_HOUR="1")
    _, token = make_key(owner.site.id)
    assert invoke(*REALTIME, headers=bearer(token)).status == 200
    other = make_owner(user_id="user_2", site_id="site_2", domain="other.test")
    _, other_token = make_key(other.site.id, user_id="user_2")

    # When / Then: another site still answers
    assert invoke(*REALTIME, headers=bearer(other_token), source_ip="203.0.113.20").status == 200
    assert invoke(*REALTIME, headers=bearer(token), source_ip="203.0.113.21").status == 429


def test_realtime_429_is_also_no_store(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(KEY_LIMIT_PER_HOUR="1")
    _, token = make_key(owner.site.id)
    invoke(*REALTIME, headers=bearer(token))

    response = invoke(*REALTIME, headers=bearer(token))

    assert response.status == 429
    assert response.headers["cache-control"] == "no-store"


def test_key_limit_resets_in_the_next_hour(aizen_env: ApplyEnv, owner: Owner, clock: FrozenClock) -> None:
    # Given a key that used up its hour
    aizen_env(KEY_LIMIT_PER_HOUR="2")
    _, token = make_key(owner.site.id)
    for _ in range(2):
        invoke(*AGGREGATE, headers=bearer(token))
    assert invoke(*AGGREGATE, headers=bearer(token)).status == 429

    # When the clock reaches the next hour
    clock.current = clock.next_boundary(3600)
    response = invoke(*AGGREGATE, headers=bearer(token))

    # Then a fresh window starts
    assert response.status == 200
    assert response.headers["x-ratelimit-remaining"] == "1"
    assert response.headers["x-ratelimit-reset"] == str(int(clock.now()) + 3600)


def test_keys_have_separate_limits(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(KEY_LIMIT_PER_HOUR="1")
    _, first = make_key(owner.site.id, name="first")
    _, second = make_key(owner.site.id, name="second")
    invoke(*AGGREGATE, headers=bearer(first))

    assert invoke(*AGGREGATE, headers=bearer(first)).status == 429
    assert invoke(*AGGREGATE, headers=bearer(second)).status == 200


def test_refused_requests_do_not_inflate_the_counter(aizen_env: ApplyEnv, owner: Owner) -> None:
    # A 429 must not increment the counter past the limit: once a new window opens the
    # count starts from zero again rather than from "limit + refused attempts".
    aizen_env(KEY_LIMIT_PER_HOUR="1")
    _, token = make_key(owner.site.id)
    for _ in range(4):
        invoke(*AGGREGATE, headers=bearer(token))

    hits = [int(item["hits"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#key#")]

    assert hits == [1]


# Per client IP ---------------------------------------------------------------------------------


def test_ip_limit_is_checked_before_the_token(owner: Owner, clock: FrozenClock) -> None:
    # Given 60 requests without any token from one address, each refused as unauthenticated
    for _ in range(60):
        assert invoke(*AGGREGATE, source_ip="203.0.113.9").status == 401

    # When the 61st arrives in the same minute
    response = invoke(*AGGREGATE, source_ip="203.0.113.9")

    # Then it is rate limited, not unauthenticated
    assert_rate_limited(response, retry_after=clock.next_boundary(60) - int(clock.now()))
    assert "www-authenticate" not in response.headers


def test_ip_limit_applies_to_valid_keys_too(api_key: tuple[ApiKey, str], aizen_env: ApplyEnv) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="3")
    _, token = api_key
    for _ in range(3):
        assert invoke(*AGGREGATE, headers=bearer(token), source_ip="203.0.113.9").status == 200

    response = invoke(*AGGREGATE, headers=bearer(token), source_ip="203.0.113.9")

    assert response.status == 429
    assert "minute per IP address" in response.body["error"]["message"]


def test_ip_limit_is_per_address(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="1")
    invoke(*AGGREGATE, source_ip="203.0.113.9")

    assert invoke(*AGGREGATE, source_ip="203.0.113.9").status == 429
    assert invoke(*AGGREGATE, source_ip="203.0.113.10").status == 401


def test_ip_limit_uses_the_source_ip_never_x_forwarded_for(aizen_env: ApplyEnv, owner: Owner) -> None:
    # Given an address that used up its minute
    aizen_env(IP_LIMIT_PER_MINUTE="1")
    invoke(*AGGREGATE, source_ip="203.0.113.9")

    # When it claims to be someone else through X-Forwarded-For
    response = invoke(*AGGREGATE, source_ip="203.0.113.9", headers={"X-Forwarded-For": "192.0.2.1"})

    # Then it is still limited as itself
    assert response.status == 429
    counters = {str(item["pk"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#ip#")}
    assert counters == {"RATE#ip#203.0.113.9"}


def test_ip_limit_resets_in_the_next_minute(owner: Owner, clock: FrozenClock) -> None:
    # Given an address that used up its minute
    for _ in range(60):
        invoke(*AGGREGATE, source_ip="203.0.113.9")
    assert invoke(*AGGREGATE, source_ip="203.0.113.9").status == 429

    # When the next minute starts
    clock.current = clock.next_boundary(60)

    # Then its requests are judged on their token again
    assert invoke(*AGGREGATE, source_ip="203.0.113.9").status == 401


def test_ip_limit_is_shared_by_every_stats_endpoint(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="4")
    for function, path in STATS_PATHS.items():
        assert invoke(function, path, source_ip="203.0.113.9").status == 401

    assert invoke(*REALTIME, source_ip="203.0.113.9").status == 429


# Key management: the API's per-IP window, before the session cookie ------------------------------


def _key_management(site_id: str, key_id: str = "key_x") -> list[tuple[str, str, str]]:
    """(function, path, method) of the three key-management routes, then the three goal routes
    (the same access: docs/api.md, Goals)."""
    return [
        ("ApiKeysListFunction", keys_path(site_id), "GET"),
        ("ApiKeysCreateFunction", keys_path(site_id), "POST"),
        ("ApiKeysRevokeFunction", keys_path(site_id, key_id), "DELETE"),
        ("GoalsListFunction", f"/api/sites/{site_id}/goals", "GET"),
        ("GoalsCreateFunction", f"/api/sites/{site_id}/goals", "POST"),
        ("GoalsDeleteFunction", f"/api/sites/{site_id}/goals/goal_x", "DELETE"),
    ]


def test_key_management_is_limited_per_ip_before_the_cookie(owner: Owner, clock: FrozenClock) -> None:
    # Given: 60 requests without any session cookie from one address, each refused as unauthenticated
    routes = _key_management(owner.site.id)
    for n in range(60):
        function, path, method = routes[n % 3]
        assert invoke(function, path, method=method, source_ip="203.0.113.9").status == 401

    # When: the 61st arrives in the same minute, on any of the three routes
    for function, path, method in routes:
        response = invoke(function, path, method=method, source_ip="203.0.113.9")

        # Then: it is rate limited (not unauthenticated), with the IP window's headers
        assert_rate_limited(response, retry_after=clock.next_boundary(60) - int(clock.now()))
        assert response.headers["x-ratelimit-limit"] == "60"
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-ratelimit-reset"] == str(clock.next_boundary(60))
        assert "minute per IP address" in response.body["error"]["message"]

    # And: another address is judged on its cookie
    assert invoke(*routes[0][:2], method="GET", source_ip="203.0.113.10").status == 401


def test_key_management_shares_the_api_window_with_the_stats_routes(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="4")
    list_route = _key_management(owner.site.id)[0]
    assert invoke(*AGGREGATE, source_ip="203.0.113.9").status == 401
    assert invoke(*REALTIME, source_ip="203.0.113.9").status == 401
    assert invoke(*list_route[:2], method="GET", source_ip="203.0.113.9").status == 401
    assert invoke(*list_route[:2], method="GET", source_ip="203.0.113.9").status == 401

    assert invoke(*AGGREGATE, source_ip="203.0.113.9").status == 429
    assert invoke(*list_route[:2], method="GET", source_ip="203.0.113.9").status == 429
    assert {str(item["pk"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#")} == {
        "RATE#ip#203.0.113.9"
    }


def test_a_refused_key_management_request_changes_nothing(
    aizen_env: ApplyEnv, owner: Owner, api_key: tuple[ApiKey, str]
) -> None:
    # Given: the owner's address used up its minute
    aizen_env(IP_LIMIT_PER_MINUTE="1")
    headers = dashboard_headers(owner.session)
    assert invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=headers).status == 200

    # When: it creates and revokes keys
    created = invoke("ApiKeysCreateFunction", keys_path(owner.site.id), headers=headers, body='{"name": "refused"}')
    revoked = invoke("ApiKeysRevokeFunction", keys_path(owner.site.id, api_key[0].id), headers=headers)

    # Then: both are refused, and the site still has its one live key
    assert (created.status, revoked.status) == (429, 429)
    aizen_env(IP_LIMIT_PER_MINUTE="60")
    [key] = invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=headers, source_ip="203.0.113.10").body[
        "keys"
    ]
    assert key["id"] == api_key[0].id
    assert key["revoked_at"] is None


def test_key_management_uses_the_source_ip_never_x_forwarded_for(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="1")
    list_route = _key_management(owner.site.id)[0]
    invoke(*list_route[:2], method="GET", source_ip="203.0.113.9")

    response = invoke(*list_route[:2], method="GET", source_ip="203.0.113.9", headers={"X-Forwarded-For": "192.0.2.1"})

    assert response.status == 429


# Counters ---------------------------------------------------------------------------------------


def test_counters_carry_a_ttl_after_their_window(api_key: tuple[ApiKey, str], clock: FrozenClock) -> None:
    # Given one authenticated request
    key, token = api_key
    invoke(*AGGREGATE, headers=bearer(token), source_ip="203.0.113.9")

    # Then one counter per window exists, each expiring (by the table's TTL attribute) after its window
    ttl_attribute = load_template().tables()["MainTable"]["TimeToLiveSpecification"]["AttributeName"]
    counters = {str(item["pk"]): item for item in main_table_items() if str(item["pk"]).startswith("RATE#")}
    assert set(counters) == {"RATE#ip#203.0.113.9", f"RATE#key#{key.id}", f"RATE#site#{key.site_id}"}
    ip_counter, key_counter = counters["RATE#ip#203.0.113.9"], counters[f"RATE#key#{key.id}"]
    site_counter = counters[f"RATE#site#{key.site_id}"]
    assert int(ip_counter["sk"]) == clock.next_boundary(60) - 60
    assert int(ip_counter[ttl_attribute]) > clock.next_boundary(60)
    for hourly in (key_counter, site_counter):
        assert int(hourly["sk"]) == clock.next_boundary(3600) - 3600
        assert int(hourly[ttl_attribute]) > clock.next_boundary(3600)
        assert int(hourly["hits"]) == 1


def test_counter_ttl_is_set_once_per_window(api_key: tuple[ApiKey, str], clock: FrozenClock) -> None:
    _, token = api_key
    invoke(*AGGREGATE, headers=bearer(token))
    first = {str(item["pk"]): int(item["ttl"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#")}

    clock.advance(10)
    invoke(*AGGREGATE, headers=bearer(token))
    second = {str(item["pk"]): int(item["ttl"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#")}

    assert first == second
