"""Key management over HTTP with the dashboard session cookie."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from aizen.auth.keys import MAX_ACTIVE_KEYS_PER_SITE
from tests.e2e.conftest import RunningStack, Tenant, client_from, make_tenant, next_loopback_address

pytestmark = pytest.mark.e2e


def _dashboard(stack: RunningStack, tenant: Tenant, *, origin: bool = True) -> dict[str, str]:
    headers = {"Cookie": tenant.cookie}
    if origin:
        headers["Origin"] = stack.url
    return headers


def test_create_list_revoke_cycle(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    base = f"/api/sites/{tenant.site_id}/api-keys"

    # When: the owner creates a key
    created = http.post(
        base,
        headers=_dashboard(stack, tenant),
        json={"name": "Production reporting", "expiresAt": "2099-12-31T23:59:59Z"},
    )

    # Then: 201, the seed's shape, the token once
    assert created.status_code == 201
    key = created.json()["key"]
    assert key["expires_at"] == 4102444799
    assert key["preview"] == key["key_prefix"] + "_" + "*" * 32
    token = created.json()["token"]
    assert token.startswith(key["key_prefix"] + "_")
    assert http.get("/api/v1/stats/aggregate", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    # And: listed newest first, without the token
    listed = http.get(base, headers=_dashboard(stack, tenant, origin=False))
    assert listed.status_code == 200
    assert listed.json()["keys"][0]["id"] == key["id"]
    assert token not in listed.text

    # When: revoked (twice: idempotent)
    for _ in range(2):
        revoked = http.delete(f"{base}/{key['id']}", headers=_dashboard(stack, tenant))
        assert revoked.status_code == 200
        assert revoked.json() == {"ok": True}

    # Then: still listed with revoked_at, and the token no longer works
    again = {item["id"]: item for item in http.get(base, headers=_dashboard(stack, tenant)).json()["keys"]}
    assert again[key["id"]]["revoked_at"] is not None
    assert http.get("/api/v1/stats/aggregate", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_writes_need_the_dashboard_origin(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    base = f"/api/sites/{tenant.site_id}/api-keys"

    missing = http.post(base, headers={"Cookie": tenant.cookie}, json={"name": "x"})
    foreign = http.post(base, headers={"Cookie": tenant.cookie, "Origin": "https://evil.example"}, json={"name": "x"})
    delete = http.delete(f"{base}/{tenant.key_id}", headers={"Cookie": tenant.cookie, "Origin": "https://evil.example"})

    assert [missing.status_code, foreign.status_code, delete.status_code] == [403, 403, 403]


def test_no_session_is_401_and_non_owner_is_403(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    base = f"/api/sites/{tenant.site_id}/api-keys"
    stranger = make_tenant(stack)

    assert http.get(base).status_code == 401
    assert http.get(base, headers={"Cookie": "aizen_session=forged"}).status_code == 401
    assert http.get(base, headers={"Cookie": stranger.cookie}).status_code == 403
    assert http.post(base, headers=_dashboard(stack, stranger), json={"name": "x"}).status_code == 403


def test_unknown_site_and_foreign_key_are_404(stack: RunningStack, http: httpx.Client, tenant: Tenant) -> None:
    other = make_tenant(stack)

    unknown_site = http.get("/api/sites/site_nope/api-keys", headers={"Cookie": tenant.cookie})
    foreign_key = http.delete(f"/api/sites/{tenant.site_id}/api-keys/{other.key_id}", headers=_dashboard(stack, tenant))

    assert unknown_site.status_code == 404
    assert foreign_key.status_code == 404
    assert foreign_key.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "ok", "expiresAt": "2099-01-01T00:00:00"}, "expiresAt"),
        ({"name": "ok", "expiresAt": "soon"}, "expiresAt"),
        ({"name": "ok", "scope": "admin"}, "scope"),
    ],
)
def test_invalid_create_body_is_400_naming_the_field(
    stack: RunningStack, http: httpx.Client, tenant: Tenant, body: dict[str, str], field: str
) -> None:
    response = http.post(f"/api/sites/{tenant.site_id}/api-keys", headers=_dashboard(stack, tenant), json=body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in response.json()["error"]["message"]


def test_concurrent_creations_never_pass_the_limit_of_active_keys(stack: RunningStack, tenant: Tenant) -> None:
    # Given a site with one key (the tenant's), and 40 creations sent at once from two addresses
    base = f"/api/sites/{tenant.site_id}/api-keys"
    headers = _dashboard(stack, tenant)
    clients = [client_from(next_loopback_address(), stack.url) for _ in range(2)]
    jobs = [(client, number) for number in range(20) for client in clients]

    def create(job: tuple[httpx.Client, int]) -> int:
        client, number = job
        return client.post(base, headers=headers, json={"name": f"burst {number}"}).status_code

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = Counter(pool.map(create, jobs))

        # Then exactly the 24 free slots were taken; the others are 409 conflict, and 25 keys are active
        assert statuses == Counter({201: 24, 409: 16})
        listed = clients[0].get(base, headers=headers).json()["keys"]
        assert len([key for key in listed if key["revoked_at"] is None]) == MAX_ACTIVE_KEYS_PER_SITE
    finally:
        for client in clients:
            client.close()
