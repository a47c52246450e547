"""A partition-indexed base-table Query for the embedded store's moto tables.

moto 5's `Table.query` finds a base-table query's partition by walking every
item of the table: `[item for item in self.all_items() if item.hash_key ==
hash_key]`, and `all_items()` first builds and sorts a list of the whole table.
So one Query costs time proportional to the table, not to the partition read:
with the demo site's ~13 k raw events every stats request spends seconds in it.

moto already keeps a table's items per hash key (`Table.items`: hash key ->
{range key -> Item}, or hash key -> Item without a range key). While
`PartitionIndexedTable.query` answers a base-table query, its `all_items()`
returns only that partition's items, in the order moto's own `all_items()`
gives them (by range key), looked up in `Table.items` directly. Everything else
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
from typing import Any, cast

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# The partition a base-table query on this thread is reading (None: the whole table). A context
# variable, not an attribute, so concurrent queries on other threads never see it.
_QUERIED_PARTITION: ContextVar[DynamoType | None] = ContextVar("queried_partition", default=None)


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
        partition = hash_key if index_name is None else None
        token = _QUERIED_PARTITION.set(partition)
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
            _QUERIED_PARTITION.reset(token)

    def all_items(self) -> list[Item]:
        """Inside a base-table query, the queried partition's items; elsewhere, moto's whole table."""
        partition = _QUERIED_PARTITION.get()
        if partition is None:
            return super().all_items()
        stored = self.items.get(partition)  # .get: the defaultdict must not grow an empty partition
        if stored is None:
            return []
        if self.range_key_attr is None:
            return [SharedItem.of(stored)]  # type: ignore[arg-type]  # without a range key a partition is one Item
        return [SharedItem.of(item) for item in sorted(stored.values(), key=lambda item: item.range_key)]


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
