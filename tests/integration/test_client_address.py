"""The client's address on every route: the origin secret that proves a request came through
CloudFront, the viewer address behind it, and IPv6 windows per /64."""

import json
from collections.abc import Callable

import pytest

from aizen.settings import Settings
from tests.support import (
    EDGE_SECRET,
    STATS_PATHS,
    THROUGH_THE_EDGE,
    FrozenClock,
    HandlerResponse,
    Owner,
    invoke,
    keys_path,
    main_table_items,
    record_dynamodb_calls,
    stored_event_count,
)

ApplyEnv = Callable[..., Settings]
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
EDGE_IP = "192.0.2.1"  # a CloudFront edge: every viewer's requests arrive from addresses like it
REALTIME = ("StatsRealtimeFunction", STATS_PATHS["StatsRealtimeFunction"])


def event(ip: str, **headers: str) -> HandlerResponse:
    body = json.dumps({"n": "pageview", "u": "https://example.com/", "d": "example.com"})
    return invoke(
        "IngestEventFunction",
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": UA, **headers},
        body=body,
        source_ip=ip,
    )


def viewer(address: str, port: int = 443) -> dict[str, str]:
    """What CloudFront adds for a viewer (IPv6 addresses without brackets, as CloudFront writes them)."""
    return {"CloudFront-Viewer-Address": f"{address}:{port}", **THROUGH_THE_EDGE}


def _routes(site_id: str) -> list[tuple[str, str, str]]:
    return [
        ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"], "GET"),
        ("ApiKeysListFunction", keys_path(site_id), "GET"),
        ("ApiKeysRevokeFunction", keys_path(site_id, "k_1"), "DELETE"),
        ("IngestEventFunction", "/api/event", "POST"),
        ("IngestEventFunction", "/api/event", "OPTIONS"),
    ]


# The origin secret ---------------------------------------------------------------------------------


@pytest.mark.parametrize("presented", [None, "", EDGE_SECRET[:-1], EDGE_SECRET + "x", EDGE_SECRET.upper()])
def test_with_an_origin_secret_a_request_without_it_is_403_before_anything_is_read(
    aizen_env: ApplyEnv, owner: Owner, presented: str | None
) -> None:
    # Given: a stack that answers only through CloudFront
    aizen_env(CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)
    calls = record_dynamodb_calls()
    headers = {"Origin": "https://example.com"}
    if presented is not None:
        headers["X-Aizen-Origin-Verify"] = presented

    # When: every kind of route is called directly on the execute-api endpoint
    answers = [invoke(function, path, method=method, headers=headers) for function, path, method in _routes("site_1")]

    # Then: each is 403 in the error shape, and nothing reached DynamoDB (no counter, no lookup)
    assert [(answer.status, answer.body["error"]["code"]) for answer in answers] == [(403, "forbidden")] * 5
    assert calls == []


def test_with_the_origin_secret_every_route_answers_as_usual(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)

    statuses = [
        invoke(function, path, method=method, headers={**THROUGH_THE_EDGE, "Origin": "https://example.com"}).status
        for function, path, method in _routes("site_1")
    ]

    assert statuses == [401, 401, 401, 400, 204]  # no credentials, no body: the usual answers


def test_forged_viewer_headers_never_reach_a_trusting_stack_directly(
    aizen_env: ApplyEnv, owner: Owner, clock: FrozenClock
) -> None:
    # Given: a stack that trusts CloudFront's viewer headers
    aizen_env(TRUST_CLOUDFRONT_VIEWER_HEADERS="true", CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)

    # When: a client calls the execute-api endpoint with a fresh forged address each time
    forged = [
        event("198.51.100.7", **{"CloudFront-Viewer-Address": f"203.0.113.{n}:443", "CloudFront-Viewer-Country": "JP"})
        for n in range(3)
    ]

    # Then: refused, nothing stored, no window opened
    assert [response.status for response in forged] == [403, 403, 403]
    assert stored_event_count() == 0
    assert [item for item in main_table_items() if str(item["pk"]).startswith("RATE#")] == []


# The viewer address on every route -----------------------------------------------------------------


def test_every_route_counts_the_viewer_address_behind_cloudfront(aizen_env: ApplyEnv, owner: Owner) -> None:
    # Given: a trusting stack, one request a minute per address in the API's window
    aizen_env(IP_LIMIT_PER_MINUTE="1", TRUST_CLOUDFRONT_VIEWER_HEADERS="true", CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)

    # When: two viewers' requests arrive from the same edge
    first = invoke(*REALTIME, headers=viewer("203.0.113.50"), source_ip=EDGE_IP)
    second = invoke(*REALTIME, headers=viewer("203.0.113.51"), source_ip=EDGE_IP)
    again_stats = invoke(*REALTIME, headers=viewer("203.0.113.50", port=1234), source_ip="192.0.2.2")
    again_keys = invoke("ApiKeysListFunction", keys_path("site_1"), headers=viewer("203.0.113.50"), source_ip=EDGE_IP)

    # Then: each viewer has a window of its own (not the edge's), on the stats and key routes alike
    assert (first.status, second.status) == (401, 401)
    assert (again_stats.status, again_keys.status) == (429, 429)
    counters = {str(item["pk"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#ip#")}
    assert counters == {"RATE#ip#203.0.113.50", "RATE#ip#203.0.113.51"}


# IPv6: one window per /64 --------------------------------------------------------------------------


def test_the_addresses_of_one_ipv6_64_share_the_api_window(aizen_env: ApplyEnv, owner: Owner) -> None:
    # Given: two requests a minute per address
    aizen_env(IP_LIMIT_PER_MINUTE="2")

    # When: three addresses of one /64 (what one subscriber is given), then one of the next /64
    statuses = [
        invoke(*REALTIME, source_ip=address).status
        for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:9", "2001:db8:1:2::abcd", "2001:db8:1:3::1")
    ]

    # Then: the /64 has one window; the next /64 another
    assert statuses == [401, 401, 429, 401]
    counters = {str(item["pk"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#ip#")}
    assert counters == {"RATE#ip#2001:db8:1:2::/64", "RATE#ip#2001:db8:1:3::/64"}


def test_the_addresses_of_one_ipv6_64_share_the_event_window(
    aizen_env: ApplyEnv, owner: Owner, clock: FrozenClock
) -> None:
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="1")

    statuses = [event(address).status for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:3::1")]

    assert statuses == [202, 429, 202]
    # Visitor ids still come from the full address: two visitors of one /64 are two visitors
    assert stored_event_count() == 2


def test_the_addresses_of_one_ipv6_64_behind_cloudfront_share_one_window(aizen_env: ApplyEnv, owner: Owner) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="1", TRUST_CLOUDFRONT_VIEWER_HEADERS="true", CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)

    statuses = [
        invoke(*REALTIME, headers=viewer(address), source_ip=EDGE_IP).status
        for address in ("2001:db8:1:2::1", "2001:db8:1:2::2")
    ]

    assert statuses == [401, 429]
