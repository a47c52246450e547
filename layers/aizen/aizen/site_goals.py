"""Managing a site's goals: `GET|POST /api/sites/{siteId}/goals`, `DELETE …/goals/{goalId}` and
`aizen goals` (docs/api.md, "Goals"). What a goal counts is `aizen.goals.Goal`'s business."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aizen import clock
from aizen.auth.billing import require_api_access
from aizen.auth.keys import owned_site, time_ordered_id
from aizen.errors import NotFound
from aizen.goals import MAX_GOALS_PER_SITE, Goal
from aizen.ingest.custom import ENGAGEMENT_EVENT, MAX_NAME_CHARS, PAGEVIEW_EVENT
from aizen.models import Site
from aizen.store import goals as goal_store

MAX_PAGE_PATTERN_CHARS = 2_000
MAX_DISPLAY_NAME_CHARS = 120
# The create body's own limit, checked before it is parsed (413): a 2,000-character pattern and a
# 120-character name take at most ~26 KB even as JSON escapes of surrogate pairs.
MAX_GOAL_BODY_BYTES = 32 * 1024
GOALS_NEED_API_ACCESS = "Goals are unavailable for this site: the site owner's plan does not include API access"


class CreateGoalRequest(BaseModel):
    """Body of POST /api/sites/{siteId}/goals: exactly one of `event` and `page`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "description": f"Body of POST /api/sites/{{siteId}}/goals: at most {MAX_GOAL_BODY_BYTES} bytes;"
            " exactly one of event and page"
        },
    )

    event: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="A custom event's name, exactly as the tracker sends it (case-sensitive)",
    )
    page: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PAGE_PATTERN_CHARS,
        pattern=r"^/",
        description="A page path pattern: `*` is any characters but `/`, `**` any characters; the rest matches"
        " itself (pageviews of a matching page convert)",
    )
    display_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DISPLAY_NAME_CHARS,
        description="What breakdowns show and goal filters name; default: the event name, or `Visit <page>`",
    )

    @field_validator("event", "display_name")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("event")
    @classmethod
    def _custom_event(cls, value: str | None) -> str | None:
        if value in (PAGEVIEW_EVENT, ENGAGEMENT_EVENT):
            raise ValueError(f"{value} is not a custom event; a goal for pageviews is a page goal (page)")
        return value

    @model_validator(mode="after")
    def _one_definition(self) -> "CreateGoalRequest":
        if (self.event is None) == (self.page is None):
            raise ValueError("exactly one of event and page is required")
        return self


class GoalView(BaseModel):
    """A goal as the goal endpoints and `aizen goals` show it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str = Field(description="What breakdowns show and goal filters name")
    event: str | None = Field(description="The custom event's name (event goals), else null")
    page: str | None = Field(description="The page path pattern (page goals), else null")
    created_at: int = Field(description="Unix seconds")


class GoalList(BaseModel):
    """Answer of GET /api/sites/{siteId}/goals: oldest first."""

    model_config = ConfigDict(extra="forbid")

    goals: list[GoalView]


class CreatedGoal(BaseModel):
    """Answer of POST /api/sites/{siteId}/goals."""

    model_config = ConfigDict(extra="forbid")

    goal: GoalView


class DeletedGoal(BaseModel):
    """Answer of DELETE /api/sites/{siteId}/goals/{goalId}."""

    model_config = ConfigDict(extra="forbid")

    ok: Literal[True]


def goal_name(event: str | None, page: str | None, display_name: str | None) -> str:
    """The display name when given, else the event name, else `Visit <page>` (Plausible's convention)."""
    if display_name is not None:
        return display_name
    if event is not None:
        return event
    return f"Visit {page}"


def managed_site(user_id: str, site_id: str) -> Site:
    """The site whose goals the signed-in user manages: it exists (404), the user owns it (403),
    and the owner's plan includes API access (403): goals are counted for the stats API, which
    the plan gates. Key management needs no plan: revoking a key must always be possible."""
    site = owned_site(user_id, site_id, "goals")
    require_api_access(site, GOALS_NEED_API_ACCESS)
    return site


def create_goal(site_id: str, request: CreateGoalRequest) -> Goal:
    """A new goal; 409 when the site has MAX_GOALS_PER_SITE goals, or one with the same event name,
    page pattern or name."""
    goal = Goal(
        goal_id=time_ordered_id(),
        name=goal_name(request.event, request.page, request.display_name),
        event_name=request.event,
        page_pattern=request.page,
        created_at=int(clock.now()),
    )
    goal_store.create_goal(site_id, goal, MAX_GOALS_PER_SITE)
    return goal


def site_goals(site_id: str) -> list[Goal]:
    return goal_store.list_goals(site_id)


def delete_goal(site_id: str, goal_id: str) -> None:
    """Delete a goal of this site (404 when it has none of this id); its slot is free at once."""
    goal = goal_store.get_goal(site_id, goal_id)
    if goal is None:
        raise NotFound(f"Goal {goal_id} not found for site {site_id}")
    goal_store.delete_goal(site_id, goal)


def goal_view(goal: Goal) -> dict[str, Any]:
    return GoalView(
        id=goal.goal_id, name=goal.name, event=goal.event_name, page=goal.page_pattern, created_at=goal.created_at
    ).model_dump()
