"""API key management for site owners (list, create, revoke)."""

import secrets
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from aizen import clock
from aizen.auth.tokens import new_api_token, preview, secret_hash
from aizen.errors import Conflict, Forbidden, InvalidRequest, KeyLimitReached, NotFound
from aizen.models import API_KEY_SCOPE, ApiKey, Site
from aizen.store import accounts

_PREFIX_ATTEMPTS = 3
# The create body's own limit, checked before it is parsed (413). `name` is at most 100 characters
# (1,200 bytes even as JSON escapes of surrogate pairs) and `expiresAt` one date-time, so 4 KiB holds
# any honest body; without it API Gateway would hand up to 10 MB to the parser.
MAX_CREATE_BODY_BYTES = 4 * 1024
# Keys a site may have that are not revoked (expired ones count until revoked). Kept as the site's
# `active_keys` counter, moved in the same transaction as the key: see aizen.store.accounts.
MAX_ACTIVE_KEYS_PER_SITE = 25


class CreateKeyRequest(BaseModel):
    """Body of POST /api/sites/{siteId}/api-keys."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "description": f"Body of POST /api/sites/{{siteId}}/api-keys: at most {MAX_CREATE_BODY_BYTES} bytes"
        },
    )

    name: str = Field(min_length=1, max_length=100)
    expires_at: AwareDatetime | None = Field(default=None, alias="expiresAt", strict=True)

    @field_validator("name")
    @classmethod
    def _not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be blank")
        return name


class ApiKeyView(BaseModel):
    """A key as the key-management endpoints show it: the record plus its masked preview."""

    # The record is aizen.models.ApiKey, field for field (nulls included); tests/unit/test_openapi.py checks it.

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    site_id: str
    created_by_user_id: str
    name: str
    scope: str
    key_prefix: str
    expires_at: int | None
    last_used_at: int | None
    revoked_at: int | None
    created_at: int
    updated_at: int
    preview: str = Field(description="key_prefix, an underscore and 32 asterisks")


class KeyList(BaseModel):
    """Answer of GET /api/sites/{siteId}/api-keys: newest first, revoked keys included."""

    model_config = ConfigDict(extra="forbid")

    keys: list[ApiKeyView]


class CreatedKey(BaseModel):
    """Answer of POST /api/sites/{siteId}/api-keys: the token is shown here once."""

    model_config = ConfigDict(extra="forbid")

    key: ApiKeyView
    token: str = Field(pattern=r"^aiz_live_[0-9a-f]{12}_[0-9a-f]{64}$")


class Revoked(BaseModel):
    """Answer of DELETE /api/sites/{siteId}/api-keys/{keyId}."""

    model_config = ConfigDict(extra="forbid")

    ok: Literal[True]


def time_ordered_id() -> str:
    """32 hex characters: 48 bits of milliseconds, then 80 random bits (UUIDv7's layout).

    Ids sort by creation time, so "newest first" holds for keys created within
    the same second (created_at has whole seconds only).
    """
    return f"{int(clock.now() * 1000):012x}{secrets.token_hex(10)}"


def owned_site(user_id: str, site_id: str, managing: str = "API keys") -> Site:
    """The site, if it exists (404) and the user owns it (403: only the owner manages its `managing`)."""
    site = accounts.get_site(site_id)
    if site is None:
        raise NotFound(f"Site {site_id} not found")
    if site.owner_user_id != user_id:
        raise Forbidden(f"Only the site owner can manage its {managing}")
    return site


def issue_api_key(site_id: str, created_by_user_id: str, name: str, expires_at: datetime | None) -> tuple[ApiKey, str]:
    """Create a key; the token is returned here once and only its hash is stored.

    409 (KeyLimitReached) when the site already has MAX_ACTIVE_KEYS_PER_SITE keys not revoked.
    """
    now = int(clock.now())
    expires = None
    if expires_at is not None:
        expires = int(expires_at.timestamp())
        if expires <= now:
            raise InvalidRequest("expiresAt must be in the future")
    for _ in range(_PREFIX_ATTEMPTS):
        token = new_api_token()
        key = ApiKey(
            id=time_ordered_id(),
            site_id=site_id,
            created_by_user_id=created_by_user_id,
            name=name,
            scope=API_KEY_SCOPE,
            key_prefix=token.key_prefix,
            expires_at=expires,
            last_used_at=None,
            revoked_at=None,
            created_at=now,
            updated_at=now,
        )
        try:
            accounts.put_api_key(key, secret_hash(token.token), MAX_ACTIVE_KEYS_PER_SITE)
        except KeyLimitReached:
            raise  # another prefix would not help
        except Conflict:
            continue  # a 48-bit prefix collided: draw another
        return key, token.token
    raise Conflict("Could not allocate a unique key prefix; retry")


def site_keys(site_id: str) -> list[ApiKey]:
    """Every key of the site, revoked ones included, newest first."""
    return sorted(accounts.list_api_keys(site_id), key=lambda key: (key.created_at, key.id), reverse=True)


def revoke_api_key(site_id: str, key_id: str) -> None:
    """Revoke a key of this site, which frees its slot; revoking twice is fine (and frees one slot),
    another site's key is 404."""
    key = accounts.get_api_key(site_id, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found for site {site_id}")
    if key.revoked_at is None:
        accounts.revoke_api_key(key, int(clock.now()))


def key_view(key: ApiKey) -> dict[str, Any]:
    """The JSON shape of a key in the seed document, with its masked preview."""
    return ApiKeyView(**key._asdict(), preview=preview(key.key_prefix)).model_dump()
