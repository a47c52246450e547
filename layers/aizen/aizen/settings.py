"""One settings object, read once from the environment that template.yaml sets.

A typed named tuple whose fields name their readers, rather than a pydantic model: every
function reads its settings at its first request, and importing pydantic and building a
model costs ~50 ms of each cold start, which alone breaks the stats functions' cold-start
target (docs/performance.md). A reader per kind of value (integer with bounds, positive
number, text, flag, origin list) is all these settings need, and a bad value fails with
a message naming its variable.
"""

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, NamedTuple

ENV_PREFIX = "AIZEN_"
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class SettingsError(ValueError):
    """An AIZEN_* variable is missing or invalid; the message names it."""


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def read(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("must be an integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise ValueError(f"must be an integer {bounds}")
        return value

    return read


def _positive_number(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("must be a number") from None
    if not value > 0:
        raise ValueError("must be a number above 0")
    return value


def _name(raw: str) -> str:
    if len(raw) < 3:
        raise ValueError("must be at least 3 characters")
    return raw


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError("must be true or false")
    return value in _TRUE


def _origins(raw: str) -> tuple[str, ...]:
    """Comma-separated origins, without a trailing slash."""
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


def _optional_path(raw: str) -> str | None:
    return raw.strip() or None


def _optional_secret(raw: str) -> str | None:
    """Empty = none; else at least 32 characters (a guessable secret would guard nothing)."""
    secret = raw.strip()
    if secret and len(secret) < 32:
        raise ValueError("must be empty or at least 32 characters")
    return secret or None


class Settings(NamedTuple):
    """Everything the layer reads from the environment, validated once. Each field is
    `AIZEN_<FIELD>`, read by the function its annotation carries."""

    main_table: Annotated[str, _name]  # sites, users, sessions, keys, rollups, counters
    events_table: Annotated[str, _name]  # raw events, TTL'd
    salts_table: Annotated[str, _name]  # visitor-id and rate-limit salts, TTL'd, in no backup
    # Origins allowed to call cookie-authenticated POST/DELETE (comma-separated).
    dashboard_origins: Annotated[tuple[str, ...], _origins] = ()
    ip_limit_per_minute: Annotated[int, _integer(1)] = 60  # the API's window per address
    key_limit_per_hour: Annotated[int, _integer(1)] = 600
    # The stats routes' ceiling per site, all its keys together (25 keys would otherwise give 15,000).
    site_stats_limit_per_hour: Annotated[int, _integer(1)] = 3000
    # Ingestion's window per address: sized for carrier-grade NAT (docs/ingestion.md#rate-limits).
    event_ip_limit_per_minute: Annotated[int, _integer(1)] = 1000
    # Ingestion's ceiling per site, every address together: protects the table and the bill.
    site_event_limit_per_minute: Annotated[int, _integer(1)] = 3000
    raw_retention_days: Annotated[int, _integer(1)] = 90
    dynamodb_max_attempts: Annotated[int, _integer(1, 10)] = 4
    dynamodb_connect_timeout: Annotated[float, _positive_number] = 2.0
    dynamodb_read_timeout: Annotated[float, _positive_number] = 5.0
    last_used_resolution_seconds: Annotated[int, _integer(1)] = 60
    # Path of a MaxMind-format (.mmdb) City database; empty = no IP geolocation.
    geoip_database: Annotated[str | None, _optional_path] = None
    # Take the client address and geography from CloudFront-Viewer-* headers (only behind CloudFront).
    trust_cloudfront_viewer_headers: Annotated[bool, _flag] = False
    # The value CloudFront adds as the X-Aizen-Origin-Verify header; when set, requests without it are 403.
    cloudfront_origin_secret: Annotated[str | None, _optional_secret] = None
    salt_ttl_days: Annotated[int, _integer(1)] = 2  # days a visitor-id salt outlives its local date
    # The rollup queue's URL (SQS): the rollup dispatcher sends one message per site there.
    rollup_queue_url: Annotated[str | None, _optional_path] = None
    # Values a day's rollup keeps per property; the rest are one `(other)` row (docs/rollups.md).
    rollup_values_per_day: Annotated[int, _integer(1)] = 1000
    # The compaction queue's URL (SQS): the compaction dispatcher sends one message per site there.
    compaction_queue_url: Annotated[str | None, _optional_path] = None

    @classmethod
    def from_environ(cls) -> "Settings":
        """The settings named `AIZEN_<FIELD>` in the environment (case-insensitive)."""
        environ = {name.upper(): value for name, value in os.environ.items()}
        values: dict[str, Any] = {}
        for name, annotation in cls.__annotations__.items():
            variable = f"{ENV_PREFIX}{name.upper()}"
            raw = environ.get(variable)
            if raw is None:
                if name not in cls._field_defaults:
                    raise SettingsError(f"{variable} is required")
                continue
            read: Callable[[str], Any] = annotation.__metadata__[0]
            try:
                values[name] = read(raw)
            except ValueError as error:
                raise SettingsError(f"{variable}: {error}") from None
        settings = cls(**values)
        if settings.trust_cloudfront_viewer_headers and settings.cloudfront_origin_secret is None:
            # Without the secret anyone could reach the API directly and write the viewer headers.
            raise SettingsError(
                f"{ENV_PREFIX}TRUST_CLOUDFRONT_VIEWER_HEADERS needs {ENV_PREFIX}CLOUDFRONT_ORIGIN_SECRET"
            )
        return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings.from_environ()
