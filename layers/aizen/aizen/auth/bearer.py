"""Bearer-token authentication for the public stats API (docs/api.md, Authentication)."""

from typing import NamedTuple

from aizen import clock
from aizen.auth.billing import require_api_access
from aizen.auth.tokens import api_token_prefix, hash_matches
from aizen.errors import InsufficientScope, InvalidToken, Unauthorized
from aizen.models import API_KEY_SCOPE, Site
from aizen.store import accounts


class ApiPrincipal(NamedTuple):
    """Who is calling: the key and the one site it may read."""

    key_id: str
    site: Site


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header; only the header is ever read."""
    if not authorization:
        raise Unauthorized("Missing bearer token: send 'Authorization: Bearer <api key>'")
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Missing bearer token: the Authorization header must use the Bearer scheme")
    token = credentials.strip()
    if not token:
        raise InvalidToken("Malformed bearer token")
    return token


def authenticate(authorization: str | None, required_scope: str = API_KEY_SCOPE) -> ApiPrincipal:
    token = bearer_token(authorization)
    key_prefix = api_token_prefix(token)
    if key_prefix is None:
        raise InvalidToken("Malformed bearer token")  # rejected before any database read
    record = accounts.get_token_record(key_prefix)
    if record is None or not hash_matches(token, record.token_hash):
        raise InvalidToken("Unknown bearer token")
    now = clock.now()
    if record.revoked_at is not None:
        raise InvalidToken("The API key has been revoked")
    if record.expires_at is not None and record.expires_at <= now:
        raise InvalidToken("The API key has expired")
    if required_scope not in record.scope.split():
        raise InsufficientScope(f"The API key lacks the {required_scope} scope")
    site = accounts.get_site(record.site_id)
    if site is None:
        raise InvalidToken("The API key's site no longer exists")
    require_api_access(site, "API access is unavailable for this site: the site owner's plan does not include it")
    return ApiPrincipal(key_id=record.key_id, site=site)
