"""Bearer authentication of the public stats API, through the real handlers (docs/api.md, Authentication)."""

from datetime import UTC, datetime

import pytest

from aizen.access import authorize_stats_request
from aizen.auth.bearer import authenticate
from aizen.auth.tokens import secret_hash
from aizen.models import ApiKey, TokenRecord
from aizen.store import accounts
from aizen.store.dynamo import main_table
from tests.support import (
    STATS_PATHS,
    FrozenClock,
    HandlerResponse,
    Owner,
    bearer,
    invoke,
    make_key,
    make_owner,
    record_dynamodb_calls,
)

PLAIN_CHALLENGE = 'Bearer realm="aizen"'
INVALID_TOKEN = 'Bearer realm="aizen", error="invalid_token", error_description='
AGGREGATE = ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])
REALTIME = ("StatsRealtimeFunction", STATS_PATHS["StatsRealtimeFunction"])
BOTH = pytest.mark.parametrize(("function", "path"), [AGGREGATE, REALTIME], ids=["aggregate", "realtime"])
EVERY_STATS_ENDPOINT = pytest.mark.parametrize(("function", "path"), list(STATS_PATHS.items()), ids=list(STATS_PATHS))
WELL_FORMED_UNKNOWN = "aiz_live_0123456789ab_" + "f" * 64


def assert_unauthorized(response: HandlerResponse, challenge_start: str) -> None:
    assert response.status == 401
    assert response.body["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith(challenge_start)
    assert "x-ratelimit-limit" not in response.headers  # no leftovers from an earlier request


# Missing credentials -------------------------------------------------------------------------


@EVERY_STATS_ENDPOINT
def test_missing_token_is_401_with_the_plain_challenge(owner: Owner, function: str, path: str) -> None:
    response = invoke(function, path)

    assert response.status == 401
    assert response.body["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == PLAIN_CHALLENGE


@BOTH
def test_another_auth_scheme_is_treated_as_missing(api_key: tuple[ApiKey, str], function: str, path: str) -> None:
    _, token = api_key

    response = invoke(function, path, headers={"Authorization": f"Token {token}"})

    assert response.status == 401
    assert response.headers["www-authenticate"] == PLAIN_CHALLENGE


@BOTH
@pytest.mark.parametrize("parameter", ["token", "api_key", "access_token"])
def test_a_token_in_the_query_string_is_never_read(
    api_key: tuple[ApiKey, str], function: str, path: str, parameter: str
) -> None:
    # Given a valid token, sent only in the query string
    _, token = api_key

    # When the endpoint is called
    response = invoke(function, path, query={parameter: token, "period": "30d"})

    # Then it is a request without credentials
    assert response.status == 401
    assert response.headers["www-authenticate"] == PLAIN_CHALLENGE
    assert accounts.get_api_key(api_key[0].site_id, api_key[0].id).last_used_at is None  # type: ignore[union-attr]


# Invalid tokens ------------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer ", id="empty"),
        pytest.param("Bearer not-a-token", id="garbage"),
        pytest.param("Bearer aiz_live_0123456789ab_" + "f" * 63, id="short-secret"),
        pytest.param("Bearer aiz_test_0123456789ab_" + "f" * 64, id="test-marker"),
        pytest.param("Bearer aiz_live_0123456789AB_" + "f" * 64, id="upper-case"),
    ],
)
def test_malformed_token_is_401_invalid_token(owner: Owner, function: str, path: str, authorization: str) -> None:
    response = invoke(function, path, headers={"Authorization": authorization})

    assert_unauthorized(response, INVALID_TOKEN)
    assert 'error_description="Malformed bearer token"' in response.headers["www-authenticate"]


@BOTH
def test_malformed_token_is_refused_without_reading_the_database(owner: Owner, function: str, path: str) -> None:
    # Given a recorder on the store's DynamoDB client
    calls = record_dynamodb_calls()

    # When a malformed token is presented
    response = invoke(function, path, headers=bearer("aiz_live_nothex_" + "f" * 64))

    # Then only the per-IP counter was touched: no token lookup at all
    assert response.status == 401
    assert [call.operation for call in calls] == ["UpdateItem"]
    assert "RATE#ip#" in calls[0].body
    assert all("TOKEN#" not in call.body for call in calls)


def test_malformed_token_never_reaches_the_token_lookup(owner: Owner, monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    real = accounts.get_token_record

    def spy(key_prefix: str) -> TokenRecord | None:
        looked_up.append(key_prefix)
        return real(key_prefix)

    monkeypatch.setattr(accounts, "get_token_record", spy)

    malformed = invoke(*AGGREGATE, headers=bearer("aiz_live_0123456789ab_short"))
    well_formed = invoke(*AGGREGATE, headers=bearer(WELL_FORMED_UNKNOWN))

    assert (malformed.status, well_formed.status) == (401, 401)
    assert looked_up == ["aiz_live_0123456789ab"]  # only the well-formed token was looked up


@BOTH
def test_unknown_token_is_401_invalid_token(owner: Owner, function: str, path: str) -> None:
    response = invoke(function, path, headers=bearer(WELL_FORMED_UNKNOWN))

    assert_unauthorized(response, INVALID_TOKEN)
    assert "Unknown bearer token" in response.headers["www-authenticate"]


@BOTH
def test_right_prefix_wrong_secret_is_401_invalid_token(api_key: tuple[ApiKey, str], function: str, path: str) -> None:
    # Given a token whose prefix exists but whose secret differs in its last digit
    key, token = api_key
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")

    response = invoke(function, path, headers=bearer(forged))

    assert_unauthorized(response, INVALID_TOKEN)
    assert "Unknown bearer token" in response.headers["www-authenticate"]
    assert accounts.get_api_key(key.site_id, key.id).last_used_at is None  # type: ignore[union-attr]


@BOTH
def test_expired_token_is_401_invalid_token(owner: Owner, clock: FrozenClock, function: str, path: str) -> None:
    # Given a key that expires in a minute
    _, token = make_key(owner.site.id, expires_at=datetime.fromtimestamp(clock.now() + 60, UTC))
    assert invoke(function, path, headers=bearer(token)).status == 200

    # When the minute has passed
    clock.advance(60)
    response = invoke(function, path, headers=bearer(token))

    # Then the key is refused as expired
    assert_unauthorized(response, INVALID_TOKEN)
    assert "expired" in response.headers["www-authenticate"]


@BOTH
def test_revoked_token_is_401_invalid_token(api_key: tuple[ApiKey, str], function: str, path: str) -> None:
    key, token = api_key
    accounts.revoke_api_key(key, 1_775_159_001)

    response = invoke(function, path, headers=bearer(token))

    assert_unauthorized(response, INVALID_TOKEN)
    assert "revoked" in response.headers["www-authenticate"]


# Scope and billing ---------------------------------------------------------------------------


def _write_token_with_scope(owner: Owner, scope: str) -> str:
    """A token record as the store writes it, but with another scope."""
    token = "aiz_live_abcdef012345_" + "1" * 64
    record = TokenRecord(
        key_prefix="aiz_live_abcdef012345",
        token_hash=secret_hash(token),
        key_id="scoped-key",
        site_id=owner.site.id,
        scope=scope,
        expires_at=None,
        revoked_at=None,
    )
    main_table().put_item(Item={"pk": f"TOKEN#{record.key_prefix}", "sk": "TOKEN", **record._asdict()})
    return token


@BOTH
def test_wrong_scope_is_403_insufficient_scope(owner: Owner, function: str, path: str) -> None:
    token = _write_token_with_scope(owner, "sites:write")

    response = invoke(function, path, headers=bearer(token))

    assert response.status == 403
    assert response.body["error"]["code"] == "forbidden"
    assert response.headers["www-authenticate"].startswith(
        'Bearer realm="aizen", error="insufficient_scope", error_description='
    )
    assert "stats:read" in response.headers["www-authenticate"]


def test_scope_among_several_is_accepted(owner: Owner) -> None:
    token = _write_token_with_scope(owner, "sites:write stats:read")

    assert invoke(*AGGREGATE, headers=bearer(token)).status == 200


@BOTH
def test_owner_without_billing_is_403_forbidden(clock: FrozenClock, function: str, path: str) -> None:
    # Given a site whose owner's plan has no API access
    unpaid = make_owner(billing=False)
    _, token = make_key(unpaid.site.id)

    response = invoke(function, path, headers=bearer(token))

    assert response.status == 403
    assert response.body["error"]["code"] == "forbidden"
    assert "www-authenticate" not in response.headers


# A valid request -----------------------------------------------------------------------------


@EVERY_STATS_ENDPOINT
def test_valid_request_passes_auth_and_reaches_the_endpoint(
    api_key: tuple[ApiKey, str], clock: FrozenClock, function: str, path: str
) -> None:
    _, token = api_key

    query = "property=page" if function == "StatsBreakdownFunction" else ""
    response = invoke(function, path, headers=bearer(token), query=query)

    assert response.status == 200
    assert "error" not in response.body
    assert response.headers["x-ratelimit-limit"] == "600"
    assert response.headers["x-ratelimit-remaining"] == "599"
    assert response.headers["x-ratelimit-reset"] == str(clock.next_boundary(3600))


def test_rate_limit_headers_count_down_within_the_hour(api_key: tuple[ApiKey, str], clock: FrozenClock) -> None:
    _, token = api_key
    reset = clock.next_boundary(3600)

    remaining = []
    for _ in range(3):
        response = invoke(*AGGREGATE, headers=bearer(token))
        assert response.headers["x-ratelimit-reset"] == str(reset)
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
        clock.advance(1)

    assert remaining == [599, 598, 597]


def test_the_key_limit_is_shared_by_every_stats_endpoint(api_key: tuple[ApiKey, str]) -> None:
    _, token = api_key

    remaining = [
        invoke(function, path, headers=bearer(token)).headers["x-ratelimit-remaining"]
        for function, path in STATS_PATHS.items()
    ]

    assert remaining == ["599", "598", "597", "596"]


def test_reset_is_the_next_hour_boundary_even_at_the_last_second(
    api_key: tuple[ApiKey, str], clock: FrozenClock
) -> None:
    _, token = api_key
    clock.current = 1_775_160_000 - 0.5  # half a second before the hour

    response = invoke(*AGGREGATE, headers=bearer(token))

    assert response.headers["x-ratelimit-reset"] == "1775160000"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="unauthorized"),
        pytest.param(bearer(WELL_FORMED_UNKNOWN), 401, id="invalid"),
        pytest.param(None, 200, id="valid"),
    ],
)
def test_realtime_responses_are_never_cached(
    api_key: tuple[ApiKey, str], headers: dict[str, str] | None, status: int
) -> None:
    response = invoke(*REALTIME, headers=bearer(api_key[1]) if headers is None else headers)

    assert response.status == status
    assert response.headers["cache-control"] == "no-store"


def test_no_store_is_specific_to_realtime(api_key: tuple[ApiKey, str]) -> None:
    # Only realtime and 429 responses are marked no-store; the header must not leak elsewhere.
    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    assert "cache-control" not in response.headers


def test_lowercase_bearer_scheme_is_accepted(api_key: tuple[ApiKey, str]) -> None:
    assert invoke(*AGGREGATE, headers={"authorization": f"bearer {api_key[1]}"}).status == 200


# last_used_at --------------------------------------------------------------------------------


def test_last_used_at_is_set_on_use_and_updated_at_most_once_a_minute(
    api_key: tuple[ApiKey, str], clock: FrozenClock
) -> None:
    key, token = api_key

    def last_used() -> int | None:
        stored = accounts.get_api_key(key.site_id, key.id)
        assert stored is not None
        return stored.last_used_at

    # Given a key never used
    assert last_used() is None

    # When it is used, it records the time
    first_use = int(clock.now())
    invoke(*AGGREGATE, headers=bearer(token))
    assert last_used() == first_use

    # When it is used again 30 s later, the record is unchanged
    clock.advance(30)
    invoke(*AGGREGATE, headers=bearer(token))
    assert last_used() == first_use

    # When it is used 61 s after the first use, the record moves
    clock.advance(31)
    invoke(*AGGREGATE, headers=bearer(token))
    assert last_used() == first_use + 61


def test_refused_requests_do_not_touch_last_used_at(owner: Owner, clock: FrozenClock) -> None:
    # Given an unpaid owner's key
    unpaid = make_owner(user_id="user_2", site_id="site_2", domain="unpaid.example", billing=False)
    key, token = make_key(unpaid.site.id, user_id="user_2")

    assert invoke(*AGGREGATE, headers=bearer(token)).status == 403

    assert accounts.get_api_key(key.site_id, key.id).last_used_at is None  # type: ignore[union-attr]


# Site isolation ------------------------------------------------------------------------------


def test_a_key_of_site_a_only_ever_authorises_site_a(clock: FrozenClock) -> None:
    # Given one user owning two sites, with a key for site A
    site_a = make_owner(site_id="site_a", domain="a.example")
    site_b_site = site_a.site._replace(id="site_b", domain="b.example")
    accounts.put_site(site_b_site)
    _, token_a = make_key("site_a")
    _, token_b = make_key("site_b")

    # When each key authenticates
    principal_a = authenticate(f"Bearer {token_a}")
    access_a = authorize_stats_request(f"Bearer {token_a}", "192.0.2.10")
    principal_b = authenticate(f"Bearer {token_b}")

    # Then each principal is bound to its own site, whatever else the user owns
    assert principal_a.site.id == "site_a"
    assert access_a.site.id == "site_a"
    assert principal_b.site.id == "site_b"
    assert principal_a.key_id != principal_b.key_id
