"""GET /api/v1/stats/aggregate's parameters."""

from aizen.query.params import check_goal_rate, check_metrics
from aizen.query.params.ranges import RangeParams
from aizen.vocabulary import AGGREGATE_METRICS


class AggregateParams(RangeParams):
    """The shared parameters only, with aggregate's metrics (no fields of its own: not a dataclass)."""

    __slots__ = ()

    def check(self) -> None:
        super().check()
        check_metrics(self.metrics or (), AGGREGATE_METRICS)
        check_goal_rate(self.metrics or (), self.filters.goal_filtered)
