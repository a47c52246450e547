"""A site's goals: what counts as a conversion (docs/stats.md, Goals)."""

from dataclasses import dataclass

from aizen.patterns import wildcard

MAX_GOALS_PER_SITE = 100
OUTBOUND_CLICK_EVENT = "Outbound Link: Click"  # the tracker's name for outbound clicks


@dataclass(frozen=True, slots=True)
class Goal:
    """Exactly one of `event_name` and `page_pattern` is set.

    `name` is what breakdowns show and `goal=` filters name: the display name when one
    was given, else the event name, else `Visit <page pattern>` (Plausible's convention).
    """

    goal_id: str
    name: str
    event_name: str | None = None
    page_pattern: str | None = None
    created_at: int = 0  # unix seconds

    def matches_page(self, page: str) -> bool:
        """A pageview of `page` converts this (page) goal."""
        return self.page_pattern is not None and wildcard(self.page_pattern).fullmatch(page) is not None
