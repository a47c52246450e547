"""The embedded store's transactions leave the tables as moto's own do, without copying a table.

Each scenario runs once as moto ships it (outside the embedded store's requests) on one table,
and once with `aizen_local.transactions` (inside `embedded_request()`) on a second table of the
same schema; the tables and the errors must be the same after every step.
"""

import copy
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.table import Table

from aizen_local import transactions
from aizen_local.attribute_values import embedded_request

pytestmark = pytest.mark.moto_as_shipped

Step = Callable[[str], list[dict[str, Any]]]


def _put(table: str, key: str, count: int) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": key}, "sk": {"S": "A"}, "n": {"N": str(count)}}}}


def _add(table: str, key: str, condition: str | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": key}, "sk": {"S": "A"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def _delete(table: str, key: str) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": {"pk": {"S": key}, "sk": {"S": "A"}}}}


def _check(table: str, key: str, condition: str) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": {"pk": {"S": key}, "sk": {"S": "A"}},
            "ConditionExpression": condition,
        }
    }


STEPS: list[Step] = [
    # committed: three new items
    lambda t: [_put(t, "a", 1), _put(t, "b", 2), _put(t, "g", 7)],
    # committed: a new item, an update, a delete and a passing check
    lambda t: [_put(t, "c", 3), _add(t, "a"), _delete(t, "b"), _check(t, "g", "attribute_exists(pk)")],
    # cancelled by the last operation's condition: the new item, the update and the delete are undone
    lambda t: [_put(t, "d", 4), _add(t, "a"), _delete(t, "c"), _check(t, "zz", "attribute_exists(pk)")],
    # cancelled by a condition in the middle
    lambda t: [_add(t, "c"), _add(t, "missing", "attribute_exists(pk)"), _put(t, "e", 5)],
    # refused: two operations on one item (after the first was applied)
    lambda t: [_put(t, "f", 6), _add(t, "f")],
]


def _table(client: Any, name: str) -> str:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _outcome(client: Any, table: str, step: Step) -> tuple[Any, list[dict[str, Any]]]:
    try:
        client.transact_write_items(TransactItems=step(table))
        error: Any = None
    except ClientError as refused:
        reasons = refused.response.get("CancellationReasons")
        error = (refused.response["Error"]["Code"], [reason.get("Code") for reason in reasons or []])
    items = sorted(client.scan(TableName=table)["Items"], key=lambda item: item["pk"]["S"])
    return error, items


def test_transactions_leave_the_tables_as_moto_does_without_copying_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: the patch installed, and every deep copy of a table recorded
    transactions.install()
    copied_tables: list[str] = []
    deepcopy = copy.deepcopy

    def recording(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            copied_tables.append(value.name)
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", recording)
    client = boto3.client("dynamodb")
    shipped, embedded = _table(client, "tx-moto"), _table(client, "tx-embedded")

    # When: each step runs as moto ships it on one table, and in the embedded store on the other
    outcomes = []
    for step in STEPS:
        moto_outcome = _outcome(client, shipped, step)
        moto_copies = list(copied_tables)
        with embedded_request():
            embedded_outcome = _outcome(client, embedded, step)
        outcomes.append((moto_outcome, embedded_outcome, moto_copies, copied_tables[len(moto_copies) :]))
        copied_tables.clear()

    # Then: the same errors and the same items after every step; moto copied its table, the patch never
    for moto_outcome, embedded_outcome, moto_copies, embedded_copies in outcomes:
        assert embedded_outcome == moto_outcome
        assert moto_copies
        assert moto_copies == [shipped] * len(moto_copies)
        assert embedded_copies == []
    # and the steps did commit, cancel on a condition, and refuse two operations on one item
    errors = [moto_outcome[0] for moto_outcome, *_ in outcomes]
    assert errors[:2] == [None, None]
    assert errors[2] == ("TransactionCanceledException", ["None", "None", "None", "ConditionalCheckFailed"])
    assert errors[3][0] == "TransactionCanceledException"
    assert errors[4] is not None
    assert errors[4][0] == "ValidationException"
    assert [item["pk"]["S"] for item in outcomes[-1][0][1]] == ["a", "c", "g"]
