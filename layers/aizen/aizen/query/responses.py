"""Response bodies of the four stats endpoints, as pydantic models.

`aizen.query.service` builds these answers as plain dicts (its hot path stays
free of model construction); these models are the schema of those dicts. The
OpenAPI description (`docs/openapi.json`) is generated from them, and tests
validate real service answers against them, so the two cannot drift.
"""

from typing import NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field, with_config

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
    events: NotRequired[int]
    conversion_rate: NotRequired[float]


class AggregateResponse(BaseModel):
    model_config = _STRICT

    period: PeriodOut
    metrics: AggregateMetrics
    meta: Meta


@with_config(_STRICT)
class TimeseriesPoint(TypedDict):
    date: str
    visitors: NotRequired[int]
    pageviews: NotRequired[int]
    events: NotRequired[int]
    conversion_rate: NotRequired[float]


class TimeseriesResponse(BaseModel):
    model_config = _STRICT

    period: PeriodOut
    interval: Interval
    results: list[TimeseriesPoint] = Field(description="One point per bucket; `date` is the bucket's UTC start")
    meta: Meta


@with_config(_STRICT)
class BreakdownRow(TypedDict):
    value: str
    visitors: NotRequired[int]
    pageviews: NotRequired[int]
    entries: NotRequired[int]
    clicks: NotRequired[int]
    events: NotRequired[int]
    conversion_rate: NotRequired[float]
    time_on_page: NotRequired[int | None]
    scroll_depth: NotRequired[int | None]


class Pagination(BaseModel):
    model_config = _STRICT

    page_number: int = Field(ge=1)
    limit: int = Field(ge=1)
    total_rows: int = Field(ge=0)
    total_pages: int = Field(ge=0)


class BreakdownResponse(BaseModel):
    model_config = _STRICT

    property: str = Field(
        json_schema_extra={"anyOf": [{"enum": [*PROPERTIES, GOAL_PROPERTY]}, {"pattern": f"^{PROPS_PREFIX}.+$"}]}
    )
    period: PeriodOut
    results: list[BreakdownRow]
    pagination: Pagination
    meta: Meta


class RealtimeResponse(BaseModel):
    model_config = _STRICT

    current_visitors: int = Field(ge=0)
    window_minutes: int = Field(ge=1, le=60)
