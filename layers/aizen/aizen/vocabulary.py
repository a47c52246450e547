"""The query vocabulary: metrics per endpoint and property, what rollups keep, and filters.

One module that the parameter tables (`aizen.query.params`), the query planner
(`aizen.query.planner`), the engine and the rollup job all import, so none of them
imports another for a name (docs/stats.md has the user's view of each).
"""

from typing import NamedTuple

AGGREGATE_METRICS = (
    "visitors",
    "pageviews",
    "bounce_rate",
    "visit_duration",
    "visits",
    "views_per_visit",
    "events",
    "conversion_rate",
)
TIMESERIES_METRICS = ("visitors", "pageviews", "visits", "views_per_visit", "events", "conversion_rate")
# conversion_rate needs a goal: a `goal` filter, or the goal breakdown (docs/stats.md, Goals).
GOAL_RATE_METRIC = "conversion_rate"
# The public API's table: property -> allowed metrics (the first is the default).
PROPERTY_METRICS: dict[str, tuple[str, ...]] = {
    "page": ("visitors", "pageviews"),
    "entry_page": ("entries",),
    "exit_link": ("clicks",),
    "channel": ("visitors", "pageviews", "visits"),
    "referrer": ("visitors", "pageviews", "visits"),
    "country": ("visitors", "pageviews", "visits"),
    "region": ("visitors", "pageviews", "visits"),
    "city": ("visitors", "pageviews", "visits"),
    "device": ("visitors", "pageviews", "visits"),
    "browser": ("visitors", "pageviews", "visits"),
    "os": ("visitors", "pageviews", "visits"),
}
PROPERTIES = tuple(PROPERTY_METRICS)
# What a day's rollup keeps per property (rows are [value, *metrics] in this order).
# region and city are not rolled up: their breakdowns are raw-window only.
ROLLUP_PROPERTIES: dict[str, tuple[str, ...]] = {
    prop: metrics for prop, metrics in PROPERTY_METRICS.items() if prop not in ("region", "city")
}
# The row a day's rollup folds its values past the per-day limit into (docs/stats.md, "Distinct values").
OTHER_VALUE = "(other)"
# Goals and custom properties (docs/stats.md, Goals and custom properties): the goal
# breakdown, `props:<key>` breakdowns, and the page breakdown's engagement metrics.
GOAL_PROPERTY = "goal"
PROPS_PREFIX = "props:"
GOAL_METRICS = ("visitors", "events", "conversion_rate")
PROPS_METRICS = ("visitors", "events", "pageviews", "conversion_rate")
PAGE_ENGAGEMENT_METRICS = ("time_on_page", "scroll_depth")


def is_props_property(prop: str) -> bool:
    return prop.startswith(PROPS_PREFIX) and len(prop) > len(PROPS_PREFIX)


def breakdown_metrics(prop: str) -> tuple[str, ...]:
    """The metrics a breakdown by `prop` allows (the first is the default)."""
    if prop == GOAL_PROPERTY:
        return GOAL_METRICS
    if is_props_property(prop):
        return PROPS_METRICS
    if prop == "page":
        return PROPERTY_METRICS[prop] + PAGE_ENGAGEMENT_METRICS
    return PROPERTY_METRICS[prop]


# A day's rollup of goal conversions (docs/rollups.md): `goals` rows are [goal id, visitors,
# events], one per goal the site had (zeros included: a goal without a row was defined after
# the day was rolled up); `goals:<property>` rows are ["<goal id><GOAL_KEY_SEPARATOR><value>",
# visitors, events] for the properties below.
GOAL_TABLE = "goals"
GOAL_ROLLUP_PROPERTIES = ("page", "referrer", "channel", "country", "device", "browser", "os")
GOAL_KEY_SEPARATOR = "\x1f"
GOAL_ROLLUP_METRICS = ("visitors", "events")


def goal_table(prop: str) -> str:
    return f"{GOAL_TABLE}:{prop}"


def rollup_metrics(table: str) -> tuple[str, ...]:
    """The metrics of a rollup table's rows, after the value."""
    return ROLLUP_PROPERTIES.get(table) or GOAL_ROLLUP_METRICS


FILTER_PARAMETERS = ("page", "referrer", "country", "device", "browser", "os")
# A session's attributes: those of its first event.
SESSION_ATTRIBUTES = ("referrer", "channel", "country", "region", "city", "device", "browser", "os")


# `filters=` properties (aizen.query.filter_grammar) matched on goals and custom properties, not
# by the engine's conditions (aizen.query.conversions): `event:goal==<name>` alone and
# `event:props:<key>==<value>` are the `goal` and `props:<key>` filters themselves
# (aizen.query.params.ranges.RangeParams.filters); their other forms stay conditions.
CONVERSION_CONDITION_PROPERTIES = ("goal", "props")


class Condition(NamedTuple):
    """One condition of a `filters=` string: the property's value matches one of `patterns`
    (negated: none of them). Patterns take `*` and `**` (aizen.patterns); a missing value is
    `(none)`. `page` matches events, `entry_page`/`exit_page` the session's first/last
    pageview's page, the session attributes the session's first event."""

    property: str  # page, entry_page, exit_page, goal, props, or one of SESSION_ATTRIBUTES
    negated: bool
    patterns: tuple[str, ...]
    key: str | None = None  # props only: the custom property's key


class Filters(NamedTuple):
    """Exact, case-sensitive, AND-ed. `(none)` matches a missing value.

    `page` matches events; the others match the session's attributes (its first event's).
    `region` only scopes city breakdowns. `conditions` are the `filters=` parameter's, AND-ed
    with the others.
    """

    page: str | None = None
    referrer: str | None = None
    country: str | None = None
    region: str | None = None
    device: str | None = None
    browser: str | None = None
    os: str | None = None
    conditions: tuple[Condition, ...] = ()
    goal: str | None = None  # a goal's name: events that convert it
    props: tuple[tuple[str, str], ...] = ()  # (key, value): events whose prop `key` is `value`

    @property
    def session_filters(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name, value)
            for name in ("referrer", "country", "region", "device", "browser", "os")
            if (value := getattr(self, name)) is not None
        )

    @property
    def goal_filtered(self) -> bool:
        """Only conversions count: a `goal` filter or an `event:goal==…` condition (`!=` only
        drops sessions, so it makes no conversion_rate)."""
        return self.goal is not None or any(
            condition.property == "goal" and not condition.negated for condition in self.conditions
        )

    @property
    def active(self) -> bool:
        return (
            self.page is not None
            or bool(self.session_filters)
            or bool(self.conditions)
            or self.goal is not None
            or bool(self.props)
        )
