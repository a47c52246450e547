"""Fixed-window rate limits (docs/api.md, Rate limits): per client address, per API key, per site.

Two per-address windows: the API's (`ip#<address>`, `ip_limit_per_minute`, shared by the stats
and key-management routes) and ingestion's own (`ip#event#<address key>`,
`event_ip_limit_per_minute`, a keyed hash of the visitor's address:
`aizen.ingest.visitors.address_key`), so a site's visitors behind one address never spend a
developer's API budget, nor the other way round. An address is an IPv4 address or an IPv6 /64
(`address_window`). Per site: the stats routes' hourly ceiling across the site's keys
(`site#<site>`) and ingestion's ceiling of events a minute (`site#event#<site>`).
"""

import ipaddress
import math
from typing import NamedTuple

from aizen import clock
from aizen.errors import RateLimited
from aizen.store import counters


class RateLimitState(NamedTuple):
    limit: int
    remaining: int
    reset: int  # Unix seconds when the window resets

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def consume(counter: str, limit: int, window_seconds: int, what: str) -> RateLimitState:
    """Count one request in the current window, or raise 429 when it is full."""
    now = clock.now()
    window_start = int(now // window_seconds) * window_seconds
    window_end = window_start + window_seconds
    count = counters.increment_window(counter, window_start, window_end, limit)
    if count is None:
        retry_after = max(1, math.ceil(window_end - now))
        raise RateLimited(
            f"Rate limit exceeded: {limit} requests per {what}; retry in {retry_after} s",
            headers={
                "Retry-After": str(retry_after),
                "Cache-Control": "no-store",
                **RateLimitState(limit, 0, window_end).headers(),
            },
        )
    return RateLimitState(limit=limit, remaining=limit - count, reset=window_end)


def address_window(ip: str) -> str:
    """What one per-address window counts: an IPv4 address, or the /64 network of an IPv6 address
    (one subscriber's usual allocation: a window per IPv6 address would give each client 2^64)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip  # API Gateway always gives an address; anything else is its own window
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def consume_ip(ip: str, limit: int) -> RateLimitState:
    """The API's per-address window: the stats and key-management routes."""
    return consume(f"ip#{address_window(ip)}", limit, 60, "minute per IP address")


def consume_event_ip(address_key: str, limit: int) -> RateLimitState:
    """Ingestion's own per-address window, apart from the API's; `address_key` stands for the
    address's window (`address_window`)."""
    return consume(f"ip#event#{address_key}", limit, 60, "minute per IP address for events")


def consume_key(key_id: str, limit: int) -> RateLimitState:
    return consume(f"key#{key_id}", limit, 3600, "hour per API key")


def consume_site(site_id: str, limit: int) -> RateLimitState:
    """The stats routes' hourly ceiling of a site, across all its keys."""
    return consume(f"site#{site_id}", limit, 3600, "hour per site, all its API keys together")


def consume_site_events(site_id: str, limit: int) -> RateLimitState:
    """Ingestion's ceiling of a site's events a minute, all its visitors together."""
    return consume(f"site#event#{site_id}", limit, 60, "minute per site for events")
