"""A cheap lookup of AttributeValue members in moto's DynamoDB responses, for the embedded store.

moto 5.2 writes every response through a generic serializer that walks the
botocore output shape. For each member of each structure it asks an attribute
picker, which tries the member's name and its aliases (snake_case, class and
shape prefixes) on the object. A DynamoDB AttributeValue is a structure of ten
members (S, N, B, SS, NS, BS, M, L, NULL, BOOL) of which one is set, so every
attribute of every item costs ten alias searches: with Aizen's 15-attribute
event items that was 90 % of the embedded store's time on a large Query.

The values moto's DynamoDB handler returns are plain dicts built by
`dynamo_to_dict` (`{"S": "…"}`, `{"B": b"…"}`, `{"M": {…}}`), keyed by the
canonical member names. `AttributeValueSerializer` looks a member up in such a
dict with `dict.get` and hands it to moto's own serializer for its type (string,
blob, list, map, boolean), so the JSON is byte for byte moto's. Every other
structure, and an AttributeValue that is not a dict, takes moto's path.

It is registered for DynamoDB's JSON protocol and acts only inside
`embedded_request()` (the embedded store's requests); elsewhere in the process,
`mock_aws` included, it is moto's serializer unchanged. `docs/local-store.md`
has the figures; `tests/integration/test_attribute_values.py` compares the bodies.
"""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from moto.core import serialize
from moto.core.model import Shape, StructureShape
from moto.core.serialize import JSONSerializer

_EMBEDDED_REQUEST: ContextVar[bool] = ContextVar("embedded_request", default=False)


class AttributeValueSerializer(JSONSerializer):
    """moto's JSON serializer, with AttributeValue members looked up by their key."""

    def _serialize_type_structure(
        self, serialized: MutableMapping[str, Any], value: Any, shape: StructureShape, key: str
    ) -> None:
        if shape.name != "AttributeValue" or not isinstance(value, dict) or not _EMBEDDED_REQUEST.get():
            super()._serialize_type_structure(serialized, value, shape, key)
            return
        wrapper: dict[str, Any] = {}
        member_shape: Shape
        for member_key, member_shape in shape.members.items():
            member_value = value.get(member_key)
            if member_value is not None:
                self._serialize(wrapper, member_value, member_shape, member_key)
        self._default_serialize(serialized, wrapper, shape, key)


def install() -> None:
    """Register the serializer for DynamoDB's JSON protocol (idempotent)."""
    serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": AttributeValueSerializer}


@contextmanager
def embedded_request() -> Iterator[None]:
    """Within: this thread's DynamoDB responses use the AttributeValue lookup."""
    token = _EMBEDDED_REQUEST.set(True)
    try:
        yield
    finally:
        _EMBEDDED_REQUEST.reset(token)
