"""Typed domain errors. `aizen.http` is the one place that turns them into HTTP."""

from dataclasses import dataclass, field


@dataclass(eq=False)
class AizenError(Exception):
    """Base of every error a client may see; `code` and `status` follow docs/api.md (Errors)."""

    message: str
    headers: dict[str, str] = field(default_factory=dict)

    code = "internal_error"
    status = 500

    def __post_init__(self) -> None:
        """Subclasses add their headers here."""

    def __str__(self) -> str:
        return self.message


class InvalidRequest(AizenError):
    code = "invalid_request"
    status = 400


class Unauthorized(AizenError):
    """No credentials at all: the challenge carries no error attribute (RFC 6750 §3)."""

    code = "unauthorized"
    status = 401

    def __post_init__(self) -> None:
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="aizen"')


class InvalidToken(Unauthorized):
    """Malformed, unknown, expired or revoked bearer token."""

    def __post_init__(self) -> None:
        description = self.message.replace('"', "'")
        self.headers["WWW-Authenticate"] = (
            f'Bearer realm="aizen", error="invalid_token", error_description="{description}"'
        )


class SessionRequired(AizenError):
    """Cookie-authenticated routes: no valid dashboard session (no bearer challenge)."""

    code = "unauthorized"
    status = 401


class Forbidden(AizenError):
    code = "forbidden"
    status = 403


class InsufficientScope(Forbidden):
    def __post_init__(self) -> None:
        description = self.message.replace('"', "'")
        self.headers["WWW-Authenticate"] = (
            f'Bearer realm="aizen", error="insufficient_scope", error_description="{description}"'
        )


class NotFound(AizenError):
    code = "not_found"
    status = 404


class MethodNotAllowed(AizenError):
    code = "method_not_allowed"
    status = 405


class UnsupportedQuery(AizenError):
    code = "unsupported_query"
    status = 422


class RateLimited(AizenError):
    code = "rate_limited"
    status = 429


class ServiceUnavailable(AizenError):
    """DynamoDB kept throttling or timing out after the SDK's retries."""

    code = "service_unavailable"
    status = 503

    def __post_init__(self) -> None:
        self.headers.setdefault("Retry-After", "1")


class Conflict(AizenError):
    """A conditional write lost to another writer (e.g. a duplicate email or domain)."""

    code = "conflict"
    status = 409


class RollupDayChanged(Conflict):
    """A day's rollup item changed between reading it and writing its new version."""


class KeyLimitReached(Conflict):
    """A site already has as many active API keys as it may (409: revoking one resolves it)."""


class GoalLimitReached(Conflict):
    """A site already has as many goals as it may (409: deleting one resolves it)."""


class PayloadTooLarge(AizenError):
    """A request body over the endpoint's limit (event ingestion: 128 KiB; key creation: 4 KiB)."""

    code = "payload_too_large"
    status = 413
