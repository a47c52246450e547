"""Domain errors: status, code and the RFC 6750 challenges they carry."""

import re

import pytest

from aizen import errors
from aizen.errors import (
    AizenError,
    Forbidden,
    InsufficientScope,
    InvalidToken,
    RateLimited,
    ServiceUnavailable,
    SessionRequired,
    Unauthorized,
)

# RFC 6750 §3: error_description is a quoted string of %x20-21 / %x23-5B / %x5D-7E.
DESCRIPTION = re.compile(r'error_description="([\x20\x21\x23-\x5b\x5d-\x7e]*)"')


def test_unauthorized_carries_the_plain_challenge() -> None:
    assert Unauthorized("no token").headers == {"WWW-Authenticate": 'Bearer realm="aizen"'}


def test_invalid_token_challenge_names_the_error_and_describes_it() -> None:
    error = InvalidToken("The API key has expired")

    assert error.status == 401
    assert error.code == "unauthorized"
    assert error.headers == {
        "WWW-Authenticate": 'Bearer realm="aizen", error="invalid_token", error_description="The API key has expired"'
    }


def test_insufficient_scope_is_a_403_with_its_challenge() -> None:
    error = InsufficientScope("The API key lacks the stats:read scope")

    assert error.status == 403
    assert error.code == "forbidden"
    assert error.headers == {
        "WWW-Authenticate": (
            'Bearer realm="aizen", error="insufficient_scope", '
            'error_description="The API key lacks the stats:read scope"'
        )
    }


@pytest.mark.parametrize("kind", [InvalidToken, InsufficientScope])
def test_double_quotes_cannot_break_out_of_the_description(kind: type[AizenError]) -> None:
    error = kind('the "quoted" word')

    challenge = error.headers["WWW-Authenticate"]
    match = DESCRIPTION.search(challenge)
    assert match is not None
    assert match.group(1) == "the 'quoted' word"
    assert challenge.endswith("\"the 'quoted' word\"")


def test_billing_refusal_has_no_bearer_challenge() -> None:
    assert "WWW-Authenticate" not in Forbidden("plan").headers


def test_session_required_is_401_without_a_bearer_challenge() -> None:
    error = SessionRequired("sign in")

    assert (error.status, error.code) == (401, "unauthorized")
    assert error.headers == {}


def test_service_unavailable_asks_clients_to_retry_later() -> None:
    error = ServiceUnavailable("busy")

    assert (error.status, error.code) == (503, "service_unavailable")
    assert int(error.headers["Retry-After"]) >= 1


def test_headers_are_not_shared_between_instances() -> None:
    first = RateLimited("slow down", headers={"Retry-After": "5"})
    second = Unauthorized("who")

    first.headers["X-Extra"] = "1"

    assert "X-Extra" not in second.headers
    assert "X-Extra" not in Unauthorized("other").headers


def test_message_is_the_string_form() -> None:
    assert str(Forbidden("nope")) == "nope"


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("InvalidRequest", 400, "invalid_request"),
        ("Unauthorized", 401, "unauthorized"),
        ("Forbidden", 403, "forbidden"),
        ("NotFound", 404, "not_found"),
        ("MethodNotAllowed", 405, "method_not_allowed"),
        ("UnsupportedQuery", 422, "unsupported_query"),
        ("RateLimited", 429, "rate_limited"),
        ("ServiceUnavailable", 503, "service_unavailable"),
    ],
)
def test_codes_and_statuses_follow_the_design(name: str, status: int, code: str) -> None:
    error_class = getattr(errors, name)

    assert (error_class.status, error_class.code) == (status, code)
