"""One settings object, read once from the environment that template.yaml sets.

A frozen dataclass with its own readers rather than a pydantic model: every function
reads its settings at the first request, and importing pydantic and building a model
costs ~45 ms of each cold start, which alone breaks the stats functions' cold-start
target (docs/performance.md). A reader per kind of value (integer with bounds, positive
number, text, flag, origin list) is all these settings need, and a bad value fails with
a message naming its variable.
"""

import os
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from typing import Any

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


def _setting(read: Callable[[str], Any], default: Any = MISSING) -> Any:
    """A dataclass field read from `AIZEN_<FIELD>` by `read` (a ValueError names what is wrong)."""
    return field(default=default, metadata={"read": read})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the layer reads from the environment, validated once."""

    main_table: str = _setting(_name)  # sites, users, sessions, keys, rollups, salts, counters
    events_table: str = _setting(_name)  # raw events, TTL'd
    # Origins allowed to call cookie-authenticated POST/DELETE (comma-separated).
    dashboard_origins: tuple[str, ...] = _setting(_origins, ())
    ip_limit_per_minute: int = _setting(_integer(1), 60)
    key_limit_per_hour: int = _setting(_integer(1), 600)
    raw_retention_days: int = _setting(_integer(1), 90)
    dynamodb_max_attempts: int = _setting(_integer(1, 10), 4)
    dynamodb_connect_timeout: float = _setting(_positive_number, 2.0)
    dynamodb_read_timeout: float = _setting(_positive_number, 5.0)
    last_used_resolution_seconds: int = _setting(_integer(1), 60)
    # Path of a MaxMind-format (.mmdb) City database; empty = no IP geolocation.
    geoip_database: str | None = _setting(_optional_path, None)
    # Take the client address and geography from CloudFront-Viewer-* headers (only behind CloudFront).
    trust_cloudfront_viewer_headers: bool = _setting(_flag, False)
    salt_ttl_days: int = _setting(_integer(1), 2)  # days a visitor-id salt outlives its local date

    @classmethod
    def from_environ(cls) -> "Settings":
        """The settings named `AIZEN_<FIELD>` in the environment (case-insensitive)."""
        environ = {name.upper(): value for name, value in os.environ.items()}
        values: dict[str, Any] = {}
        for setting in fields(cls):
            variable = f"{ENV_PREFIX}{setting.name.upper()}"
            raw = environ.get(variable)
            if raw is None:
                if setting.default is MISSING:
                    raise SettingsError(f"{variable} is required")
                continue
            try:
                values[setting.name] = setting.metadata["read"](raw)
            except ValueError as error:
                raise SettingsError(f"{variable}: {error}") from None
        return cls(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings.from_environ()
