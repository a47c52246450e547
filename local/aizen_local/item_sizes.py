"""New items sized once in the embedded store, instead of once per attribute.

moto 5's `Item.__init__` adds an item's attributes one by one to a `LimitedSizeDict`, whose
`__setitem__` sums the size of every attribute already there before it accepts the next
one (DynamoDB's 400 KB item limit, as moto enforces it at 405,000 bytes). Building an item
of n attributes so sizes n(n+1)/2 attributes: for Aizen's 15-attribute event items, about
a third of the embedded store's time during an `aizen import`.

Sizes are not negative, so the sums moto checks grow with each attribute, and the last one,
the whole item's size, exceeds the limit exactly when one of them does: checking the whole
item once refuses exactly the items moto refuses, with the same error (`ItemSizeTooLarge`),
and builds the same attributes otherwise. Only the construction changes; later changes to
an item's attributes (UpdateItem) go through moto's own checks.

Like `aizen_local.attribute_values`, it acts only inside `embedded_request()` (the embedded
store's requests); elsewhere in the process, `mock_aws` included, `Item.__init__` is moto's.
`docs/local-store.md` describes it as an upstream patch; `tests/unit/test_item_sizes.py`
compares the items and errors with moto's.
"""

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

from aizen_local.attribute_values import in_embedded_request

MOTO_ITEM_LIMIT = 405_000  # LimitedSizeDict's limit: DynamoDB's 400 KB as moto measures it
_moto_init = Item.__init__


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    if not in_embedded_request():
        _moto_init(self, hash_key, range_key, attrs)
        return
    built = LimitedSizeDict()
    for key, value in attrs.items():
        dict.__setitem__(built, key, DynamoType(value))
    if sum(bytesize(key) + value.size() for key, value in built.items()) > MOTO_ITEM_LIMIT:
        raise ItemSizeTooLarge
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = built


def install() -> None:
    """Give moto's Item the one-pass construction (idempotent; moto's own outside embedded requests)."""
    Item.__init__ = _item_init  # type: ignore[method-assign]
