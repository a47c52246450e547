"""Query parameters of the four stats endpoints, validated with pydantic.

Every failure becomes `400 invalid_request` whose message names the parameter and
lists the allowed values (`aizen.validation.parse_query`). Unknown parameters are
refused (`extra="forbid"`).
"""

import re
from datetime import date
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from aizen.periods import EARLIEST_DATE, INTERVALS, LATEST_DATE, PRESETS
from aizen.query.engine import Filters

AGGREGATE_METRICS = ("visitors", "pageviews", "bounce_rate", "visit_duration")
TIMESERIES_METRICS = ("visitors", "pageviews")
# The seed's table: property -> allowed metrics (the first is the default).
PROPERTY_METRICS: dict[str, tuple[str, ...]] = {
    "page": ("visitors", "pageviews"),
    "entry_page": ("entries",),
    "exit_link": ("clicks",),
    "channel": ("visitors", "pageviews"),
    "referrer": ("visitors", "pageviews"),
    "country": ("visitors", "pageviews"),
    "region": ("visitors", "pageviews"),
    "city": ("visitors", "pageviews"),
    "device": ("visitors", "pageviews"),
    "browser": ("visitors", "pageviews"),
    "os": ("visitors", "pageviews"),
}
PROPERTIES = tuple(PROPERTY_METRICS)
# What a day's rollup keeps per property (rows are [value, *metrics] in this order).
# region and city are not rolled up: their breakdowns are raw-window only.
ROLLUP_PROPERTIES: dict[str, tuple[str, ...]] = {
    prop: metrics for prop, metrics in PROPERTY_METRICS.items() if prop not in ("region", "city")
}
FILTER_PARAMETERS = ("page", "referrer", "country", "device", "browser", "os")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEFAULT_MINUTES = 10
MIN_MINUTES, MAX_MINUTES = 1, 60

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+-]?\d+")
# Integer parameters take any 64-bit integer (docs/openapi.json says `format: int64`); each
# parameter then checks or clamps its own range.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_OUT_OF_INT64 = f"must be an integer from {INT64_MIN} to {INT64_MAX}"


def _one_of(allowed: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return BeforeValidator(check)


def _enum(allowed: tuple[str, ...]) -> WithJsonSchema:
    """The public schema of a `_one_of` parameter (docs/openapi.json)."""
    return WithJsonSchema({"type": "string", "enum": list(allowed)})


def _local_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            if not EARLIEST_DATE <= parsed <= LATEST_DATE:
                raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
            return parsed
    raise ValueError("must be a date in the form YYYY-MM-DD")


def _integer(value: Any) -> int:
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        # No 64-bit integer has over 19 significant digits (and int() refuses over 4,300).
        if len(value.lstrip("+-").lstrip("0")) > 19:
            raise ValueError(_OUT_OF_INT64)
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError("must be an integer")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(_OUT_OF_INT64)
    return number


def _metric_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        value = ",".join(str(item) for item in value)
    if not isinstance(value, str):
        raise ValueError("must be a comma-separated list of metrics")
    metrics = tuple(part.strip() for part in value.split(","))
    if not all(metrics):
        raise ValueError("must be a comma-separated list of metrics, without empty entries")
    duplicate = next((metric for index, metric in enumerate(metrics) if metric in metrics[:index]), None)
    if duplicate is not None:
        raise ValueError(f"{duplicate} is listed twice")
    return metrics


def _filter_value(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must not be empty")
    return value


# WithJsonSchema: how each type looks in a query string, for docs/openapi.json.
LocalDate = Annotated[
    date,
    BeforeValidator(_local_date),
    WithJsonSchema(
        {"type": "string", "format": "date", "description": f"YYYY-MM-DD, {EARLIEST_DATE} to {LATEST_DATE}"}
    ),
]
Integer = Annotated[int, BeforeValidator(_integer), WithJsonSchema({"type": "integer", "format": "int64"})]
MetricList = Annotated[
    tuple[str, ...],
    BeforeValidator(_metric_list),
    WithJsonSchema({"type": "string", "description": "Comma-separated metric names, each at most once"}),
]
FilterValue = Annotated[str, BeforeValidator(_filter_value), WithJsonSchema({"type": "string", "minLength": 1})]


def _check_metrics(metrics: tuple[str, ...], allowed: tuple[str, ...], context: str = "") -> None:
    for metric in metrics:
        if metric not in allowed:
            reason = f"{metric} is not allowed{context}" if context else f"unknown metric {metric}"
            raise ValueError(f"metrics: {reason}; allowed metrics: {', '.join(allowed)}")


# Each stats function validates with one of these models: built on first use (`defer_build`),
# so a function's init does not build the other endpoints' validators.
_PARAMS = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class _RangeParams(BaseModel):
    """period, from/to, metrics and the common filters: shared by aggregate, timeseries and breakdown."""

    model_config = _PARAMS

    period: Annotated[str, _one_of(PRESETS), _enum(PRESETS)] = Field(
        default="30d", description="Period in the site's time zone; custom needs from and to"
    )
    date_from: LocalDate | None = Field(default=None, alias="from", description="First day (period=custom only)")
    date_to: LocalDate | None = Field(default=None, alias="to", description="Last day, inclusive (period=custom only)")
    metrics: MetricList | None = None
    page: FilterValue | None = Field(default=None, description="Exact page path, e.g. /pricing")
    referrer: FilterValue | None = Field(default=None, description="Exact referrer domain, e.g. google.com")
    country: FilterValue | None = Field(default=None, description="Exact country code or stored country value")
    device: FilterValue | None = Field(default=None, description="Exact device type, e.g. desktop or mobile")
    browser: FilterValue | None = Field(default=None, description="Exact browser name")
    os: FilterValue | None = Field(default=None, description="Exact operating system name")

    @model_validator(mode="after")
    def _check_range(self) -> Self:
        if self.period != "custom":
            if self.date_from is not None or self.date_to is not None:
                raise ValueError("from and to are only valid with period=custom")
        else:
            if self.date_from is None or self.date_to is None:
                missing = "from" if self.date_from is None else "to"
                raise ValueError(f"{missing} is required with period=custom (both from and to, YYYY-MM-DD)")
            if self.date_from > self.date_to:
                raise ValueError("from must not be after to")
        return self

    @property
    def filters(self) -> Filters:
        return Filters(
            page=self.page,
            referrer=self.referrer,
            country=self.country,
            device=self.device,
            browser=self.browser,
            os=self.os,
        )


class AggregateParams(_RangeParams):
    @model_validator(mode="after")
    def _check_metrics(self) -> Self:
        _check_metrics(self.metrics or (), AGGREGATE_METRICS)
        return self

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.metrics or ("visitors",)


class TimeseriesParams(_RangeParams):
    interval: Annotated[str, _one_of(INTERVALS), _enum(INTERVALS)] | None = Field(
        default=None, description="Bucket size; default hour for 24h and single-day ranges, otherwise day"
    )

    @model_validator(mode="after")
    def _check_interval_and_metrics(self) -> Self:
        _check_metrics(self.metrics or (), TIMESERIES_METRICS)
        if self.period == "24h" and self.interval not in (None, "hour"):
            raise ValueError("interval: period=24h only supports interval=hour")
        return self

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.metrics or ("visitors",)


class BreakdownParams(_RangeParams):
    breakdown_property: Annotated[str, _one_of(PROPERTIES), _enum(PROPERTIES)] = Field(
        alias="property", description="The dimension; region and city need country"
    )
    region: FilterValue | None = Field(default=None, description="Scopes property=city (with country)")
    sort: str | None = Field(
        default=None,
        description="metric.asc or metric.desc, over the requested metrics; default: first metric, descending",
        json_schema_extra={"pattern": r"^[a-z_]+\.(asc|desc)$"},
    )
    limit: Integer = Field(default=DEFAULT_LIMIT, json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT})
    page_number: Integer = Field(default=1, json_schema_extra={"minimum": 1})

    @model_validator(mode="after")
    def _check_breakdown(self) -> Self:
        allowed = PROPERTY_METRICS[self.breakdown_property]
        _check_metrics(self.metrics or (), allowed, f" with property={self.breakdown_property}")
        if self.breakdown_property in ("region", "city") and self.country is None:
            raise ValueError(f"country is required with property={self.breakdown_property}")
        if self.region is not None and self.breakdown_property != "city":
            raise ValueError("region is only valid with property=city (with country)")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        if self.page_number < 1:
            raise ValueError("page_number must be 1 or more")
        if self.sort is not None:
            metrics = self.metric_names
            options = [f"{metric}.{direction}" for metric in metrics for direction in ("asc", "desc")]
            if self.sort not in options:
                raise ValueError(f"sort must be one of {', '.join(options)} (metric.asc or metric.desc)")
        return self

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.metrics or PROPERTY_METRICS[self.breakdown_property][:1]

    @property
    def sort_key(self) -> tuple[str, bool]:
        """(metric, descending); the default is the first metric, descending."""
        if self.sort is None:
            return self.metric_names[0], True
        metric, direction = self.sort.rsplit(".", 1)
        return metric, direction == "desc"

    @property
    def filters(self) -> Filters:
        base = super().filters
        return Filters(
            page=base.page,
            referrer=base.referrer,
            country=base.country,
            region=self.region,
            device=base.device,
            browser=base.browser,
            os=base.os,
        )


class RealtimeParams(BaseModel):
    model_config = _PARAMS

    minutes: Integer = Field(
        default=DEFAULT_MINUTES, description=f"Window in minutes; clamped to {MIN_MINUTES}..{MAX_MINUTES}"
    )

    @property
    def window_minutes(self) -> int:
        """Clamped to 1..60, as the seed says."""
        return min(MAX_MINUTES, max(MIN_MINUTES, self.minutes))
