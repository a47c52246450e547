"""Key management through its three handlers: create, list, revoke (docs/api.md, API key management)."""

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from aizen.auth.keys import MAX_CREATE_BODY_BYTES
from aizen.auth.tokens import secret_hash
from aizen.models import DashboardSession
from aizen.store import accounts
from tests.support import (
    DASHBOARD_ORIGIN,
    SEED_NOW,
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

CREATE, LIST, REVOKE = "ApiKeysCreateFunction", "ApiKeysListFunction", "ApiKeysRevokeFunction"
WELL_FORMED_UNKNOWN_SESSION = "Qm9v" + "a1_-" * 9 + "Z9w"  # the shape of a session token, never issued
SEED_REQUEST = {"name": "Production reporting", "expiresAt": "2026-12-31T23:59:59Z"}
KEY_FIELDS = {
    "id",
    "site_id",
    "created_by_user_id",
    "name",
    "scope",
    "key_prefix",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "created_at",
    "updated_at",
    "preview",
}


def create(owner: Owner, body: Any = None, *, raw: str | None = None, **kwargs: Any) -> HandlerResponse:
    payload = raw if raw is not None else json.dumps(SEED_REQUEST if body is None else body)
    headers = kwargs.pop("headers", dashboard_headers(owner.session))
    site_id = kwargs.pop("site_id", owner.site.id)
    return invoke(CREATE, keys_path(site_id), headers=headers, body=payload, **kwargs)


def list_keys(owner: Owner, **kwargs: Any) -> HandlerResponse:
    headers = kwargs.pop("headers", dashboard_headers(owner.session, origin=None))
    return invoke(LIST, keys_path(kwargs.pop("site_id", owner.site.id)), headers=headers, **kwargs)


def revoke(owner: Owner, key_id: str, **kwargs: Any) -> HandlerResponse:
    headers = kwargs.pop("headers", dashboard_headers(owner.session))
    return invoke(REVOKE, keys_path(kwargs.pop("site_id", owner.site.id), key_id), headers=headers, **kwargs)


def keys_and_tokens() -> list[dict[str, Any]]:
    """Every stored key and token record."""
    return [item for item in main_table_items() if str(item["sk"]).startswith(("KEY#", "TOKEN"))]


def assert_invalid(response: HandlerResponse, field: str) -> None:
    assert response.status == 400, response.body
    assert response.body["error"]["code"] == "invalid_request"
    assert field in response.body["error"]["message"]


# Create ----------------------------------------------------------------------------------------


def test_create_returns_201_with_the_seed_shape(owner: Owner) -> None:
    response = create(owner)

    assert response.status == 201
    assert set(response.body) == {"key", "token"}
    key, token = response.body["key"], response.body["token"]
    assert set(key) == KEY_FIELDS
    assert len(key["id"]) == 32
    assert key["site_id"] == owner.site.id
    assert key["created_by_user_id"] == owner.user.id
    assert key["name"] == "Production reporting"
    assert key["scope"] == "stats:read"
    assert key["expires_at"] == 1798761599  # 2026-12-31T23:59:59Z, as in the seed
    assert key["last_used_at"] is None
    assert key["revoked_at"] is None
    assert key["created_at"] == key["updated_at"] == SEED_NOW
    assert token.startswith(key["key_prefix"] + "_")
    assert key["preview"] == key["key_prefix"] + "_" + "*" * 32
    assert len(token) == len("aiz_live_") + 12 + 1 + 64


def test_created_token_authenticates_against_the_stats_api(owner: Owner) -> None:
    token = create(owner).body["token"]

    response = invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"], headers=bearer(token))

    assert response.status == 200


def test_created_key_without_expiry(owner: Owner) -> None:
    response = create(owner, {"name": "forever"})

    assert response.status == 201
    assert response.body["key"]["expires_at"] is None


def test_expires_at_with_an_offset_is_converted_to_epoch_seconds(owner: Owner) -> None:
    response = create(owner, {"name": "k", "expiresAt": "2027-01-01T01:59:59+02:00"})

    assert response.body["key"]["expires_at"] == 1798761599


def test_token_is_shown_once_and_only_its_sha256_is_stored(owner: Owner) -> None:
    # Given a freshly created key
    response = create(owner)
    token = response.body["token"]
    secret = token.rsplit("_", 1)[1]

    # Then no stored item carries the token or its secret
    stored = json.dumps(main_table_items(), default=str)
    assert token not in stored
    assert secret not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored

    # And the token is never shown again
    listed = list_keys(owner)
    assert token not in json.dumps(listed.body)
    assert secret not in json.dumps(listed.body)


def test_the_token_record_is_found_by_prefix_and_holds_the_hash(owner: Owner) -> None:
    response = create(owner)

    record = accounts.get_token_record(response.body["key"]["key_prefix"])

    assert record is not None
    assert record.token_hash == secret_hash(response.body["token"])
    assert record.key_id == response.body["key"]["id"]
    assert record.site_id == owner.site.id


@pytest.mark.parametrize(
    "name",
    [pytest.param("", id="empty"), pytest.param("   ", id="blank"), pytest.param("x" * 101, id="101-chars")],
)
def test_name_must_be_1_to_100_characters(owner: Owner, name: str) -> None:
    assert_invalid(create(owner, {"name": name}), "name")


@pytest.mark.parametrize("name", ["x", "x" * 100, "Ünïcødé reporting ✓"])
def test_names_at_the_bounds_are_accepted(owner: Owner, name: str) -> None:
    response = create(owner, {"name": name})

    assert response.status == 201
    assert response.body["key"]["name"] == name


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"name": None}, id="null"),
        pytest.param({"name": 42}, id="number"),
    ],
)
def test_name_is_required_text(owner: Owner, body: dict[str, Any]) -> None:
    assert_invalid(create(owner, body), "name")


@pytest.mark.parametrize(
    "expires_at",
    [
        pytest.param("2020-01-01T00:00:00Z", id="past"),
        pytest.param(datetime.fromtimestamp(SEED_NOW, UTC).isoformat(), id="now"),
        pytest.param("2026-12-31T23:59:59", id="no-timezone"),
        pytest.param("2026-12-31", id="date-only"),
        pytest.param("next tuesday", id="not-a-date"),
        pytest.param("", id="empty"),
        pytest.param(1798761599, id="number"),
        pytest.param(True, id="boolean"),
    ],
)
def test_expires_at_must_be_a_future_iso_datetime_with_timezone(owner: Owner, expires_at: object) -> None:
    assert_invalid(create(owner, {"name": "k", "expiresAt": expires_at}), "expiresAt")


def test_unknown_body_field_is_400_naming_it(owner: Owner) -> None:
    response = create(owner, {"name": "k", "expires_at": "2026-12-31T23:59:59Z"})

    assert_invalid(response, "expires_at")
    assert "expiresAt" in response.body["error"]["message"]  # the allowed fields are listed


@pytest.mark.parametrize("raw", ["{", "not json", "[]", '"name"', "null", ""])
def test_body_must_be_a_json_object(owner: Owner, raw: str) -> None:
    response = create(owner, raw=raw)

    assert response.status == 400
    assert response.body["error"]["code"] == "invalid_request"


def test_a_create_body_over_4_kib_is_413_before_it_is_parsed(owner: Owner) -> None:
    # Given two bodies of 4 KiB + 1 byte: a valid key padded with spaces, and bytes that are not JSON
    padded = json.dumps({"name": "k"}).ljust(MAX_CREATE_BODY_BYTES + 1)
    garbage = "{" * (MAX_CREATE_BODY_BYTES + 1)
    before = keys_and_tokens()

    # When the owner posts them
    responses = [create(owner, raw=padded), create(owner, raw=garbage)]

    # Then both are 413 payload_too_large (size first, content never looked at) and nothing is stored
    for response in responses:
        assert response.status == 413, response.body
        assert response.body["error"] == {
            "code": "payload_too_large",
            "message": f"body: {MAX_CREATE_BODY_BYTES + 1} bytes is over the {MAX_CREATE_BODY_BYTES}-byte limit",
        }
    assert keys_and_tokens() == before


def test_a_create_body_of_exactly_4_kib_is_accepted(owner: Owner) -> None:
    body = json.dumps({"name": "k"}).ljust(MAX_CREATE_BODY_BYTES)

    assert create(owner, raw=body).status == 201


def test_the_body_limit_comes_after_the_session_and_origin(owner: Owner) -> None:
    oversized = "x" * (MAX_CREATE_BODY_BYTES + 1)

    anonymous = create(owner, raw=oversized, headers={"Origin": DASHBOARD_ORIGIN})
    cross_site = create(owner, raw=oversized, headers=dashboard_headers(owner.session, origin=None))

    assert (anonymous.status, cross_site.status) == (401, 403)


def test_refused_create_stores_nothing(owner: Owner) -> None:
    before = main_table_items()

    create(owner, {"name": ""})
    create(owner, headers=dashboard_headers(owner.session, origin=None))

    # Nothing but the address's per-IP rate counter, which every request moves
    stored = [item for item in main_table_items() if not str(item["pk"]).startswith("RATE#ip#")]
    assert len(stored) == len(before)


# List ------------------------------------------------------------------------------------------


def test_list_is_empty_for_a_site_without_keys(owner: Owner) -> None:
    response = list_keys(owner)

    assert response.status == 200
    assert response.body == {"keys": []}


def test_list_is_newest_first_and_includes_revoked_keys(owner: Owner, clock: FrozenClock) -> None:
    # Given three keys created a minute apart, the middle one revoked
    created = []
    for name in ("oldest", "middle", "newest"):
        created.append(create(owner, {"name": name}).body["key"])
        clock.advance(60)
    assert revoke(owner, created[1]["id"]).status == 200

    # When the owner lists them
    response = list_keys(owner)

    # Then all three come back, newest first, with masked previews and the revocation time
    assert response.status == 200
    keys = response.body["keys"]
    assert [key["name"] for key in keys] == ["newest", "middle", "oldest"]
    assert all(set(key) == KEY_FIELDS for key in keys)
    assert [key["revoked_at"] for key in keys] == [None, int(clock.now()), None]
    assert all(key["preview"].endswith("_" + "*" * 32) for key in keys)
    assert "token" not in json.dumps(keys)


def test_list_shows_last_used_at(owner: Owner, clock: FrozenClock) -> None:
    token = create(owner, {"name": "used"}).body["token"]
    invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"], headers=bearer(token))

    assert list_keys(owner).body["keys"][0]["last_used_at"] == int(clock.now())


def test_list_shows_only_the_sites_own_keys(clock: FrozenClock) -> None:
    owner = make_owner()
    other = make_owner(user_id="user_2", site_id="site_2", domain="other.example")
    make_key(other.site.id, user_id="user_2", name="not yours")
    create(owner, {"name": "yours"})

    assert [key["name"] for key in list_keys(owner).body["keys"]] == ["yours"]


# Revoke ----------------------------------------------------------------------------------------


def test_revoke_returns_ok_and_the_key_stops_working(owner: Owner, clock: FrozenClock) -> None:
    # Given a working key
    created = create(owner).body
    stats = ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])
    assert invoke(*stats, headers=bearer(created["token"])).status == 200

    # When the owner revokes it
    clock.advance(5)
    response = revoke(owner, created["key"]["id"])

    # Then the answer is ok and the key is refused as revoked
    assert response.status == 200
    assert response.body == {"ok": True}
    refused = invoke(*stats, headers=bearer(created["token"]))
    assert refused.status == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "revoked" in refused.headers["www-authenticate"]
    stored = accounts.get_api_key(owner.site.id, created["key"]["id"])
    assert stored is not None
    assert stored.revoked_at == stored.updated_at == SEED_NOW + 5


def test_an_owner_without_api_access_still_lists_and_revokes_keys(clock: FrozenClock) -> None:
    # Given: an owner whose plan has no API access (any more), with a key made before
    unpaid = make_owner(billing=False)
    key, _ = make_key(unpaid.site.id)

    # When
    listed = list_keys(unpaid)
    revoked = revoke(unpaid, key.id)

    # Then: key management needs no plan, so a key can always be revoked (docs/api.md, Goals)
    assert listed.status == 200
    assert [listed_key["id"] for listed_key in listed.body["keys"]] == [key.id]
    assert revoked.body == {"ok": True}
    stored = accounts.get_api_key(unpaid.site.id, key.id)
    assert stored is not None
    assert stored.revoked_at == SEED_NOW


def test_revoke_is_idempotent_and_keeps_the_first_revocation_time(owner: Owner, clock: FrozenClock) -> None:
    key = create(owner).body["key"]
    assert revoke(owner, key["id"]).body == {"ok": True}
    first = accounts.get_api_key(owner.site.id, key["id"])

    clock.advance(120)
    second_response = revoke(owner, key["id"])

    assert second_response.status == 200
    assert second_response.body == {"ok": True}
    assert accounts.get_api_key(owner.site.id, key["id"]) == first
    assert first is not None
    assert first.revoked_at == SEED_NOW


def test_revoke_unknown_key_is_404(owner: Owner) -> None:
    response = revoke(owner, "0" * 32)

    assert response.status == 404
    assert response.body["error"]["code"] == "not_found"


def test_revoke_a_key_of_another_site_is_404_even_for_its_owner(clock: FrozenClock) -> None:
    # Given a user owning two sites, with a key on site A
    owner = make_owner(site_id="site_a", domain="a.example")
    accounts.put_site(owner.site._replace(id="site_b", domain="b.example"))
    key = create(owner).body["key"]

    # When the key is revoked through site B's URL
    response = revoke(owner, key["id"], site_id="site_b")

    # Then it is not found there, and stays live
    assert response.status == 404
    stored = accounts.get_api_key("site_a", key["id"])
    assert stored is not None
    assert stored.revoked_at is None


# Sites and sessions ---------------------------------------------------------------------------


def _call(operation: str, owner: Owner, headers: dict[str, str], site_id: str | None = None) -> HandlerResponse:
    """One of the three operations on `site_id` (default: the owner's site) with these headers."""
    site = site_id or owner.site.id
    if operation == "create":
        return create(owner, headers=headers, site_id=site)
    if operation == "list":
        return list_keys(owner, headers=headers, site_id=site)
    return revoke(owner, "0" * 32, headers=headers, site_id=site)


@pytest.mark.parametrize("operation", ["create", "list", "revoke"])
def test_unknown_site_is_404(owner: Owner, operation: str) -> None:
    response = _call(operation, owner, dashboard_headers(owner.session), site_id="no_such_site")

    assert response.status == 404
    assert response.body["error"]["code"] == "not_found"


@pytest.mark.parametrize("operation", ["create", "list", "revoke"])
@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(None, id="no-cookie"),
        pytest.param("aizen_session=", id="empty-cookie"),
        pytest.param("aizen_session=" + WELL_FORMED_UNKNOWN_SESSION, id="unknown-session"),
        pytest.param("other_cookie=1", id="other-cookie"),
    ],
)
def test_no_valid_session_is_401(owner: Owner, operation: str, cookie: str | None) -> None:
    headers = {"Origin": DASHBOARD_ORIGIN}
    if cookie is not None:
        headers["Cookie"] = cookie

    response = _call(operation, owner, headers)

    assert response.status == 401
    assert response.body["error"]["code"] == "unauthorized"
    assert "www-authenticate" not in response.headers  # cookies, not bearer tokens


MALFORMED_COOKIES = [
    pytest.param("aizen_session=", id="empty"),
    pytest.param("aizen_session=" + "A" * 42, id="too-short"),
    pytest.param("aizen_session=" + "A" * 44, id="one-too-long"),
    pytest.param("aizen_session=" + "A" * 8000, id="overlong"),
    pytest.param("aizen_session=" + "A" * 42 + "$", id="wrong-charset"),
    pytest.param("aizen_session=" + "A" * 41 + "+/", id="base64-not-urlsafe"),
    pytest.param("aizen_session=" + "A" * 41 + "é", id="non-ascii"),
    pytest.param('aizen_session="' + "A" * 43 + '"', id="quoted"),
    pytest.param("aizen_session=aiz_live_0123456789ab_" + "f" * 64, id="an-api-token-not-a-session"),
]


@pytest.mark.parametrize("operation", ["create", "list", "revoke"])
@pytest.mark.parametrize("cookie", MALFORMED_COOKIES)
def test_malformed_session_cookie_is_401_without_reading_the_database(
    owner: Owner, operation: str, cookie: str
) -> None:
    # Given a recorder on the store's DynamoDB client
    calls = record_dynamodb_calls()

    # When the operation is called with a malformed session cookie
    response = _call(operation, owner, {"Cookie": cookie, "Origin": DASHBOARD_ORIGIN})

    # Then 401, and only the per-IP counter was touched: no session lookup at all
    assert response.status == 401
    assert response.body["error"]["code"] == "unauthorized"
    assert "malformed" in response.body["error"]["message"]
    assert [call.operation for call in calls] == ["UpdateItem"]
    assert "RATE#ip#" in calls[0].body
    assert all("SESSION#" not in call.body for call in calls)


@pytest.mark.parametrize("operation", ["create", "list", "revoke"])
@pytest.mark.parametrize(
    "cookies",
    [
        pytest.param(lambda live: f"aizen_session={live}; aizen_session={live}", id="the-live-one-twice"),
        pytest.param(lambda live: f"aizen_session={live}; aizen_session=" + "B" * 43, id="live-and-another"),
        pytest.param(lambda live: f"aizen_session=; theme=dark; aizen_session={live}", id="empty-and-live"),
    ],
)
def test_several_session_cookies_are_401_without_reading_the_database(
    owner: Owner, operation: str, cookies: Callable[[str], str]
) -> None:
    # Given a recorder, and a Cookie header with several aizen_session cookies (one of them live)
    calls = record_dynamodb_calls()
    header = cookies(owner.session.token)

    # When the operation is called with it
    response = _call(operation, owner, {"Cookie": header, "Origin": DASHBOARD_ORIGIN})

    # Then 401 (which one would be meant is ambiguous), and no session lookup at all
    assert response.status == 401
    assert "Several aizen_session cookies" in response.body["error"]["message"]
    assert [call.operation for call in calls] == ["UpdateItem"]
    assert "RATE#ip#" in calls[0].body


def test_malformed_session_cookie_never_reaches_the_session_lookup(
    owner: Owner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spy on the session lookup
    looked_up: list[str] = []
    real = accounts.get_session

    def spy(token_hash: str) -> DashboardSession | None:
        looked_up.append(token_hash)
        return real(token_hash)

    monkeypatch.setattr(accounts, "get_session", spy)

    # When a malformed cookie, then a well-formed unknown one, then the live one are presented
    malformed = list_keys(owner, headers={"Cookie": "aizen_session=" + "A" * 44})
    unknown = list_keys(owner, headers={"Cookie": "aizen_session=" + WELL_FORMED_UNKNOWN_SESSION})
    live = list_keys(owner)

    # Then only the well-formed ones were looked up (by their hash)
    assert (malformed.status, unknown.status, live.status) == (401, 401, 200)
    assert looked_up == [secret_hash(WELL_FORMED_UNKNOWN_SESSION), secret_hash(owner.session.token)]


@pytest.mark.parametrize("operation", ["create", "list", "revoke"])
def test_expired_session_is_401(owner: Owner, clock: FrozenClock, operation: str) -> None:
    clock.current = owner.session.expires_at

    response = _call(operation, owner, dashboard_headers(owner.session))

    assert response.status == 401


def test_session_is_valid_until_it_expires(owner: Owner, clock: FrozenClock) -> None:
    clock.current = owner.session.expires_at - 1

    assert list_keys(owner).status == 200


def test_session_cookie_among_other_cookies(owner: Owner) -> None:
    headers = {"Cookie": f"theme=dark; {owner.session.cookie}; lang=en"}

    assert list_keys(owner, headers=headers).status == 200


@pytest.mark.parametrize("operation", ["create", "list", "revoke"])
def test_signed_in_but_not_the_owner_is_403(owner: Owner, operation: str) -> None:
    # Given another signed-in user, owner of another site
    intruder = make_owner(user_id="user_2", site_id="site_2", domain="other.example")
    key = create(owner).body["key"]
    headers = dashboard_headers(intruder.session)

    # When they call owner's site
    if operation == "create":
        response = create(owner, headers=headers)
    elif operation == "list":
        response = list_keys(owner, headers=dashboard_headers(intruder.session, origin=None))
    else:
        response = revoke(owner, key["id"], headers=headers)

    # Then they are refused, and nothing changed
    assert response.status == 403
    assert response.body["error"]["code"] == "forbidden"
    assert [item["id"] for item in list_keys(owner).body["keys"]] == [key["id"]]
    assert list_keys(owner).body["keys"][0]["revoked_at"] is None


# CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["create", "revoke"])
@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(None, id="no-origin"),
        pytest.param("https://evil.example", id="foreign"),
        pytest.param("https://dashboard.test.evil.example", id="lookalike"),
        pytest.param("http://dashboard.test", id="other-scheme"),
        pytest.param("null", id="opaque"),
    ],
)
def test_writes_need_the_dashboard_origin(owner: Owner, operation: str, origin: str | None) -> None:
    key = make_key(owner.site.id)[0]
    headers = dashboard_headers(owner.session, origin=origin)

    response = create(owner, headers=headers) if operation == "create" else revoke(owner, key.id, headers=headers)

    assert response.status == 403
    assert response.body["error"]["code"] == "forbidden"
    assert len(list_keys(owner).body["keys"]) == 1
    assert list_keys(owner).body["keys"][0]["revoked_at"] is None


@pytest.mark.parametrize("origin", [DASHBOARD_ORIGIN, DASHBOARD_ORIGIN + "/"])
def test_writes_from_the_dashboard_origin_are_accepted(owner: Owner, origin: str) -> None:
    created = create(owner, headers=dashboard_headers(owner.session, origin=origin))
    revoked = revoke(owner, created.body["key"]["id"], headers=dashboard_headers(owner.session, origin=origin))

    assert (created.status, revoked.status) == (201, 200)


def test_reading_needs_no_origin(owner: Owner) -> None:
    response = list_keys(owner, headers={"Cookie": owner.session.cookie})

    assert response.status == 200


def test_no_dashboard_origin_configured_refuses_every_write(aizen_env: Any, owner: Owner) -> None:
    aizen_env(DASHBOARD_ORIGINS="")

    assert create(owner).status == 403
