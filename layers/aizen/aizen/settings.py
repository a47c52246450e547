"""One settings model, read from the environment that template.yaml sets.

A plain pydantic model over `os.environ` rather than pydantic-settings: every
function imports this module at init, and pydantic-settings (with python-dotenv
and its source providers) added ~12 ms to each cold start for features we do not
use (dotenv files, secrets directories, nested JSON decoding).
"""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "AIZEN_"


class Settings(BaseModel):
    """Everything the layer reads from the environment, validated once."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    main_table: str = Field(min_length=3, description="Sites, users, sessions, keys, rollups, salts, counters")
    events_table: str = Field(min_length=3, description="Raw events, TTL'd")
    dashboard_origins: tuple[str, ...] = Field(
        default=(), description="Origins allowed to call cookie-authenticated POST/DELETE (comma-separated)"
    )
    ip_limit_per_minute: int = Field(default=60, ge=1)
    key_limit_per_hour: int = Field(default=600, ge=1)
    raw_retention_days: int = Field(default=90, ge=1)
    dynamodb_max_attempts: int = Field(default=4, ge=1, le=10)
    dynamodb_connect_timeout: float = Field(default=2.0, gt=0)
    dynamodb_read_timeout: float = Field(default=5.0, gt=0)
    last_used_resolution_seconds: int = Field(default=60, ge=1)
    geoip_database: str | None = Field(
        default=None, description="Path of a MaxMind-format (.mmdb) City database; empty = no IP geolocation"
    )
    trust_cloudfront_viewer_headers: bool = Field(
        default=False,
        description="Take the client address and geography from CloudFront-Viewer-* headers (only behind CloudFront)",
    )
    salt_ttl_days: int = Field(default=2, ge=1, description="Days a visitor-id salt outlives its local date")

    @field_validator("geoip_database", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("dashboard_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return value

    @classmethod
    def from_environ(cls) -> "Settings":
        """The settings named `AIZEN_<FIELD>` in the environment (case-insensitive)."""
        values = {
            name[len(ENV_PREFIX) :].lower(): value
            for name, value in os.environ.items()
            if name.upper().startswith(ENV_PREFIX)
        }
        return cls.model_validate({field: values[field] for field in cls.model_fields if field in values})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings.from_environ()
