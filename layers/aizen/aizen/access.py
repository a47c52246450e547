"""The gates in front of the API: the stats endpoints (IP limit, bearer auth, key limit, the site's
ceiling across its keys) and key management (the same IP window, before the session cookie is read)."""

from typing import NamedTuple

from aizen import clock
from aizen.auth import bearer
from aizen.models import Site
from aizen.ratelimit import RateLimitState, consume_ip, consume_key, consume_site
from aizen.settings import get_settings
from aizen.store import accounts


class StatsAccess(NamedTuple):
    site: Site
    key_id: str
    rate_limit: RateLimitState


def authorize_stats_request(authorization: str | None, client_ip: str) -> StatsAccess:
    """Per-IP limit first (before the token is looked at), then the key and its limit, then the
    site's hourly ceiling across its keys (a site's 25 keys would otherwise give it 25 key limits)."""
    settings = get_settings()
    consume_ip(client_ip, settings.ip_limit_per_minute)
    principal = bearer.authenticate(authorization)
    rate_limit = consume_key(principal.key_id, settings.key_limit_per_hour)
    consume_site(principal.site.id, settings.site_stats_limit_per_hour)
    accounts.touch_api_key(principal.site.id, principal.key_id, int(clock.now()), settings.last_used_resolution_seconds)
    return StatsAccess(site=principal.site, key_id=principal.key_id, rate_limit=rate_limit)


def limit_key_management_request(client_ip: str) -> None:
    """Key and goal management: the API's per-IP window, shared with the stats routes, counted
    before the session cookie (or anything else of the request) is looked at."""
    consume_ip(client_ip, get_settings().ip_limit_per_minute)
