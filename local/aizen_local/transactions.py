"""Transactions in the embedded store back up the items they name, not whole tables.

moto 5's `DynamoDBBackend.transact_write_items` deep-copies every table a transaction
names before it applies the first operation, so that a cancelled transaction can be
undone by putting the copies back. The copy costs time in proportion to the whole table:
on `make dev`'s demo site (a year of rollups and the raw window's blocks), creating or
revoking an API key, a transaction on the main table, spent 0.4 to 0.6 s in it.

A transaction changes only the items its operations name (one operation an item: moto
refuses two on the same key), so those items as they were, or the fact that they did not
exist, are all an undo needs. Inside the embedded store's requests, `transact_write_items`
records them, runs moto's own method with the whole-table copies made no-ops (the tables
moto puts back when it undoes are then the tables themselves), and when moto raises,
puts the recorded items back before the error goes on. Conditions, cancellation reasons
and the order of operations are moto's own.

Like `aizen_local.item_sizes`, it acts only inside `embedded_request()` (or
`embedded_everywhere()`); elsewhere moto's method runs as shipped. `docs/local-store.md`
describes it as an upstream patch; `tests/integration/test_transactions.py` compares the
tables after committed and cancelled transactions with moto's own.
"""

import copy
from contextvars import ContextVar
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from aizen_local.attribute_values import in_embedded_request

_moto_transact_write_items = DynamoDBBackend.transact_write_items
_TABLES_NOT_COPIED: ContextVar[bool] = ContextVar("transaction_tables_not_copied", default=False)


class _CopyModule:
    """The `copy` module as moto's DynamoDB backend sees it: within a transaction of the
    embedded store, deep-copying a table gives the table; everything else is `copy`'s."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and _TABLES_NOT_COPIED.get():
            return value
        return copy.deepcopy(value, memo)


_Backup = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _named_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Backup]:
    """Each operation's table, key and item as it is now (a copy; None: no such item)."""
    backups: list[_Backup] = []
    for operation in transact_items:
        for kind, request in operation.items():
            table = backend.tables.get(request.get("TableName"))
            if table is None:
                continue  # moto reports the missing table itself
            key = request["Item"] if kind == "Put" else request.get("Key", {})
            if table.hash_key_attr not in key:
                continue  # moto refuses the malformed operation itself
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.range_key_attr is not None and range_value is None:
                continue
            backups.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return backups


def _restore(backups: list[_Backup]) -> None:
    """Put the named items back as they were, in reverse order."""
    for table, hash_value, range_value, original in reversed(backups):
        if original is None:
            table.delete_item(hash_value, range_value)
        elif range_value is None:
            table.items[hash_value] = original  # type: ignore[assignment]
        else:
            table.items[hash_value][range_value] = original


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if not in_embedded_request():
        _moto_transact_write_items(self, transact_items)
        return
    backups = _named_items(self, transact_items)
    token = _TABLES_NOT_COPIED.set(True)
    try:
        _moto_transact_write_items(self, transact_items)
    except BaseException:
        _restore(backups)
        raise
    finally:
        _TABLES_NOT_COPIED.reset(token)


def install() -> None:
    """Give moto's transactions the per-item backup (idempotent; moto's own outside embedded requests)."""
    dynamodb_models.copy = _CopyModule()  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
