"""The embedded store's one-pass item construction builds the items moto builds and refuses the ones it refuses."""

from typing import Any

import pytest
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from aizen_local import item_sizes
from aizen_local.attribute_values import embedded_request

HASH, RANGE = DynamoType({"S": "site_1#2026-11-01#0"}), DynamoType({"B": "AAE="})


def _attributes(pad: int) -> dict[str, Any]:
    """An event-like item of every AttributeValue type, `pad` characters of it in one string."""
    return {
        "p": {"S": "site_1#2026-11-01#0"},
        "s": {"B": "AAE="},
        "n": {"N": "12.5"},
        "pad": {"S": "x" * pad},
        "m": {"M": {"k": {"S": "v"}, "l": {"L": [{"N": "1"}, {"BOOL": False}, {"NULL": True}]}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": ["AQ=="]},
    }


def _built(attributes: dict[str, Any]) -> Item | type[Exception]:
    try:
        return Item(HASH, RANGE, attributes)
    except ItemSizeTooLarge as refused:
        return type(refused)


@pytest.fixture
def installed() -> Any:
    moto_init = Item.__init__
    item_sizes.install()
    yield
    Item.__init__ = moto_init  # type: ignore[method-assign]


@pytest.mark.usefixtures("installed")
def test_items_are_built_and_refused_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given items below, at and above moto's 405,000-byte limit (found from the item's own size)
    base = sum(len(key) + DynamoType(value).size() for key, value in _attributes(0).items())
    pads = [0, 100, item_sizes.MOTO_ITEM_LIMIT - base - 1, item_sizes.MOTO_ITEM_LIMIT - base]
    pads += [item_sizes.MOTO_ITEM_LIMIT - base + 1, 500_000]

    # When each is built outside the embedded store's requests (moto's construction), then inside
    checks: list[str] = []
    moto_check = LimitedSizeDict.__setitem__

    def counted(self: LimitedSizeDict, key: str, value: Any) -> None:
        checks.append(key)
        moto_check(self, key, value)

    monkeypatch.setattr(LimitedSizeDict, "__setitem__", counted)
    expected = [_built(_attributes(pad)) for pad in pads]
    moto_checks = len(checks)
    with embedded_request():
        built = [_built(_attributes(pad)) for pad in pads]

    # Then the same items are built (keys, attributes, order) and the same ones refused
    assert built == expected
    for item, moto_item in zip(built, expected, strict=True):
        if isinstance(item, Item) and isinstance(moto_item, Item):
            assert list(item.attrs) == list(moto_item.attrs)
            assert type(item.attrs) is type(moto_item.attrs)
    assert [isinstance(item, Item) for item in expected] == [True, True, True, True, False, False]
    # and inside, no attribute went through moto's per-attribute size check
    assert moto_checks > 0
    assert len(checks) == moto_checks
