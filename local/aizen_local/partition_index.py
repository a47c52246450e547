"""A partition-indexed base-table Query for the embedded store's moto tables.

moto 5's `Table.query` finds a base-table query's partition by walking every
item of the table: `[item for item in self.all_items() if item.hash_key ==
hash_key]`, and `all_items()` first builds and sorts a list of the whole table.
So one Query costs time proportional to the table, not to the partition read:
with the demo site's ~13 k raw events every stats request spends seconds in it.

moto already keeps a table's items per hash key (`Table.items`: hash key ->
{range key -> Item}, or hash key -> Item without a range key). While
`PartitionIndexedTable.query` answers a base-table query, its `all_items()`
returns only that partition's items, looked up in `Table.items` directly, in the
order moto's own `all_items()` gives them (by range key); with a sort-key condition,
only the run of items it selects and the items after it that can end moto's page
there (`_key_range`), rather than sizing every item of the partition. Everything else
is moto's own `Table.query`, unchanged: its `item.hash_key == hash_key` test,
the sort, ScanIndexForward, ExclusiveStartKey, Limit and the 1 MB page, the
range-key condition, the filter, the projection and LastEvaluatedKey. Index
queries (GSI, LSI) and a query without a hash key take moto's path untouched.

The partition's items are handed to moto's query as views (`SharedItem`): each shares
its stored item's attributes instead of being deep-copied for the answer, and computes
its size once instead of twice. The embedded store serialises each answer before it
serves the next request (`aizen_local.store.SerializedApp`), and moto's Query handler
only reads the items it answers with, so no copy is needed for the answer to be exact.

`docs/local-store.md` describes the change as an upstream patch, with the
figures and the argument for its correctness; `tests/integration/test_partition_index.py`
compares its answers with moto's on the same data.
"""

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

MAX_ITEM_BYTES = 409_600  # DynamoDB's item size limit (moto refuses items above 405,000 bytes)


@dataclass(frozen=True)
class _KeyCondition:
    """What a base-table query on this thread is reading: a partition, and the sort-key condition."""

    partition: DynamoType
    comparison: str | None  # moto's operator (EQ, LT, LE, GT, GE, BETWEEN, BEGINS_WITH); None: every item
    values: list[DynamoType]
    forward: bool


# A context variable, not an attribute, so concurrent queries on other threads never see it.
_QUERIED: ContextVar[_KeyCondition | None] = ContextVar("queried_partition", default=None)


class SharedItem(Item):
    """A stored item as one base-table query reads it: the same key and attribute objects (not a
    copy), its size computed once. Deep-copying a view gives the view: moto's `Table.query`
    deep-copies its results so that the caller cannot change the table through them, and the
    embedded store's caller, moto's Query handler, only reads them before the next request."""

    _size: int | None

    @classmethod
    def of(cls, stored: Item) -> "SharedItem":
        view = cast(SharedItem, cls.__new__(cls))  # moto's BaseModel.__new__ is typed as BaseModel
        view.hash_key, view.range_key, view.attrs, view._size = stored.hash_key, stored.range_key, stored.attrs, None
        return view

    def size(self) -> int:
        if self._size is None:
            self._size = super().size()
        return self._size

    def __deepcopy__(self, memo: dict[int, Any]) -> "SharedItem":
        return self


class PartitionIndexedTable(Table):
    """moto's Table whose base-table Query reads one partition instead of the whole table."""

    def query(
        self,
        hash_key: DynamoType | None,
        range_comparison: str | None,
        range_objs: list[DynamoType],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
        range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
        **filter_kwargs: Any,
    ) -> tuple[list[Item], int, dict[str, Any] | None]:
        narrow = not filter_kwargs and len(range_key_conditions or ()) <= 1
        queried = (
            _KeyCondition(hash_key, range_comparison if narrow else None, range_objs, scan_index_forward)
            if index_name is None and hash_key is not None
            else None
        )
        token = _QUERIED.set(queried)
        try:
            return super().query(
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions=hash_key_conditions,
                range_key_conditions=range_key_conditions,
                **filter_kwargs,
            )
        finally:
            _QUERIED.reset(token)

    def all_items(self) -> list[Item]:
        """Inside a base-table query, the queried partition's items; elsewhere, moto's whole table."""
        queried = _QUERIED.get()
        if queried is None:
            return super().all_items()
        stored = self.items.get(queried.partition)  # .get: the defaultdict must not grow an empty partition
        if stored is None:
            return []
        if self.range_key_attr is None:
            return [SharedItem.of(stored)]  # type: ignore[arg-type]  # without a range key a partition is one Item
        views: list[Item] = [SharedItem.of(item) for item in stored.values()]
        if queried.comparison is None:
            return sorted(views, key=_range_key)
        return _key_range(views, queried)


def _range_key(item: Item) -> DynamoType:
    return item.range_key  # type: ignore[return-value]  # every item of a table with a sort key has one


def _key_range(views: list[Item], queried: _KeyCondition) -> list[Item]:
    """The items moto's query loop would visit to the same effect, in sort-key order.

    A sort-key condition selects one run of the partition in sort-key order. Before the run
    (in the query's direction) moto's loop only skips items; after it, an item the condition
    excludes can still end the page: at the Limit (the next item visited), or when its size
    would take the page past 1 MB (any item after the run). So besides the run, the list keeps
    the first item after it and, when the run's size could come within an item of 1 MB, the
    largest item after it: moto then stops at the same point, with the same LastEvaluatedKey.
    """
    matching = [view for view in views if _range_key(view).compare(queried.comparison, queried.values)]  # type: ignore[arg-type]
    if not matching:
        return []
    matching.sort(key=_range_key)
    if queried.forward:
        edge = _range_key(matching[-1])
        after = [view for view in views if _range_key(view) > edge]
    else:
        edge = _range_key(matching[0])
        after = [view for view in views if _range_key(view) < edge]
    if not after:
        return matching
    kept = {id(min(after, key=_range_key) if queried.forward else max(after, key=_range_key)): None}
    if sum(view.size() for view in matching) + MAX_ITEM_BYTES > RESULT_SIZE_LIMIT:
        kept[id(max(after, key=Item.size))] = None
    trailing = [view for view in after if id(view) in kept]
    return sorted(matching + trailing, key=_range_key)


def _tables() -> Iterator[Table]:
    for account in dynamodb_backends.values():
        for backend in account.values():
            yield from backend.tables.values()


def index_partitions() -> int:
    """Give every plain moto table of this process the partition-indexed Query; returns how many changed.

    The embedded store calls it after each CreateTable it serves. Only tables whose class is
    exactly moto's `Table` change (restored tables keep their own class), object by object:
    moto's class stays as it is, so a process that runs no embedded store (the tests' `mock_aws`)
    never sees the subclass. In one that does, `mock_aws` tables get it too, with the same answers.
    """
    changed = 0
    for table in _tables():
        if type(table) is Table:
            table.__class__ = PartitionIndexedTable  # type: ignore[type-abstract]  # mypy reads moto's CloudFormationModel as abstract
            changed += 1
    return changed
