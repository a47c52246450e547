"""GET /api/v1/stats/breakdown's parameters."""

from dataclasses import dataclass
from typing import ClassVar

from aizen.errors import InvalidRequest
from aizen.query.params import (
    DEFAULT_LIMIT,
    INT64_SCHEMA,
    MAX_LIMIT,
    Parameter,
    check_goal_rate,
    check_metrics,
    filter_parameter,
    integer,
)
from aizen.query.params.ranges import RANGE_PARAMETERS, RangeParams
from aizen.vocabulary import (
    GOAL_PROPERTY,
    PAGE_ENGAGEMENT_METRICS,
    PROPERTIES,
    PROPS_PREFIX,
    Filters,
    breakdown_metrics,
    is_props_property,
)

BREAKDOWN_PROPERTIES = (*PROPERTIES, GOAL_PROPERTY)


def breakdown_property(value: str) -> str:
    """A seed property, `goal`, or `props:<key>`."""
    if value in BREAKDOWN_PROPERTIES or is_props_property(value):
        return value
    raise ValueError(f"must be one of {', '.join(BREAKDOWN_PROPERTIES)}, or {PROPS_PREFIX}<key>")


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakdownParams(RangeParams):
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        *RANGE_PARAMETERS,
        Parameter(
            "property",
            breakdown_property,
            {"type": "string", "anyOf": [{"enum": list(BREAKDOWN_PROPERTIES)}, {"pattern": f"^{PROPS_PREFIX}.+$"}]},
            "The dimension; region and city need country; goal: the site's goals; props:<key>: a custom property",
            required=True,
            attribute="breakdown_property",
        ),
        filter_parameter("region", "Scopes property=city (with country)"),
        Parameter(
            "sort",
            str,
            {"type": "string", "pattern": r"^[a-z_]+\.(asc|desc)$"},
            "metric.asc or metric.desc, over the requested metrics; default: first metric, descending",
        ),
        Parameter("limit", integer, {**INT64_SCHEMA, "minimum": 1, "maximum": MAX_LIMIT}, default=DEFAULT_LIMIT),
        Parameter("page_number", integer, {**INT64_SCHEMA, "minimum": 1}, default=1),
    )

    breakdown_property: str
    region: str | None
    sort: str | None
    limit: int
    page_number: int

    def check(self) -> None:
        super(BreakdownParams, self).check()  # slots=True recreates the class: no zero-argument super()
        allowed = breakdown_metrics(self.breakdown_property)
        check_metrics(self.metrics or (), allowed, f" with property={self.breakdown_property}")
        if self.breakdown_property != GOAL_PROPERTY:
            check_goal_rate(self.metrics or (), self.filters.goal_filtered, f" or property={GOAL_PROPERTY}")
        engagement = [metric for metric in self.metrics or () if metric in PAGE_ENGAGEMENT_METRICS]
        if engagement and self.filters.goal_filtered:
            raise InvalidRequest(f"metrics: {engagement[0]} is not available with a goal filter")
        if self.breakdown_property in ("region", "city") and self.country is None:
            raise InvalidRequest(f"country is required with property={self.breakdown_property}")
        if self.region is not None and self.breakdown_property != "city":
            raise InvalidRequest("region is only valid with property=city (with country)")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}")
        if self.page_number < 1:
            raise InvalidRequest("page_number must be 1 or more")
        if self.sort is not None:
            options = [f"{metric}.{direction}" for metric in self.metric_names for direction in ("asc", "desc")]
            if self.sort not in options:
                raise InvalidRequest(f"sort must be one of {', '.join(options)} (metric.asc or metric.desc)")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.metrics or breakdown_metrics(self.breakdown_property)[:1]

    @property
    def sort_key(self) -> tuple[str, bool]:
        """(metric, descending); the default is the first metric, descending."""
        if self.sort is None:
            return self.metric_names[0], True
        metric, direction = self.sort.rsplit(".", 1)
        return metric, direction == "desc"

    @property
    def filters(self) -> Filters:
        """The shared filters, and region (which only breakdown takes)."""
        return super(BreakdownParams, self).filters._replace(region=self.region)
