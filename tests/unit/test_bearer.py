"""Parsing the Authorization header: only `Bearer <token>` yields a token."""

import pytest

from aizen.auth.bearer import bearer_token
from aizen.errors import InvalidToken, Unauthorized

PLAIN_CHALLENGE = 'Bearer realm="aizen"'


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("", id="empty-header"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic-scheme"),
        pytest.param("Token aiz_live_x", id="token-scheme"),
        pytest.param("Bearer:aiz_live_x", id="colon-not-space"),
        pytest.param("aiz_live_8c31d4a0d1e9_" + "0" * 64, id="bare-token"),
    ],
)
def test_no_bearer_credentials_is_unauthorized_with_the_plain_challenge(authorization: str | None) -> None:
    with pytest.raises(Unauthorized) as raised:
        bearer_token(authorization)

    # Exactly Unauthorized: InvalidToken is a subclass and would carry error="invalid_token".
    assert type(raised.value) is Unauthorized
    assert raised.value.status == 401
    assert raised.value.code == "unauthorized"
    assert raised.value.headers == {"WWW-Authenticate": PLAIN_CHALLENGE}


@pytest.mark.parametrize("authorization", ["Bearer ", "Bearer", "Bearer    ", "bearer \t "])
def test_bearer_scheme_without_a_token_is_an_invalid_token(authorization: str) -> None:
    with pytest.raises(InvalidToken) as raised:
        bearer_token(authorization)

    assert 'error="invalid_token"' in raised.value.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer    abc  ", "abc"),
        ("  Bearer abc", "abc"),
    ],
)
def test_the_token_is_taken_from_the_bearer_credentials(authorization: str, token: str) -> None:
    assert bearer_token(authorization) == token
