"""validation: pydantic failures become one sentence naming the public field."""

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aizen.auth.keys import CreateKeyRequest
from aizen.errors import InvalidRequest, PayloadTooLarge
from aizen.validation import describe, parse_json_body


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int
    end: int


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=1000)
    page_number: int = Field(default=1, ge=1, alias="pageNumber")
    window: Window | None = None


def problem(model: type[BaseModel], data: object) -> str:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    return describe(raised.value, model)


def test_missing_field_is_named() -> None:
    assert problem(CreateKeyRequest, {}) == "name is required"


def test_unknown_field_is_named_with_the_allowed_list_using_public_names() -> None:
    assert problem(CreateKeyRequest, {"name": "x", "colour": "red"}) == (
        "Unknown field colour; allowed fields: name, expiresAt"
    )


def test_a_typo_is_reported_as_the_unknown_field_not_the_missing_one() -> None:
    assert problem(CreateKeyRequest, {"nmae": "x"}).startswith("Unknown field nmae;")


def test_value_error_names_the_field_and_the_rule() -> None:
    message = problem(Query, {"limit": 0})

    assert message.startswith("limit: ")
    assert "greater than or equal to 1" in message


def test_value_error_uses_the_alias() -> None:
    assert problem(Query, {"pageNumber": 0}).startswith("pageNumber: ")


def test_custom_validator_message_loses_the_value_error_prefix() -> None:
    assert problem(CreateKeyRequest, {"name": "   "}) == "name: must not be blank"


def test_nested_field_is_named_with_its_path() -> None:
    assert problem(Query, {"window": {"start": 1}}) == "window.end is required"


def test_a_non_object_is_described_as_the_body() -> None:
    assert problem(Query, [1, 2]).startswith("body: ")


@pytest.mark.parametrize("body", [None, "", "{", "[1, 2]", '"text"', "null", "42"])
def test_json_body_must_be_an_object(body: str | None) -> None:
    with pytest.raises(InvalidRequest, match="The request body must be a JSON object"):
        parse_json_body(CreateKeyRequest, body)


def test_json_body_field_errors_name_the_field() -> None:
    with pytest.raises(InvalidRequest, match=r"^name: "):
        parse_json_body(CreateKeyRequest, '{"name": ""}')


def test_json_body_is_parsed() -> None:
    request = parse_json_body(CreateKeyRequest, '{"name": "Production reporting"}')

    assert request.name == "Production reporting"
    assert request.expires_at is None


def test_a_body_over_max_bytes_is_too_large_before_it_is_parsed() -> None:
    # Given a body one byte over the limit that is not even JSON
    body = b"{" * 65

    # When it is parsed with a 64-byte limit
    with pytest.raises(PayloadTooLarge) as raised:
        parse_json_body(CreateKeyRequest, body, max_bytes=64)

    # Then it is refused for its size (413), not for its content (400)
    assert raised.value.status == 413
    assert raised.value.code == "payload_too_large"
    assert str(raised.value) == "body: 65 bytes is over the 64-byte limit"


def test_a_body_of_exactly_max_bytes_is_parsed() -> None:
    body = '{"name": "k"}'.ljust(64)

    assert parse_json_body(CreateKeyRequest, body, max_bytes=64).name == "k"


def test_the_limit_counts_bytes_not_characters() -> None:
    # 20 characters of 3 bytes each in UTF-8: 72 bytes, 32 characters
    body = '{"name": "' + "✓" * 20 + '"}'

    with pytest.raises(PayloadTooLarge, match="72 bytes"):
        parse_json_body(CreateKeyRequest, body, max_bytes=64)
