"""Security review checks through the real handlers (docs/security.md): isolation, credentials, CORS, logs."""

import json

import pytest

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
    record_dynamodb_calls,
)

AGGREGATE = ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])
BREAKDOWN = ("StatsBreakdownFunction", STATS_PATHS["StatsBreakdownFunction"])
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
VISITOR_IP = "203.0.113.91"


def _ingest(domain: str, page: str, *, ip: str = VISITOR_IP, body: str | None = None) -> HandlerResponse:
    payload = body if body is not None else json.dumps({"n": "pageview", "u": f"https://{domain}{page}", "d": domain})
    return invoke(
        "IngestEventFunction",
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": USER_AGENT},
        body=payload,
        source_ip=ip,
    )


def _two_sites() -> tuple[Owner, Owner, str, str]:
    """Site A (example.com) and site B (other.example) of two owners, a key for each, and traffic on B only."""
    owner_a = make_owner()
    owner_b = make_owner(user_id="user_2", site_id="site_2", domain="other.example")
    _, token_a = make_key(owner_a.site.id)
    _, token_b = make_key(owner_b.site.id, user_id="user_2")
    for page in ("/secret-b", "/pricing-b"):
        assert _ingest("other.example", page).status == 202
    return owner_a, owner_b, token_a, token_b


# API1 (object level): a key reads its own site only ---------------------------------------------


def test_a_key_of_site_a_never_reads_site_b_data(clock: FrozenClock) -> None:
    # Given traffic on site B only, and a key for each site
    _, _, token_a, token_b = _two_sites()
    query = {"period": "7d", "metrics": "pageviews,visitors"}

    # When each key asks for the same numbers
    seen_by_a = invoke(*AGGREGATE, headers=bearer(token_a), query=query)
    seen_by_b = invoke(*AGGREGATE, headers=bearer(token_b), query=query)
    pages_a = invoke(*BREAKDOWN, headers=bearer(token_a), query={"period": "7d", "property": "page"})

    # Then site A's key sees none of site B's traffic, which is there for site B's key
    assert (seen_by_a.status, seen_by_b.status, pages_a.status) == (200, 200, 200)
    assert seen_by_a.body["metrics"] == {"pageviews": 0, "visitors": 0}
    assert seen_by_b.body["metrics"] == {"pageviews": 2, "visitors": 1}
    assert "secret-b" not in json.dumps(pages_a.body)


@pytest.mark.parametrize("parameter", ["site_id", "siteId", "site"])
def test_a_site_parameter_cannot_point_a_key_at_another_site(clock: FrozenClock, parameter: str) -> None:
    # Given a key of site A and traffic on site B
    _, owner_b, token_a, _ = _two_sites()

    # When the request names site B
    response = invoke(*AGGREGATE, headers=bearer(token_a), query={"period": "7d", parameter: owner_b.site.id})

    # Then it is refused as an unknown parameter: the site comes from the key alone
    assert response.status == 400
    assert response.body["error"]["code"] == "invalid_request"
    assert parameter in response.body["error"]["message"]


# API2/API5 (authentication, function level): each credential opens only its own routes --------


@pytest.mark.parametrize("operation", ["list", "create", "revoke"])
def test_an_api_key_does_not_open_key_management(owner: Owner, operation: str) -> None:
    # Given a valid stats key of the owner's site, and no session cookie
    key, token = make_key(owner.site.id)
    headers = {**bearer(token), "Origin": "https://dashboard.test"}

    # When it is presented to key management
    if operation == "list":
        response = invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=headers)
    elif operation == "create":
        response = invoke("ApiKeysCreateFunction", keys_path(owner.site.id), headers=headers, body='{"name": "x"}')
    else:
        response = invoke("ApiKeysRevokeFunction", keys_path(owner.site.id, key.id), headers=headers)

    # Then it is a request without a session, and nothing changed
    assert response.status == 401
    listed = invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=dashboard_headers(owner.session))
    assert [(item["id"], item["revoked_at"]) for item in listed.body["keys"]] == [(key.id, None)]


@pytest.mark.parametrize(("function", "method"), [("GoalsListFunction", "GET"), ("GoalsCreateFunction", "POST")])
def test_an_api_key_does_not_open_goal_management(owner: Owner, function: str, method: str) -> None:
    _, token = make_key(owner.site.id)
    headers = {**bearer(token), "Origin": "https://dashboard.test"}

    response = invoke(function, f"/api/sites/{owner.site.id}/goals", method=method, headers=headers,
                      body='{"event": "Signup"}')  # fmt: skip

    assert response.status == 401
    assert [item for item in main_table_items() if str(item["pk"]).startswith("GOALS#")] == []


def test_a_session_cookie_does_not_open_the_stats_api(owner: Owner) -> None:
    # Given the site owner's dashboard session and a recorder on the store
    calls = record_dynamodb_calls()

    # When the session cookie alone is presented to the stats API
    response = invoke(*AGGREGATE, headers=dashboard_headers(owner.session))

    # Then it is a request without a bearer token, refused after the IP counter alone
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="aizen"'
    assert [call.operation for call in calls] == ["UpdateItem"]


# API8 (misconfiguration): CORS is open on ingestion only, and never with credentials -------------


def test_stats_and_key_management_answer_no_cors_headers(owner: Owner) -> None:
    _, token = make_key(owner.site.id)
    origin = {"Origin": "https://evil.example"}

    responses = [
        invoke(*AGGREGATE, headers={**bearer(token), **origin}),
        invoke("ApiKeysListFunction", keys_path(owner.site.id), headers={**dashboard_headers(owner.session), **origin}),
    ]

    assert [response.status for response in responses] == [200, 200]
    for response in responses:
        assert not [name for name in response.headers if name.startswith("access-control-")]


def test_ingestion_cors_is_open_without_credentials(clock: FrozenClock) -> None:
    make_owner()

    response = invoke(
        "IngestEventFunction",
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "Origin": "https://example.com", "User-Agent": USER_AGENT},
        body=json.dumps({"n": "pageview", "u": "https://example.com/", "d": "example.com"}),
    )

    assert response.status == 202
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


# Logs: ingestion never logs the visitor's address, user agent or body ---------------------------


def test_logs_of_ingestion_hold_no_client_ip_no_user_agent_and_no_body(
    clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a known site
    make_owner()
    marker = "/private-path-7f3a"

    # When events arrive: stored, malformed, for an unknown site, too large
    statuses = [
        _ingest("example.com", marker).status,
        _ingest("example.com", marker, body='{"n": "pageview", "d": "example.com", "p": "' + marker + '"}').status,
        _ingest("unknown.example", marker).status,
        _ingest("example.com", marker + "a" * 132_000).status,
    ]

    # Then the refusals were logged, without the visitor's address, browser or payload
    assert statuses == [202, 400, 404, 413]
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert logs.count('"request refused"') == 3
    assert VISITOR_IP not in logs
    assert USER_AGENT not in logs
    assert "Chrome/126" not in logs
    assert marker not in logs
