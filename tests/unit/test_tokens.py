"""API token format, prefix extraction, hashing and the masked preview."""

import hashlib
import hmac
import re
import secrets

import pytest

from aizen.auth import tokens
from aizen.auth.tokens import api_token_prefix, hash_matches, new_api_token, preview, secret_hash

TOKEN_SHAPE = re.compile(r"^aiz_live_[0-9a-f]{12}_[0-9a-f]{64}$")
VALID = "aiz_live_8c31d4a0d1e9_" + "7f0d9a" + "0" * 58


def test_new_token_has_the_documented_format() -> None:
    token = new_api_token()

    assert TOKEN_SHAPE.fullmatch(token.token)
    assert token.token.startswith(token.key_prefix + "_")
    assert re.fullmatch(r"aiz_live_[0-9a-f]{12}", token.key_prefix)


def test_new_token_secret_carries_at_least_256_bits() -> None:
    secret = new_api_token().token.rsplit("_", 1)[1]

    assert len(secret) * 4 >= 256  # hex digits carry 4 bits each


def test_new_tokens_are_unique() -> None:
    drawn = {new_api_token().token for _ in range(200)}
    prefixes = {token.split("_")[2] for token in drawn}

    assert len(drawn) == 200
    assert len(prefixes) == 200


def test_new_token_secret_comes_from_the_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a CSPRNG that returns a known sequence
    drawn: list[int] = []

    def fake_token_hex(nbytes: int) -> str:
        drawn.append(nbytes)
        return "ab" * nbytes

    monkeypatch.setattr(secrets, "token_hex", fake_token_hex)

    # When a token is drawn
    token = new_api_token()

    # Then 6 bytes make the prefix and 32 bytes (256 bits) the secret
    assert drawn == [6, 32]
    assert token.token == "aiz_live_" + "ab" * 6 + "_" + "ab" * 32


def test_prefix_of_a_well_formed_token() -> None:
    assert api_token_prefix(VALID) == "aiz_live_8c31d4a0d1e9"


def test_prefix_of_a_freshly_issued_token_is_its_key_prefix() -> None:
    token = new_api_token()

    assert api_token_prefix(token.token) == token.key_prefix


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("aiz_live_", id="prefix-only"),
        pytest.param("aiz_live_8c31d4a0d1e9", id="no-secret"),
        pytest.param("aiz_live_8c31d4a0d1e9_", id="empty-secret"),
        pytest.param("aiz_test_8c31d4a0d1e9_" + "0" * 64, id="other-environment"),
        pytest.param("AIZ_LIVE_8c31d4a0d1e9_" + "0" * 64, id="upper-case-marker"),
        pytest.param("aiz_live_8C31D4A0D1E9_" + "0" * 64, id="upper-case-hex"),
        pytest.param("aiz_live_8c31d4a0d1e_" + "0" * 64, id="prefix-11-hex"),
        pytest.param("aiz_live_8c31d4a0d1e9a_" + "0" * 64, id="prefix-13-hex"),
        pytest.param("aiz_live_8c31d4a0d1e9_" + "0" * 63, id="secret-63-hex"),
        pytest.param("aiz_live_8c31d4a0d1e9_" + "0" * 65, id="secret-65-hex"),
        pytest.param("aiz_live_8c31d4a0d1eg_" + "0" * 64, id="non-hex-prefix"),
        pytest.param("aiz_live_8c31d4a0d1e9_" + "z" * 64, id="non-hex-secret"),
        pytest.param("aiz_live_8c31d4a0d1e9-" + "0" * 64, id="wrong-separator"),
        pytest.param(" " + VALID, id="leading-space"),
        pytest.param(VALID + " ", id="trailing-space"),
        pytest.param(VALID + "\n", id="trailing-newline"),
        pytest.param("Bearer " + VALID, id="scheme-included"),
        pytest.param("aiz_live_8c31d4a0d1e9_" + "0" * 32 + "_" + "0" * 31, id="extra-separator"),
    ],
)
def test_malformed_tokens_have_no_prefix(token: str) -> None:
    assert api_token_prefix(token) is None


def test_secret_hash_is_hex_sha256() -> None:
    assert secret_hash(VALID) == hashlib.sha256(VALID.encode()).hexdigest()


def test_hash_matches_the_token_it_was_made_from() -> None:
    assert hash_matches(VALID, secret_hash(VALID))


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(secret_hash(VALID[:-1] + "1"), id="other-token"),
        pytest.param(secret_hash(VALID).upper(), id="upper-case-hash"),
        pytest.param(VALID, id="plaintext-token-stored"),
        pytest.param("", id="empty"),
    ],
)
def test_hash_does_not_match_anything_else(stored: str) -> None:
    assert not hash_matches(VALID, stored)


def test_hash_matches_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a spy on hmac.compare_digest
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)

    # When a token is checked against a stored hash
    matched = hash_matches(VALID, secret_hash(VALID))

    # Then the comparison went through compare_digest, hash against hash
    assert matched
    assert compared == [(secret_hash(VALID), secret_hash(VALID))]


def test_preview_masks_the_secret_with_32_asterisks() -> None:
    assert preview("aiz_live_8c31d4a0d1e9") == "aiz_live_8c31d4a0d1e9_" + "*" * 32


def test_preview_matches_the_seed_document() -> None:
    assert preview("aiz_live_8c31d4a0d1e9") == "aiz_live_8c31d4a0d1e9_********************************"


def test_preview_reveals_nothing_of_the_secret() -> None:
    token = new_api_token()
    secret = token.token.rsplit("_", 1)[1]

    shown = preview(token.key_prefix)

    assert secret[:4] not in shown
    assert shown.endswith("_" + "*" * 32)


def test_session_tokens_are_long_random_and_distinct() -> None:
    drawn = {tokens.new_session_token() for _ in range(100)}

    assert len(drawn) == 100
    assert all(len(token) >= 43 for token in drawn)  # 32 bytes of urlsafe base64


def test_every_issued_session_token_has_the_shape_the_cookie_check_accepts() -> None:
    # Given many freshly issued session tokens (the last character varies the least: test many)
    drawn = [tokens.new_session_token() for _ in range(2000)]

    # Then each one passes the shape check, so no real session is ever refused as malformed
    assert all(tokens.is_session_token(token) for token in drawn)
    assert {len(token) for token in drawn} == {43}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("A" * 42, id="one-short"),
        pytest.param("A" * 44, id="one-long"),
        pytest.param("A" * 10_000, id="overlong"),
        pytest.param("A" * 42 + "+", id="base64-not-urlsafe"),
        pytest.param("A" * 42 + "$", id="wrong-charset"),
        pytest.param("A" * 42 + "=", id="padding"),
        pytest.param("A" * 41 + "é", id="non-ascii"),
        pytest.param(" " + "A" * 42, id="space"),
        pytest.param('"' + "A" * 41 + '"', id="quoted"),
        pytest.param("A" * 43 + "\n", id="trailing-newline"),
        pytest.param(VALID, id="an-api-token"),
    ],
)
def test_malformed_session_tokens_are_recognised(value: str) -> None:
    assert not tokens.is_session_token(value)


def test_a_well_formed_session_token_is_recognised() -> None:
    assert tokens.is_session_token("Qm9v" + "a1_-" * 9 + "Z9w")
