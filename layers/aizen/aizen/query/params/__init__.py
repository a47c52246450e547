"""Query parameters of the four stats endpoints: one declarative table per endpoint.

This module holds what they share (the tables' machinery and the readers; the metrics of each
endpoint are in `aizen.vocabulary`); each endpoint's parameter class is in its own module, so a stats function builds
only its own at init (`aizen.query.params.aggregate`, `.timeseries`, `.breakdown`,
`.realtime`; the first three extend `.ranges.RangeParams`).

Each endpoint's parameters are a tuple of `Parameter`s (public name, parser, default,
OpenAPI schema); `read_parameters` applies one to a query string and the parameter
classes add the checks across parameters. Every failure becomes `400 invalid_request`
whose message names the parameter and lists the allowed values. Unknown parameters are
refused. `docs/openapi.json` describes the parameters from these same tables.

Why not pydantic models, as for JSON bodies: docs/performance.md (cold start).
"""

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, ClassVar, NamedTuple, Self

from aizen.errors import InvalidRequest
from aizen.periods import EARLIEST_DATE, LATEST_DATE
from aizen.vocabulary import GOAL_RATE_METRIC

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


def one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return check


def local_date(value: str) -> date:
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


def integer(value: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise ValueError("must be an integer")
    # No 64-bit integer has over 19 significant digits (and int() refuses over 4,300).
    if len(value.lstrip("+-").lstrip("0")) > 19:
        raise ValueError(_OUT_OF_INT64)
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(_OUT_OF_INT64)
    return number


def metric_list(value: str) -> tuple[str, ...]:
    metrics = tuple(part.strip() for part in value.split(","))
    if not all(metrics):
        raise ValueError("must be a comma-separated list of metrics, without empty entries")
    duplicate = next((metric for index, metric in enumerate(metrics) if metric in metrics[:index]), None)
    if duplicate is not None:
        raise ValueError(f"{duplicate} is listed twice")
    return metrics


def boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def filter_value(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class Parameter(NamedTuple):
    """One query parameter: its public name, how its string becomes a value, and its public schema."""

    name: str
    parse: Callable[[str], Any]
    schema: Mapping[str, Any]
    description: str | None = None
    default: Any = None
    required: bool = False
    attribute: str | None = None  # the field it fills, when the name is not one ("from", "property")
    prefix: bool = False  # a family of names `<name><key>` (`props:plan`): the field is ((key, value), ...)

    @property
    def field_name(self) -> str:
        return self.attribute or self.name


def read_parameters(parameters: tuple[Parameter, ...], query: Mapping[str, str]) -> dict[str, Any]:
    """Field values from a query string: unknown names first (a typo explains a missing
    parameter), then each parameter in order; the first problem is the 400."""
    known = {parameter.name for parameter in parameters if not parameter.prefix}
    prefixes = tuple(parameter.name for parameter in parameters if parameter.prefix)
    unknown = next((name for name in query if name not in known and not name.startswith(prefixes)), None)
    if unknown is not None:
        allowed = ", ".join(parameter.name + ("<key>" if parameter.prefix else "") for parameter in parameters)
        raise InvalidRequest(f"Unknown parameter {unknown}; allowed parameters: {allowed}")
    values: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.prefix:
            values[parameter.field_name] = _prefixed(parameter, query)
            continue
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


def _prefixed(parameter: Parameter, query: Mapping[str, str]) -> tuple[tuple[str, Any], ...]:
    """((key, value), ...) of every `<name><key>` in the query, sorted by key."""
    found: list[tuple[str, Any]] = []
    for name in sorted(query):
        if not name.startswith(parameter.name):
            continue
        key = name[len(parameter.name) :]
        if not key:
            raise InvalidRequest(f"{name}: needs a key after {parameter.name}, e.g. {parameter.name}plan")
        try:
            found.append((key, parameter.parse(query[name])))
        except ValueError as error:
            raise InvalidRequest(f"{name}: {error}") from None
    return tuple(found)


class QueryParams:
    """What every endpoint's parameter class shares: built from its table, then checked."""

    __slots__ = ()
    PARAMETERS: ClassVar[tuple[Parameter, ...]]

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        """A request's parameters, checked; any problem is `400 invalid_request` naming the parameter."""
        params = cls(**read_parameters(cls.PARAMETERS, query))
        params.check()
        return params

    def check(self) -> None:
        """The rules across parameters; none unless the endpoint has some."""


DATE_SCHEMA = {"type": "string", "format": "date"}
DATE_RANGE = f"YYYY-MM-DD, {EARLIEST_DATE} to {LATEST_DATE}"
FILTER_SCHEMA = {"type": "string", "minLength": 1}
INT64_SCHEMA = {"type": "integer", "format": "int64"}


def filter_parameter(name: str, description: str) -> Parameter:
    return Parameter(name, filter_value, FILTER_SCHEMA, description)


def check_metrics(metrics: tuple[str, ...], allowed: tuple[str, ...], context: str = "") -> None:
    for metric in metrics:
        if metric not in allowed:
            reason = f"{metric} is not allowed{context}" if context else f"unknown metric {metric}"
            raise InvalidRequest(f"metrics: {reason}; allowed metrics: {', '.join(allowed)}")


def check_goal_rate(metrics: tuple[str, ...], goal_filtered: bool, context: str = "") -> None:
    """conversion_rate divides a goal's converters by the visitors without the goal: it needs
    a goal filter that keeps conversions (`Filters.goal_filtered`)."""
    if GOAL_RATE_METRIC in metrics and not goal_filtered:
        raise InvalidRequest(
            f"metrics: {GOAL_RATE_METRIC} needs a goal filter (goal=<goal name>) or an event:goal== condition in "
            f"filters{context}"
        )
