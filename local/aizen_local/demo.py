"""The demo tenant `aizen serve` seeds: an owner with billing, a site with goals, a session, a key, traffic."""

from dataclasses import dataclass
from datetime import UTC, datetime

from aizen import admin, clock, site_goals
from aizen.auth.keys import issue_api_key, revoke_api_key, site_keys
from aizen.auth.sessions import NewSession, start_session
from aizen.errors import KeyLimitReached
from aizen.importing.service import ImportSummary, import_events
from aizen.models import Site, User
from aizen.store import accounts
from aizen_local.traffic import TrafficPlan, ndjson_lines

DEMO_USER_ID = "user_demo"
DEMO_SITE_ID = "site_demo"
DEMO_EMAIL = "demo@aizen.test"
DEMO_DOMAIN = "demo.aizen.test"
DEMO_TIMEZONE = "America/Los_Angeles"
DEMO_KEY_NAME = "Demo key (aizen serve)"
# What the demo traffic converts (aizen_local.traffic): its custom events and two page goals.
DEMO_GOALS = (
    site_goals.CreateGoalRequest(event="Signup"),
    site_goals.CreateGoalRequest(event="File Download", display_name="Downloads"),
    site_goals.CreateGoalRequest(event="404", display_name="404 pages"),
    site_goals.CreateGoalRequest(page="/pricing"),
    site_goals.CreateGoalRequest(page="/docs/**"),
)


@dataclass(frozen=True)
class DemoTenant:
    user: User
    site: Site
    session: NewSession
    api_key: str
    traffic: ImportSummary | None  # None when the site existed already (its traffic too)


def seed_demo() -> DemoTenant:
    """Create the demo owner and site if missing; always a fresh session and key.

    Secrets are stored only as hashes, so a restarted stack cannot show the old
    ones again: it issues new ones instead.
    """
    user = accounts.get_user(DEMO_USER_ID) or admin.create_user(DEMO_EMAIL, user_id=DEMO_USER_ID)
    existing = accounts.get_site(DEMO_SITE_ID)
    site = existing or admin.create_site(DEMO_DOMAIN, DEMO_TIMEZONE, user.id, site_id=DEMO_SITE_ID)
    session = start_session(user.id)
    token = _demo_key(site.id, user.id)
    if not existing:
        for goal in DEMO_GOALS:
            site_goals.create_goal(site.id, goal)
    traffic = None if existing else seed_traffic(site)
    return DemoTenant(user=user, site=site, session=session, api_key=token, traffic=traffic)


def _demo_key(site_id: str, user_id: str) -> str:
    """A fresh demo key. A store kept across restarts (AWS_ENDPOINT_URL_DYNAMODB) gathers one per
    start: at the site's limit of active keys, the oldest demo key is revoked to make room."""
    try:
        return issue_api_key(site_id, user_id, DEMO_KEY_NAME, None)[1]
    except KeyLimitReached:
        demo_keys = [key for key in site_keys(site_id) if key.name == DEMO_KEY_NAME and key.revoked_at is None]
        if not demo_keys:
            raise
        revoke_api_key(site_id, demo_keys[-1].id)  # newest first: the last is the oldest
        return issue_api_key(site_id, user_id, DEMO_KEY_NAME, None)[1]


DEMO_HISTORY_DAYS = 400


def seed_traffic(site: Site) -> ImportSummary:
    """More than a year of generated traffic, through the import path.

    The raw window's days are stored raw; older days become rollups directly, as with
    any import of history. The site is new, so its finished days are rolled up from the
    imported events at once and the stack answers long ranges from rollups right away.
    """
    plan = TrafficPlan(site.domain, site.timezone, datetime.fromtimestamp(clock.now(), UTC), days=DEMO_HISTORY_DAYS)
    return import_events(site.id, ndjson_lines(plan), fresh_site=True)


def curl_lines(api_url: str, tenant: DemoTenant) -> list[str]:
    site = tenant.site.id
    bearer = f"-H 'Authorization: Bearer {tenant.api_key}'"
    cookie = f"-H 'Cookie: {tenant.session.cookie}'"
    origin = f"-H 'Origin: {api_url}'"
    return [
        f"curl -i '{api_url}/api/v1/stats/aggregate?period=30d&metrics=visitors,pageviews,bounce_rate' {bearer}",
        f"curl -s '{api_url}/api/v1/stats/aggregate?period=12m&metrics=visitors,pageviews,bounce_rate,visit_duration' "
        f"{bearer}",
        f"curl -s '{api_url}/api/v1/stats/timeseries?period=12m&interval=month&metrics=visitors,pageviews' {bearer}",
        f"curl -s '{api_url}/api/v1/stats/breakdown?period=30d&property=exit_link&metrics=clicks&sort=clicks.desc"
        f"&limit=10' {bearer}",
        f"curl -s '{api_url}/api/v1/stats/breakdown?period=30d&property=goal&metrics=visitors,events,conversion_rate' "
        f"{bearer}",
        f"curl -i '{api_url}/api/v1/stats/realtime?minutes=10' {bearer}",
        f"curl -s '{api_url}/api/sites/{site}/goals' {cookie}",
        f"curl -s '{api_url}/api/sites/{site}/api-keys' {cookie}",
        f"curl -s -X POST '{api_url}/api/sites/{site}/api-keys' {cookie} {origin} "
        "-H 'Content-Type: application/json' -d '{\"name\": \"Production reporting\"}'",
        f"curl -s -X DELETE '{api_url}/api/sites/{site}/api-keys/<key id>' {cookie} {origin}",
    ]
