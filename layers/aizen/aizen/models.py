"""Domain records shared by auth, key management and the store.

Frozen dataclasses rather than pydantic models: the store builds them only from items
it wrote itself, so there is nothing to validate, and a stats function that imported
pydantic for its key and site records would pay ~45 ms of cold start for it
(docs/performance.md). Fields that may be null are optional (the store does not keep
nulls).
"""

from dataclasses import dataclass

API_KEY_SCOPE = "stats:read"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: str
    email: str
    billing_active: bool
    created_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    id: str
    domain: str
    timezone: str
    owner_user_id: str
    created_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardSession:
    user_id: str
    expires_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """The public record of a key, as the key-management endpoints show it."""

    id: str
    site_id: str
    created_by_user_id: str
    name: str
    scope: str
    key_prefix: str
    expires_at: int | None = None
    last_used_at: int | None = None
    revoked_at: int | None = None
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """What bearer auth needs, found by the token's prefix in one consistent read."""

    key_prefix: str
    token_hash: str
    key_id: str
    site_id: str
    scope: str
    expires_at: int | None = None
    revoked_at: int | None = None
