"""GET /api/v1/stats/timeseries' parameters."""

from dataclasses import dataclass
from typing import ClassVar

from aizen.errors import InvalidRequest
from aizen.periods import INTERVALS
from aizen.query.params import Parameter, check_goal_rate, check_metrics, one_of
from aizen.query.params.ranges import RANGE_PARAMETERS, RangeParams
from aizen.vocabulary import TIMESERIES_METRICS


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeseriesParams(RangeParams):
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        *RANGE_PARAMETERS,
        Parameter(
            "interval",
            one_of(INTERVALS),
            {"type": "string", "enum": list(INTERVALS)},
            "Bucket size; default hour for 24h and single-day ranges, otherwise day",
        ),
    )

    interval: str | None

    def check(self) -> None:
        super(TimeseriesParams, self).check()  # slots=True recreates the class: no zero-argument super()
        check_metrics(self.metrics or (), TIMESERIES_METRICS)
        check_goal_rate(self.metrics or (), self.filters.goal_filtered)
        if self.period == "24h" and self.interval not in (None, "hour"):
            raise InvalidRequest("interval: period=24h only supports interval=hour")
