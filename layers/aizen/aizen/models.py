"""Domain records shared by auth, key management and the store.

Typed named tuples rather than pydantic models or dataclasses: the store builds them only
from items it wrote itself, so there is nothing to validate; every function imports them
at init, where a pydantic model costs ~50 ms and a dataclass ~0.5 ms (it compiles its
generated methods on import), while a named tuple's class is cheap to create
(docs/performance.md, Cold start). Fields that may be null default to None (the store
does not keep nulls).
"""

import re
from typing import NamedTuple

API_KEY_SCOPE = "stats:read"
# A site's domain: a DNS name of letter-digit-hyphen labels ending in a top-level domain of letters
# (253 characters at most, so its DOMAIN# key stays far below DynamoDB's 2,048 bytes), or localhost.
_SITE_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$")


def site_domain(text: str) -> str | None:
    """`text` as a site's domain is stored (trimmed, lower-cased, without `www.`), or None when it
    is not a domain name. Site creation and ingestion's `d` share it."""
    normalized = text.strip().lower().removeprefix("www.")
    return normalized if _SITE_DOMAIN.fullmatch(normalized) else None


class User(NamedTuple):
    id: str
    email: str
    billing_active: bool
    created_at: int


class Site(NamedTuple):
    id: str
    domain: str
    timezone: str
    owner_user_id: str
    created_at: int


class DashboardSession(NamedTuple):
    user_id: str
    expires_at: int


class ApiKey(NamedTuple):
    """The record of a key; the key-management endpoints show it as `aizen.auth.keys.ApiKeyView`."""

    id: str
    site_id: str
    created_by_user_id: str
    name: str
    scope: str
    key_prefix: str
    created_at: int
    updated_at: int
    expires_at: int | None = None
    last_used_at: int | None = None
    revoked_at: int | None = None


class TokenRecord(NamedTuple):
    """What bearer auth needs, found by the token's prefix in one consistent read."""

    key_prefix: str
    token_hash: str
    key_id: str
    site_id: str
    scope: str
    expires_at: int | None = None
    revoked_at: int | None = None
