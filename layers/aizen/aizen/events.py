"""The raw event: what ingestion stores and what the query engine counts (docs/stats.md, Counting)."""

from dataclasses import dataclass
from typing import Literal

# A custom event is an interaction (a session with one pageview and one custom event did not
# bounce) unless the tracker marked it `interactive: false`; engagement events report time
# and scroll on a page view and are neither pageviews nor interactions (docs/ingestion.md).
EventKind = Literal["pageview", "outbound_click", "custom", "engagement"]
NONE_VALUE = "(none)"  # how a missing value is reported and filtered, for every property
# The furthest an event's time lies ahead of the clock: ingestion stamps the clock's time, and
# imports accept a minute of clock skew. Raw reads stop there (aizen.query.planner).
FUTURE_SKEW_MS = 60_000


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One pageview, outbound click, custom event or engagement report, already enriched.

    A slotted dataclass rather than a pydantic model: the query engine reads
    millions of these, and they are built only from validated input or from the
    store's own items.
    """

    site_id: str
    timestamp_ms: int  # UTC, milliseconds
    kind: EventKind
    visitor_id: str  # hash of (daily salt, site, ip, user agent); 16 hex characters
    page: str  # path (with the fragment in hash mode), no query string
    referrer: str | None = None  # external referrer host without www.
    channel: str | None = None  # GA4 default channel group
    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None  # ISO 3166-2, e.g. US-CA
    city: str | None = None
    device: str | None = None  # desktop | mobile | tablet
    browser: str | None = None
    os: str | None = None
    link: str | None = None  # outbound_click only: the clicked URL
    name: str | None = None  # custom only: the event name as sent (at most 120 characters)
    props: str | None = None  # custom props as a JSON object with sorted keys, string values; None when none
    interactive: bool = True  # custom only: False when the tracker sent `i: false`
    engaged_ms: int | None = None  # engagement only: engaged milliseconds since the page view's last report
    scroll_depth: int | None = None  # engagement only: deepest scroll on the page so far, percent 0-100


DEVICES = ("desktop", "mobile", "tablet")

# The GA4 default channel groups (https://support.google.com/analytics/answer/9756891).
# A group's index here is its stored code (aizen.store.events): append only, never reorder.
CHANNELS = (
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Email",
    "Affiliates",
    "Referral",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "Unassigned",
)
