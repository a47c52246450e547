"""GET /api/v1/stats/realtime's parameters."""

from dataclasses import dataclass
from typing import ClassVar

from aizen.query.params import (
    DEFAULT_MINUTES,
    INT64_SCHEMA,
    MAX_MINUTES,
    MIN_MINUTES,
    Parameter,
    QueryParams,
    integer,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RealtimeParams(QueryParams):
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter(
            "minutes",
            integer,
            INT64_SCHEMA,
            f"Window in minutes; clamped to {MIN_MINUTES}..{MAX_MINUTES}",
            default=DEFAULT_MINUTES,
        ),
    )

    minutes: int

    @property
    def window_minutes(self) -> int:
        """Clamped to 1..60, as the seed says."""
        return min(MAX_MINUTES, max(MIN_MINUTES, self.minutes))
