"""Secret formats: API tokens and dashboard session tokens, stored only as hashes.

Both carry 256 random bits, so a plain SHA-256 is a sound one-way hash (a slow
password hash only matters for low-entropy secrets).
"""

import hashlib
import hmac
import re
import secrets
from typing import NamedTuple

API_TOKEN_PREFIX = "aiz_live_"  # noqa: S105 - a public prefix, not a secret
_PREFIX_HEX = 12
_SECRET_HEX = 64  # 32 bytes = 256 bits
_API_TOKEN = re.compile(rf"^({API_TOKEN_PREFIX}[0-9a-f]{{{_PREFIX_HEX}}})_[0-9a-f]{{{_SECRET_HEX}}}$")
_PREVIEW_MASK = "*" * 32
_SESSION_BYTES = 32  # 256 bits
# secrets.token_urlsafe(32): base64url without padding, so exactly 43 characters of [A-Za-z0-9_-].
_SESSION_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class NewApiToken(NamedTuple):
    key_prefix: str
    token: str


def new_api_token() -> NewApiToken:
    key_prefix = API_TOKEN_PREFIX + secrets.token_hex(_PREFIX_HEX // 2)
    return NewApiToken(key_prefix=key_prefix, token=f"{key_prefix}_{secrets.token_hex(_SECRET_HEX // 2)}")


def api_token_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token, or None for a malformed one."""
    match = _API_TOKEN.fullmatch(token)
    return match.group(1) if match else None


def preview(key_prefix: str) -> str:
    return f"{key_prefix}_{_PREVIEW_MASK}"


def new_session_token() -> str:
    return secrets.token_urlsafe(_SESSION_BYTES)


def is_session_token(value: str) -> bool:
    """Whether a cookie value has the shape of a session token (checked before any lookup)."""
    return _SESSION_TOKEN.fullmatch(value) is not None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret against a stored hash."""
    return hmac.compare_digest(secret_hash(secret), stored_hash)
