"""A direct serialization of AttributeValues in moto's DynamoDB responses, for the embedded store.

moto 5.2 writes every response through a generic serializer that walks the
botocore output shape. For each member of each structure it asks an attribute
picker, which tries the member's name and its aliases (snake_case, class and
shape prefixes) on the object. A DynamoDB AttributeValue is a structure of ten
members (S, N, B, SS, NS, BS, M, L, NULL, BOOL) of which one is set, so every
attribute of every item costs ten alias searches and ten dispatches: with
Aizen's 15-attribute event items that was 90 % of the embedded store's time on
a large Query.

The values moto's DynamoDB handler returns are plain dicts built by
`dynamo_to_dict` (`{"S": "…"}`, `{"B": b"…"}`, `{"M": {…}}`), keyed by the
canonical member names. `AttributeValueSerializer` turns such a dict, or a
whole item (a map of them), into its JSON form in one recursive pass over the
shape: the one member set is read from the dict, and each type is written by
the rule moto's JSON serializer applies to it (string: `str`; blob: moto's `_base64`; boolean: as is; list, map and
nested AttributeValue: element by element; DynamoDB's model gives these shapes no
serialization names, so names are kept). Anything else (a value that is not
a dict, a None inside, an Enum, a type outside those) takes moto's own path, so
the bytes are always moto's. Every other structure is moto's path too.

It is registered for DynamoDB's JSON protocol and acts only inside
`embedded_request()` (the embedded store's requests) or, for every thread of the
process, inside `embedded_everywhere()` (the test tiers' `mock_aws`); elsewhere in the
process it is moto's serializer unchanged. `docs/local-store.md`
has the figures; `tests/integration/test_attribute_values.py` compares the bodies.
"""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import Any

from botocore import model
from moto.core import serialize
from moto.core.model import MapShape, Shape, StructureShape
from moto.core.serialize import JSONSerializer

_EMBEDDED_REQUEST: ContextVar[bool] = ContextVar("embedded_request", default=False)
# Set by embedded_everywhere(): a context variable is not inherited by the threads a request
# starts (the store fetches a Query's next page on one), a process-wide switch is.
_EVERYWHERE = {"on": False}


class _NotPlain(Exception):
    """A value the direct pass does not handle: moto's own path serializes it."""


class AttributeValueSerializer(JSONSerializer):
    """moto's JSON serializer, with AttributeValues written in one direct pass."""

    def _serialize_type_structure(
        self, serialized: MutableMapping[str, Any], value: Any, shape: StructureShape, key: str
    ) -> None:
        if not (shape.name == "AttributeValue" and key and self._direct(serialized, value, shape, key)):
            super()._serialize_type_structure(serialized, value, shape, key)

    def _serialize_type_map(self, serialized: MutableMapping[str, Any], value: Any, shape: MapShape, key: str) -> None:
        """An item (a map of AttributeValues) in one pass, rather than one dispatch per attribute."""
        if not (shape.value.name == "AttributeValue" and key and self._direct(serialized, value, shape, key)):
            super()._serialize_type_map(serialized, value, shape, key)

    def _direct(self, serialized: MutableMapping[str, Any], value: Any, shape: Shape, key: str) -> bool:
        """Write `value` directly if inside the embedded store and plain; False: moto's path must."""
        if not in_embedded_request():
            return False
        try:
            serialized[self.get_serialized_name(shape, key)] = self._plain(value, shape)
        except _NotPlain:
            return False
        return True

    def _plain(self, value: Any, shape: model.Shape) -> Any:
        """The JSON form moto's serializer gives `value` of this shape, or _NotPlain."""
        if value is None:
            raise _NotPlain
        kind = shape.type_name
        if kind == "string" and isinstance(value, str | int | float) and not isinstance(value, Enum):
            return str(value)
        if kind == "blob":
            return self._base64(value)
        if kind == "boolean":
            return value
        if kind == "list" and isinstance(shape, model.ListShape) and isinstance(value, list):
            return [self._plain(element, shape.member) for element in value]
        if kind == "map" and isinstance(shape, model.MapShape) and isinstance(value, dict):
            return {name: self._plain(element, shape.value) for name, element in value.items()}
        if kind == "structure" and isinstance(shape, model.StructureShape) and type(value) is dict and len(value) == 1:
            ((name, member),) = value.items()  # an AttributeValue has one member set
            if name not in shape.members:
                raise _NotPlain  # moto's picker would search aliases of the members for it
            return {name: self._plain(member, shape.members[name])}
        raise _NotPlain


def install() -> None:
    """Register the serializer for DynamoDB's JSON protocol (idempotent)."""
    serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": AttributeValueSerializer}


def in_embedded_request() -> bool:
    """True inside `embedded_request()` on this thread, or inside `embedded_everywhere()`."""
    return _EVERYWHERE["on"] or _EMBEDDED_REQUEST.get()


@contextmanager
def embedded_request() -> Iterator[None]:
    """Within: this thread's DynamoDB responses use the direct AttributeValue pass."""
    token = _EMBEDDED_REQUEST.set(True)
    try:
        yield
    finally:
        _EMBEDDED_REQUEST.reset(token)


@contextmanager
def embedded_everywhere() -> Iterator[None]:
    """Within: every thread's DynamoDB responses and new items take the embedded store's path."""
    _EVERYWHERE["on"] = True
    try:
        yield
    finally:
        _EVERYWHERE["on"] = False
