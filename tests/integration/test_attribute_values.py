"""The embedded store's direct AttributeValue pass writes the same response bytes as moto's serializer."""

from dataclasses import dataclass
from enum import Enum
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto.core import serialize
from moto.core.serialize import AttributePicker, AttributePickerContext, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model

from aizen.settings import get_settings
from aizen_local import attribute_values

pytestmark = pytest.mark.moto_as_shipped  # they compare the patches with moto as shipped

# One attribute of every AttributeValue type, nested ones included, and the edge values.
ITEM: dict[str, Any] = {
    "pk": {"S": "site_1"},
    "sk": {"S": "every-type"},
    "s": {"S": "text, ünïcode"},
    "empty": {"S": ""},
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\xff binary"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x01", b"\x80\x81"]},
    "m": {"M": {"inner": {"M": {"deep": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\x02"}]}}}, "empty": {"M": {}}}},
    "l": {"L": [{"NULL": True}, {"BOOL": False}, {"BOOL": True}, {"L": []}, {"SS": ["z"]}]},
    "null": {"NULL": True},
    "false": {"BOOL": False},
}
KEY = {"pk": ITEM["pk"], "sk": ITEM["sk"]}


@dataclass
class RecordingClient:
    """A DynamoDB client, and the raw body of every response it received, in order."""

    client: Any
    bodies: list[bytes]


@pytest.fixture
def recording() -> RecordingClient:
    recording = RecordingClient(boto3.client("dynamodb"), [])

    def record(response_dict: dict[str, Any] | None, **_: Any) -> None:
        assert response_dict is not None
        recording.bodies.append(response_dict["body"])

    recording.client.meta.events.register("response-received.dynamodb.*", record)
    return recording


@pytest.fixture
def attribute_value_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The members moto's attribute picker searched for inside an AttributeValue."""
    searched: list[str] = []
    pick = AttributePicker.__call__

    def counted(picker: AttributePicker, context: AttributePickerContext) -> Any:
        parent = getattr(context.shape, "parent", None)
        if parent is not None and parent.name == "AttributeValue":
            searched.append(context.key)
        return pick(picker, context)

    monkeypatch.setattr(AttributePicker, "__call__", counted)
    monkeypatch.setitem(serialize.SERVICE_SPECIFIC_SERIALIZERS, "dynamodb", {})  # restored after the test
    return searched


def _every_answer(client: Any, table: str) -> None:
    """Reads and writes whose answers hold items: through every output shape that has AttributeValues."""
    client.put_item(TableName=table, Item=ITEM, ReturnValues="ALL_OLD")
    client.get_item(TableName=table, Key=KEY)
    client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": ITEM["pk"]})
    client.scan(TableName=table)
    client.batch_get_item(RequestItems={table: {"Keys": [KEY]}})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": KEY}}])
    client.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET n = n + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=table,
            Item=KEY,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    client.delete_item(TableName=table, Key=KEY, ReturnValues="ALL_OLD")


def test_embedded_responses_are_moto_responses_byte_for_byte(
    recording: RecordingClient, attribute_value_lookups: list[str]
) -> None:
    # Given the Main table, and moto's answers to every read and write that returns items
    table = get_settings().main_table
    _every_answer(recording.client, table)
    moto_bodies = list(recording.bodies)
    moto_lookups = len(attribute_value_lookups)

    # When the same requests are answered as the embedded store answers them
    recording.bodies.clear()
    attribute_values.install()
    with attribute_values.embedded_request():
        _every_answer(recording.client, table)

    # Then every body is the same, byte for byte, and no AttributeValue member went through the alias search
    assert recording.bodies == moto_bodies
    assert len(moto_bodies) == 9
    # every answer but the first PutItem's (no old item) carried the item, the failed condition's error included
    assert [b'"bs": {"BS": ["AQ==", "gIE="]}' in body for body in moto_bodies] == [False] + [True] * 8
    assert moto_lookups > 0
    assert attribute_value_lookups[moto_lookups:] == []


def test_outside_the_embedded_store_moto_serializes_as_before(attribute_value_lookups: list[str]) -> None:
    # Given the serializer registered (as in a process that runs the embedded store)
    attribute_values.install()

    # When a request is answered outside the embedded store (here: mock_aws in process)
    boto3.client("dynamodb").put_item(TableName=get_settings().main_table, Item=ITEM)
    boto3.client("dynamodb").get_item(TableName=get_settings().main_table, Key=KEY)

    # Then moto's own member search answered it
    assert attribute_value_lookups


class Colour(Enum):
    RED = "red"


def test_values_the_direct_pass_does_not_handle_are_written_by_moto() -> None:
    # Given a GetItem answer with values no DynamoDB item holds, but moto's serializer accepts
    odd: dict[str, Any] = {
        "Item": {
            "none_in_list": {"L": [None, {"S": "x"}]},
            "enum": {"S": Colour.RED},
            "tuple_set": {"SS": ("a", "b")},
            "object": SimpleNamespace(S="picked by attribute"),
            "usual": {"N": "1"},
        }
    }
    operation = get_service_model("dynamodb").operation_model("GetItem")

    def body(serializer: type[JSONSerializer]) -> Any:
        return serializer(operation_model=operation, value_picker=XFormedAttributePicker()).serialize(odd)["body"]

    # When moto's serializer and the embedded store's write it
    with attribute_values.embedded_request():
        embedded = body(attribute_values.AttributeValueSerializer)

    # Then the bytes are the same
    assert embedded == body(JSONSerializer)
    assert '"object": {"S": "picked by attribute"}' in embedded
