"""GET /api/v1/stats/realtime's parameters."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

from aizen.query.params import (
    DEFAULT_MINUTES,
    INT64_SCHEMA,
    MAX_MINUTES,
    MIN_MINUTES,
    Parameter,
    integer,
    read_parameters,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RealtimeParams:
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

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        return cls(**read_parameters(cls.PARAMETERS, query))

    @property
    def window_minutes(self) -> int:
        """Clamped to 1..60, as the seed says."""
        return min(MAX_MINUTES, max(MIN_MINUTES, self.minutes))
