"""Query parameters of the four stats endpoints: one declarative table per endpoint.

Each endpoint's parameters are a tuple of `Parameter`s (public name, parser, default,
OpenAPI schema); `read_parameters` applies one to a query string and the parameter
classes add the checks across parameters. Every failure becomes `400 invalid_request`
whose message names the parameter and lists the allowed values. Unknown parameters are
refused. `docs/openapi.json` describes the parameters from these same tables.

Why not pydantic models, as for JSON bodies: importing pydantic and building a model's
validator costs ~45 ms of each stats function's cold start, which alone breaks their
cold-start target (docs/performance.md), while every parser here was already our own
(a query string is all strings; pydantic only carried them).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Self

from aizen.errors import InvalidRequest
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


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return check


def _local_date(value: str) -> date:
    if _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            if not EARLIEST_DATE <= parsed <= LATEST_DATE:
                raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
            return parsed
    raise ValueError("must be a date in the form YYYY-MM-DD")


def _integer(value: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise ValueError("must be an integer")
    # No 64-bit integer has over 19 significant digits (and int() refuses over 4,300).
    if len(value.lstrip("+-").lstrip("0")) > 19:
        raise ValueError(_OUT_OF_INT64)
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(_OUT_OF_INT64)
    return number


def _metric_list(value: str) -> tuple[str, ...]:
    metrics = tuple(part.strip() for part in value.split(","))
    if not all(metrics):
        raise ValueError("must be a comma-separated list of metrics, without empty entries")
    duplicate = next((metric for index, metric in enumerate(metrics) if metric in metrics[:index]), None)
    if duplicate is not None:
        raise ValueError(f"{duplicate} is listed twice")
    return metrics


def _filter_value(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _any_string(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class Parameter:
    """One query parameter: its public name, how its string becomes a value, and its public schema."""

    name: str
    parse: Callable[[str], Any]
    schema: Mapping[str, Any]
    description: str | None = None
    default: Any = None
    required: bool = False
    attribute: str | None = None  # the field it fills, when the name is not one ("from", "property")

    @property
    def field_name(self) -> str:
        return self.attribute or self.name


def read_parameters(parameters: tuple[Parameter, ...], query: Mapping[str, str]) -> dict[str, Any]:
    """Field values from a query string: unknown names first (a typo explains a missing
    parameter), then each parameter in order; the first problem is the 400."""
    known = {parameter.name for parameter in parameters}
    unknown = next((name for name in query if name not in known), None)
    if unknown is not None:
        allowed = ", ".join(parameter.name for parameter in parameters)
        raise InvalidRequest(f"Unknown parameter {unknown}; allowed parameters: {allowed}")
    values: dict[str, Any] = {}
    for parameter in parameters:
        raw = query.get(parameter.name)
        if raw is None:
            if parameter.required:
                raise InvalidRequest(f"{parameter.name} is required")
            values[parameter.field_name] = parameter.default
            continue
        try:
            values[parameter.field_name] = parameter.parse(raw)
        except ValueError as error:
            raise InvalidRequest(f"{parameter.name}: {error}") from None
    return values


_DATE_SCHEMA = {"type": "string", "format": "date"}
_DATE_RANGE = f"YYYY-MM-DD, {EARLIEST_DATE} to {LATEST_DATE}"
_FILTER_SCHEMA = {"type": "string", "minLength": 1}
_INT64_SCHEMA = {"type": "integer", "format": "int64"}


def _filter(name: str, description: str) -> Parameter:
    return Parameter(name, _filter_value, _FILTER_SCHEMA, description)


RANGE_PARAMETERS = (
    Parameter(
        "period",
        _one_of(PRESETS),
        {"type": "string", "enum": list(PRESETS)},
        "Period in the site's time zone; custom needs from and to",
        default="30d",
    ),
    Parameter(
        "from", _local_date, _DATE_SCHEMA, f"First day (period=custom only); {_DATE_RANGE}", attribute="date_from"
    ),
    Parameter(
        "to", _local_date, _DATE_SCHEMA, f"Last day, inclusive (period=custom only); {_DATE_RANGE}", attribute="date_to"
    ),
    # Its schema and description list each endpoint's metrics (docs/openapi.json).
    Parameter("metrics", _metric_list, {"type": "string"}),
    _filter("page", "Exact page path, e.g. /pricing"),
    _filter("referrer", "Exact referrer domain, e.g. google.com"),
    _filter("country", "Exact country code or stored country value"),
    _filter("device", "Exact device type, e.g. desktop or mobile"),
    _filter("browser", "Exact browser name"),
    _filter("os", "Exact operating system name"),
)


def _check_metrics(metrics: tuple[str, ...], allowed: tuple[str, ...], context: str = "") -> None:
    for metric in metrics:
        if metric not in allowed:
            reason = f"{metric} is not allowed{context}" if context else f"unknown metric {metric}"
            raise InvalidRequest(f"metrics: {reason}; allowed metrics: {', '.join(allowed)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class _RangeParams:
    """period, from/to, metrics and the common filters: shared by aggregate, timeseries and breakdown."""

    PARAMETERS: ClassVar[tuple[Parameter, ...]] = RANGE_PARAMETERS

    period: str = "30d"
    date_from: date | None = None
    date_to: date | None = None
    metrics: tuple[str, ...] | None = None
    page: str | None = None
    referrer: str | None = None
    country: str | None = None
    device: str | None = None
    browser: str | None = None
    os: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        """A request's parameters, checked; any problem is `400 invalid_request` naming the parameter."""
        params = cls(**read_parameters(cls.PARAMETERS, query))
        params.check()
        return params

    def check(self) -> None:
        """The rules across parameters."""
        if self.period != "custom":
            if self.date_from is not None or self.date_to is not None:
                raise InvalidRequest("from and to are only valid with period=custom")
        else:
            if self.date_from is None or self.date_to is None:
                missing = "from" if self.date_from is None else "to"
                raise InvalidRequest(f"{missing} is required with period=custom (both from and to, YYYY-MM-DD)")
            if self.date_from > self.date_to:
                raise InvalidRequest("from must not be after to")

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


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregateParams(_RangeParams):
    def check(self) -> None:
        super(AggregateParams, self).check()
        _check_metrics(self.metrics or (), AGGREGATE_METRICS)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.metrics or ("visitors",)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeseriesParams(_RangeParams):
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        *RANGE_PARAMETERS,
        Parameter(
            "interval",
            _one_of(INTERVALS),
            {"type": "string", "enum": list(INTERVALS)},
            "Bucket size; default hour for 24h and single-day ranges, otherwise day",
        ),
    )

    interval: str | None = None

    def check(self) -> None:
        super(TimeseriesParams, self).check()
        _check_metrics(self.metrics or (), TIMESERIES_METRICS)
        if self.period == "24h" and self.interval not in (None, "hour"):
            raise InvalidRequest("interval: period=24h only supports interval=hour")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.metrics or ("visitors",)


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakdownParams(_RangeParams):
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        *RANGE_PARAMETERS,
        Parameter(
            "property",
            _one_of(PROPERTIES),
            {"type": "string", "enum": list(PROPERTIES)},
            "The dimension; region and city need country",
            required=True,
            attribute="breakdown_property",
        ),
        _filter("region", "Scopes property=city (with country)"),
        Parameter(
            "sort",
            _any_string,
            {"type": "string", "pattern": r"^[a-z_]+\.(asc|desc)$"},
            "metric.asc or metric.desc, over the requested metrics; default: first metric, descending",
        ),
        Parameter("limit", _integer, {**_INT64_SCHEMA, "minimum": 1, "maximum": MAX_LIMIT}, default=DEFAULT_LIMIT),
        Parameter("page_number", _integer, {**_INT64_SCHEMA, "minimum": 1}, default=1),
    )

    breakdown_property: str
    region: str | None = None
    sort: str | None = None
    limit: int = DEFAULT_LIMIT
    page_number: int = 1

    def check(self) -> None:
        super(BreakdownParams, self).check()
        allowed = PROPERTY_METRICS[self.breakdown_property]
        _check_metrics(self.metrics or (), allowed, f" with property={self.breakdown_property}")
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
        return Filters(
            page=self.page,
            referrer=self.referrer,
            country=self.country,
            region=self.region,
            device=self.device,
            browser=self.browser,
            os=self.os,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RealtimeParams:
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter(
            "minutes",
            _integer,
            _INT64_SCHEMA,
            f"Window in minutes; clamped to {MIN_MINUTES}..{MAX_MINUTES}",
            default=DEFAULT_MINUTES,
        ),
    )

    minutes: int = DEFAULT_MINUTES

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        return cls(**read_parameters(cls.PARAMETERS, query))

    @property
    def window_minutes(self) -> int:
        """Clamped to 1..60, as the seed says."""
        return min(MAX_MINUTES, max(MIN_MINUTES, self.minutes))
