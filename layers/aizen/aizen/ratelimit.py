"""Fixed-window rate limits (docs/api.md, Rate limits): per client IP, then per API key.

Two per-IP windows, each `ip_limit_per_minute` a minute: the API's (`ip#<ip>`, shared by
the stats and key-management routes) and ingestion's own (`ip#event#<address key>`, a keyed hash of the
visitor's address: `aizen.ingest.visitors.address_key`), so a site's visitors behind one
address never spend a developer's API budget, nor the other way round.
"""

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


def consume_ip(ip: str, limit: int) -> RateLimitState:
    """The API's per-IP window: the stats and key-management routes."""
    return consume(f"ip#{ip}", limit, 60, "minute per IP address")


def consume_event_ip(address_key: str, limit: int) -> RateLimitState:
    """Ingestion's own per-IP window, apart from the API's; `address_key` stands for the address."""
    return consume(f"ip#event#{address_key}", limit, 60, "minute per IP address for events")


def consume_key(key_id: str, limit: int) -> RateLimitState:
    return consume(f"key#{key_id}", limit, 3600, "hour per API key")
