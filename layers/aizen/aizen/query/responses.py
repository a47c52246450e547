"""Response bodies of the four stats endpoints, as pydantic models.

`aizen.query.service` builds these answers as plain dicts (its hot path stays
free of model construction); these models are the schema of those dicts. The
OpenAPI description (`docs/openapi.json`) is generated from them, and tests
validate real service answers against them, so the two cannot drift.
"""

from typing import Annotated, Any, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field, with_config
from pydantic.json_schema import SkipJsonSchema

from aizen.periods import Interval, Preset
from aizen.vocabulary import GOAL_PROPERTY, PROPERTIES, PROPS_PREFIX

_STRICT = ConfigDict(extra="forbid")


class PeriodOut(BaseModel):
    """The resolved period: local dates, inclusive."""

    model_config = _STRICT

    date_from: str = Field(alias="from", json_schema_extra={"format": "date"})
    date_to: str = Field(alias="to", json_schema_extra={"format": "date"})
    preset: Preset = Field(description="The period asked for")


class UnavailableDays(BaseModel):
    """Days whose rollup lacks what the question counts and whose raw events have expired."""

    model_config = _STRICT

    what: str = Field(description="`goal <name>` (defined after the days were rolled up) or `events`")
    date_from: str = Field(alias="from", json_schema_extra={"format": "date"})
    date_to: str = Field(alias="to", json_schema_extra={"format": "date"})
    days: int = Field(ge=1, description="How many days of from..to lack it")
    reason: str


class Meta(BaseModel):
    model_config = _STRICT

    timezone: str = Field(description="The site's IANA time zone")
    from_rollups: bool = Field(description="true when any part of the answer came from daily rollups")
    unavailable: list[UnavailableDays] | None = Field(
        default=None, description="Only when some days count nothing for a goal or metric asked (never a silent zero)"
    )


@with_config(_STRICT)
class AggregateMetrics(TypedDict):
    """Only the metrics asked for (default: visitors)."""

    visitors: NotRequired[int]
    pageviews: NotRequired[int]
    bounce_rate: NotRequired[float]
    visit_duration: NotRequired[float]
    visits: NotRequired[int]
    views_per_visit: NotRequired[float]
    events: NotRequired[int]
    conversion_rate: NotRequired[float]


class ComparisonPeriod(BaseModel):
    """The earlier period compared with: local dates, inclusive."""

    model_config = _STRICT

    date_from: str = Field(alias="from", json_schema_extra={"format": "date"})
    date_to: str = Field(alias="to", json_schema_extra={"format": "date"})


@with_config(_STRICT)
class AggregateChange(TypedDict):
    """Per metric asked for: percent change from the comparison, a whole number (bounce_rate: the
    difference in percentage points); null when the comparison's value is 0."""

    visitors: NotRequired[int | None]
    pageviews: NotRequired[int | None]
    bounce_rate: NotRequired[float | None]
    visit_duration: NotRequired[int | None]
    visits: NotRequired[int | None]
    views_per_visit: NotRequired[int | None]
    events: NotRequired[int | None]
    conversion_rate: NotRequired[float | None]


class AggregateComparison(BaseModel):
    model_config = _STRICT

    period: ComparisonPeriod
    metrics: AggregateMetrics
    change: AggregateChange


_ONLY_WITH_COMPARE = "Present only with the compare parameter"
_COMPARED_PERIOD: dict[str, Any] = {"from": "2026-02-21", "to": "2026-02-27"}
_AGGREGATE_COMPARISON_EXAMPLE: dict[str, Any] = {
    "period": _COMPARED_PERIOD,
    "metrics": {"visitors": 2017, "bounce_rate": 35.1},
    "change": {"visitors": 20, "bounce_rate": 2.7},
}
_BREAKDOWN_COMPARISON_EXAMPLE: dict[str, Any] = {"period": _COMPARED_PERIOD}
_TIMESERIES_COMPARISON_EXAMPLE: dict[str, Any] = {
    "period": _COMPARED_PERIOD,
    "results": [{"date": "2026-02-21T08:00:00.000Z", "visitors": 2017, "pageviews": 4630}],
}


class AggregateResponse(BaseModel):
    model_config = _STRICT

    period: PeriodOut
    metrics: AggregateMetrics
    comparison: AggregateComparison | SkipJsonSchema[None] = Field(
        default=None, description=_ONLY_WITH_COMPARE, json_schema_extra={"examples": [_AGGREGATE_COMPARISON_EXAMPLE]}
    )
    meta: Meta


@with_config(_STRICT)
class TimeseriesPoint(TypedDict):
    date: str
    visitors: NotRequired[int]
    pageviews: NotRequired[int]
    visits: NotRequired[int]
    views_per_visit: NotRequired[float]
    events: NotRequired[int]
    conversion_rate: NotRequired[float]


class TimeseriesComparison(BaseModel):
    model_config = _STRICT

    period: ComparisonPeriod
    results: list[TimeseriesPoint] = Field(
        description="The comparison's own buckets (same interval), in order: `results[i]` pairs with the"
        " main `results[i]`"
    )


class TimeseriesResponse(BaseModel):
    model_config = _STRICT

    period: PeriodOut
    interval: Interval
    results: list[TimeseriesPoint] = Field(description="One point per bucket; `date` is the bucket's UTC start")
    comparison: TimeseriesComparison | SkipJsonSchema[None] = Field(
        default=None, description=_ONLY_WITH_COMPARE, json_schema_extra={"examples": [_TIMESERIES_COMPARISON_EXAMPLE]}
    )
    meta: Meta


@with_config(_STRICT)
class BreakdownMetrics(TypedDict):
    visitors: NotRequired[int]
    pageviews: NotRequired[int]
    entries: NotRequired[int]
    clicks: NotRequired[int]
    visits: NotRequired[int]
    events: NotRequired[int]
    conversion_rate: NotRequired[float]
    time_on_page: NotRequired[int | None]
    scroll_depth: NotRequired[int | None]


@with_config(_STRICT)
class BreakdownChange(TypedDict):
    """Percent change from the comparison per metric, a whole number; null when the comparison's value is 0."""

    visitors: NotRequired[int | None]
    pageviews: NotRequired[int | None]
    entries: NotRequired[int | None]
    clicks: NotRequired[int | None]
    visits: NotRequired[int | None]
    events: NotRequired[int | None]
    conversion_rate: NotRequired[float | None]
    time_on_page: NotRequired[int | None]
    scroll_depth: NotRequired[int | None]


@with_config(_STRICT)
class BreakdownRowComparison(TypedDict):
    """The row's value in the comparison period (0 when absent there)."""

    metrics: BreakdownMetrics
    change: BreakdownChange


@with_config(_STRICT)
class BreakdownRow(TypedDict):
    value: str
    visitors: NotRequired[int]
    pageviews: NotRequired[int]
    entries: NotRequired[int]
    clicks: NotRequired[int]
    visits: NotRequired[int]
    events: NotRequired[int]
    conversion_rate: NotRequired[float]
    time_on_page: NotRequired[int | None]
    scroll_depth: NotRequired[int | None]
    comparison: NotRequired[
        Annotated[
            BreakdownRowComparison,
            Field(
                description="With compare: the value in the comparison period",
                examples=[{"metrics": {"clicks": 40}, "change": {"clicks": 18}}],
            ),
        ]
    ]


class Pagination(BaseModel):
    model_config = _STRICT

    page_number: int = Field(ge=1)
    limit: int = Field(ge=1)
    total_rows: int = Field(ge=0)
    total_pages: int = Field(ge=0)


class BreakdownComparison(BaseModel):
    """The period the rows' `comparison` numbers are from."""

    model_config = _STRICT

    period: ComparisonPeriod


class BreakdownResponse(BaseModel):
    model_config = _STRICT

    property: str = Field(
        json_schema_extra={"anyOf": [{"enum": [*PROPERTIES, GOAL_PROPERTY]}, {"pattern": f"^{PROPS_PREFIX}.+$"}]}
    )
    period: PeriodOut
    results: list[BreakdownRow]
    pagination: Pagination
    comparison: BreakdownComparison | SkipJsonSchema[None] = Field(
        default=None, description=_ONLY_WITH_COMPARE, json_schema_extra={"examples": [_BREAKDOWN_COMPARISON_EXAMPLE]}
    )
    meta: Meta


class RealtimeResponse(BaseModel):
    model_config = _STRICT

    current_visitors: int = Field(ge=0)
    window_minutes: int = Field(ge=1, le=60)
