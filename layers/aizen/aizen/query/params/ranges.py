"""period, from/to, metrics and the common filters: the parameters aggregate, timeseries and
breakdown share."""

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from aizen.errors import InvalidRequest
from aizen.patterns import has_wildcard
from aizen.periods import PRESETS
from aizen.query.comparisons import COMPARE_MODES, NOT_COMPARABLE_PERIODS, SHIFTED_MODES
from aizen.query.filter_grammar import FILTERS_PATTERN, parse_filters, public_name
from aizen.query.params import (
    DATE_RANGE,
    DATE_SCHEMA,
    FILTER_SCHEMA,
    Parameter,
    QueryParams,
    boolean,
    filter_parameter,
    filter_value,
    local_date,
    metric_list,
    one_of,
)
from aizen.vocabulary import CONVERSION_CONDITION_PROPERTIES, FILTER_PARAMETERS, Condition, Filters

# The plain filter parameters a filters= condition may not repeat (region: breakdowns by city).
_PLAIN_FILTERS = (*FILTER_PARAMETERS, "region")

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
    Parameter(
        "filters",
        parse_filters,
        {"type": "string", "minLength": 1, "pattern": FILTERS_PATTERN},
        "Plausible Stats API v1 filters, AND-ed with the parameters above: property==value or property!=value, "
        "| between values (\\| for a literal |), * and ** wildcards, ; between conditions, e.g. "
        "visit:country==US|DE;event:page==/blog/**;visit:browser!=Safari; event:goal (goal names) and "
        "event:props:<key> take them too: event:goal!=Signup drops the sessions that signed up "
        "(docs/stats.md, Filters)",
        attribute="conditions",
    ),
    Parameter(
        "compare",
        one_of(COMPARE_MODES),
        {"type": "string", "enum": list(COMPARE_MODES)},
        "Compare with an earlier period: previous_period (the same number of days just before), year_over_year "
        "(the same dates a year earlier) or custom (compare_from and compare_to); not with period=24h or all",
    ),
    Parameter(
        "compare_from",
        local_date,
        DATE_SCHEMA,
        f"First day of the comparison (compare=custom only); {DATE_RANGE}",
    ),
    Parameter(
        "compare_to",
        local_date,
        DATE_SCHEMA,
        f"Last day of the comparison, inclusive (compare=custom only); {DATE_RANGE}",
    ),
    Parameter(
        "match_day_of_week",
        boolean,
        {"type": "boolean"},
        "Move a previous_period or year_over_year comparison to start on the period's first weekday",
        default=False,
    ),
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
    conditions: tuple[Condition, ...] | None
    compare: str | None
    compare_from: date | None
    compare_to: date | None
    match_day_of_week: bool
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
        plain = self.filters
        for condition in self.conditions or ():
            if condition.property in CONVERSION_CONDITION_PROPERTIES:
                self._check_once(condition, self._plain_filters)
            if condition.property in _PLAIN_FILTERS and getattr(plain, condition.property) is not None:
                raise InvalidRequest(
                    f"filters: {condition.property} is filtered twice, by the {condition.property} parameter and by "
                    f"{public_name(condition)} in filters; use one"
                )
        self._check_comparison()

    @staticmethod
    def _check_once(condition: Condition, plain: Filters) -> None:
        """A goal, or a custom property's key, is filtered either by its parameter or in filters."""
        name = public_name(condition)
        if condition.property == "goal" and plain.goal is not None:
            raise InvalidRequest(f"filters: goal is filtered twice, by the goal parameter and by {name}; use one")
        if condition.property == "props" and any(key == condition.key for key, _ in plain.props):
            raise InvalidRequest(
                f"filters: props:{condition.key} is filtered twice, by the props:{condition.key} parameter and by "
                f"{name}; use one"
            )

    def _check_comparison(self) -> None:
        if self.compare != "custom" and (self.compare_from is not None or self.compare_to is not None):
            raise InvalidRequest("compare_from and compare_to are only valid with compare=custom")
        if self.match_day_of_week and self.compare not in SHIFTED_MODES:
            raise InvalidRequest(
                "match_day_of_week is only valid with compare=previous_period or compare=year_over_year"
            )
        if self.compare is None:
            return
        if self.period in NOT_COMPARABLE_PERIODS:
            raise InvalidRequest(
                f"compare: not available with period={self.period}; "
                f"compare is available with every period but {' and '.join(NOT_COMPARABLE_PERIODS)}"
            )
        if self.compare == "custom":
            if self.compare_from is None or self.compare_to is None:
                missing = "compare_from" if self.compare_from is None else "compare_to"
                raise InvalidRequest(
                    f"{missing} is required with compare=custom (both compare_from and compare_to, YYYY-MM-DD)"
                )
            if self.compare_from > self.compare_to:
                raise InvalidRequest("compare_from must not be after compare_to")

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics asked for; visitors unless the endpoint has another default."""
        return self.metrics or ("visitors",)

    @property
    def filters(self) -> Filters:
        """The plain filters and the `filters=` conditions; `event:goal==X` (the only goal
        condition) and `event:props:K==V` (one value without wildcards) are the goal and props
        filters themselves, so they answer from the goal rollups as those do."""
        conditions = self.conditions or ()
        goal_conditions = [condition for condition in conditions if condition.property == "goal"]
        exact = [
            condition
            for condition in conditions
            if condition.property in CONVERSION_CONDITION_PROPERTIES
            and not condition.negated
            and len(condition.patterns) == 1
            and not has_wildcard(condition.patterns[0])
            and (condition.property == "props" or len(goal_conditions) == 1)
        ]
        plain = self._plain_filters
        goal = next((condition.patterns[0] for condition in exact if condition.property == "goal"), plain.goal)
        props = plain.props + tuple(
            (condition.key or "", condition.patterns[0]) for condition in exact if condition.property == "props"
        )
        return plain._replace(
            conditions=tuple(condition for condition in conditions if condition not in exact), goal=goal, props=props
        )

    @property
    def _plain_filters(self) -> Filters:
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
