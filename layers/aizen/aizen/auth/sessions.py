"""Dashboard sessions: the `aizen_session` cookie, stored only as a hash."""

from typing import NamedTuple

from aizen import clock
from aizen.auth.tokens import is_session_token, new_session_token, secret_hash
from aizen.errors import Forbidden, SessionRequired
from aizen.models import DashboardSession
from aizen.store import accounts

SESSION_COOKIE = "aizen_session"
DEFAULT_SESSION_SECONDS = 30 * 24 * 3600


class NewSession(NamedTuple):
    token: str
    user_id: str
    expires_at: int

    @property
    def cookie(self) -> str:
        return f"{SESSION_COOKIE}={self.token}"


def start_session(user_id: str, lifetime_seconds: int = DEFAULT_SESSION_SECONDS) -> NewSession:
    token = new_session_token()
    expires_at = int(clock.now()) + lifetime_seconds
    accounts.put_session(secret_hash(token), DashboardSession(user_id=user_id, expires_at=expires_at))
    return NewSession(token=token, user_id=user_id, expires_at=expires_at)


def session_token(cookies: list[str]) -> str:
    """The session token of API Gateway v2 `cookies` entries, or 401 before any lookup.

    Exactly one `aizen_session` cookie, whose value has the shape of a session token:
    a missing, empty, malformed or repeated cookie never reaches DynamoDB.
    """
    values = []
    for cookie in cookies:
        name, _, value = cookie.strip().partition("=")
        if name.strip() == SESSION_COOKIE:
            values.append(value.strip())
    if not values:
        raise SessionRequired(f"Sign in to the dashboard: the {SESSION_COOKIE} cookie is missing")
    if len(values) > 1:
        raise SessionRequired(f"Several {SESSION_COOKIE} cookies were sent; sign in again")
    if not is_session_token(values[0]):
        raise SessionRequired(f"The {SESSION_COOKIE} cookie is malformed; sign in again")
    return values[0]


def signed_in_user(cookies: list[str]) -> str:
    """The user id of a live dashboard session, or 401."""
    session = accounts.get_session(secret_hash(session_token(cookies)))
    if session is None or session.expires_at <= clock.now():
        raise SessionRequired("The dashboard session is invalid or has expired; sign in again")
    return session.user_id


def require_trusted_origin(origin: str | None, allowed: tuple[str, ...]) -> None:
    """CSRF guard for cookie-authenticated writes: the Origin must be the dashboard's."""
    if origin is None or origin.rstrip("/") not in allowed:
        raise Forbidden("Cross-site request refused: the Origin header must be the dashboard's origin")
