"""The X-RateLimit-* headers of a rate-limit window, and what one per-address window counts."""

import pytest

from aizen import ratelimit
from aizen.ratelimit import RateLimitState


def test_headers_carry_limit_remaining_and_reset_as_strings() -> None:
    state = RateLimitState(limit=600, remaining=599, reset=1_775_160_000)

    assert state.headers() == {
        "X-RateLimit-Limit": "600",
        "X-RateLimit-Remaining": "599",
        "X-RateLimit-Reset": "1775160000",
    }


def test_headers_of_an_exhausted_window() -> None:
    assert RateLimitState(limit=5, remaining=0, reset=60).headers()["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize(
    ("ip", "window"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("not an address", "not an address"),
    ],
)
def test_an_address_window_is_an_ipv4_address_or_an_ipv6_64(ip: str, window: str) -> None:
    assert ratelimit.address_window(ip) == window
