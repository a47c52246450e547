"""Domain records shared by auth, key management and the store.

Every function imports these models, and each uses only some of them (a stats
function never a User or an ApiKey), so a model builds its validator on first use
(`defer_build`) rather than at import: no function's init builds what it never uses.
"""

from pydantic import BaseModel, ConfigDict

_RECORD = ConfigDict(frozen=True, defer_build=True)

API_KEY_SCOPE = "stats:read"


class User(BaseModel):
    model_config = _RECORD

    id: str
    email: str
    billing_active: bool
    created_at: int


class Site(BaseModel):
    model_config = _RECORD

    id: str
    domain: str
    timezone: str
    owner_user_id: str
    created_at: int


class DashboardSession(BaseModel):
    model_config = _RECORD

    user_id: str
    expires_at: int


class ApiKey(BaseModel):
    """The public record of a key, as the key-management endpoints show it."""

    model_config = _RECORD

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


class TokenRecord(BaseModel):
    """What bearer auth needs, found by the token's prefix in one consistent read."""

    model_config = _RECORD

    key_prefix: str
    token_hash: str
    key_id: str
    site_id: str
    scope: str
    expires_at: int | None
    revoked_at: int | None
