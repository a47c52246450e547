"""The X-RateLimit-* headers of a rate-limit window."""

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
