"""period, from/to, metrics and the common filters: the parameters aggregate, timeseries and
breakdown share."""

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from aizen.errors import InvalidRequest
from aizen.periods import PRESETS
from aizen.query.params import (
    DATE_RANGE,
    DATE_SCHEMA,
    FILTER_SCHEMA,
    Parameter,
    QueryParams,
    filter_parameter,
    filter_value,
    local_date,
    metric_list,
    one_of,
)
from aizen.vocabulary import Filters

RANGE_PARAMETERS = (
    Parameter(
        "period",
        one_of(PRESETS),
        {"type": "string", "enum": list(PRESETS)},
        "Period in the site's time zone; custom needs from and to",
        default="30d",
    ),
    Parameter("from", local_date, DATE_SCHEMA, f"First day (period=custom only); {DATE_RANGE}", attribute="date_from"),
    Parameter(
        "to", local_date, DATE_SCHEMA, f"Last day, inclusive (period=custom only); {DATE_RANGE}", attribute="date_to"
    ),
    # Its schema and description list each endpoint's metrics (docs/openapi.json).
    Parameter("metrics", metric_list, {"type": "string"}),
    filter_parameter("page", "Exact page path, e.g. /pricing"),
    filter_parameter("referrer", "Exact referrer domain, e.g. google.com"),
    filter_parameter("country", "Exact country code or stored country value"),
    filter_parameter("device", "Exact device type, e.g. desktop or mobile"),
    filter_parameter("browser", "Exact browser name"),
    filter_parameter("os", "Exact operating system name"),
    filter_parameter("goal", "A goal's name: only its conversions count (400 lists the site's goals)"),
    Parameter(
        "props:",
        filter_value,
        FILTER_SCHEMA,
        "props:<key>=<value>: events whose custom property <key> is exactly <value> ((none): without it);"
        " any number of keys, AND-ed",
        attribute="props",
        prefix=True,
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeParams(QueryParams):
    """period, from/to, metrics and the common filters: shared by aggregate, timeseries and breakdown.

    Built by `from_query`: the fields have no defaults of their own, the table's are the only ones."""

    PARAMETERS: ClassVar[tuple[Parameter, ...]] = RANGE_PARAMETERS

    period: str
    date_from: date | None
    date_to: date | None
    metrics: tuple[str, ...] | None
    page: str | None
    referrer: str | None
    country: str | None
    device: str | None
    browser: str | None
    os: str | None
    goal: str | None
    props: tuple[tuple[str, str], ...]

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
    def metric_names(self) -> tuple[str, ...]:
        """The metrics asked for; visitors unless the endpoint has another default."""
        return self.metrics or ("visitors",)

    @property
    def filters(self) -> Filters:
        return Filters(
            page=self.page,
            referrer=self.referrer,
            country=self.country,
            device=self.device,
            browser=self.browser,
            os=self.os,
            goal=self.goal,
            props=self.props,
        )
