"""The template's IAM statements evaluated against DynamoDB requests, as AWS evaluates them.

moto and the local stack do not enforce IAM, so a grant that is too narrow would only show on
AWS, as AccessDenied (a 500 on every request), and one that is too wide never shows. This
module turns a DynamoDB request (an operation and its JSON body, as the SDK sends it) into the
IAM requests it needs, one per item for batches and transactions (docs: "Using IAM with DynamoDB
transactions": a transaction's Put/Update/Delete need PutItem/UpdateItem/DeleteItem, a
ConditionCheck needs ConditionCheckItem), with the condition keys DynamoDB sets:

- `dynamodb:LeadingKeys`: the partition key values the request touches (none for a Scan);
- `dynamodb:Attributes`: the attribute names a write names (the item's, or the key's and those of
  its update and condition expressions), reads only with a projection;
- `dynamodb:ReturnValues`: a write's ReturnValues (NONE unless set; absent inside a transaction);
- `dynamodb:Select`: a Query's Select, when set.

`allows` then decides as IAM does for Allow statements: an action and resource that match, and
every condition true. `ForAllValues` over a key the request lacks is true (which is why a Scan,
with no leading keys, must never be granted at all). Only the operators the template uses are
understood; any other fails the test rather than being guessed.
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from aizen_local.template import Template

# Words of DynamoDB's expression grammar that are not attribute names.
_GRAMMAR = frozenset(
    {"set", "add", "remove", "delete", "and", "or", "not", "between", "in", "size", "contains", "begins_with"}
    | {"attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists", "list_append"}
)
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass(frozen=True)
class IamRequest:
    action: str  # dynamodb:GetItem
    table: str  # logical id
    leading_keys: tuple[str, ...]
    attributes: tuple[str, ...] | None = None
    return_values: str | None = None
    select: str | None = None

    def context(self) -> dict[str, list[str]]:
        values: dict[str, list[str]] = {"dynamodb:LeadingKeys": list(self.leading_keys)}
        if self.attributes is not None:
            values["dynamodb:Attributes"] = list(self.attributes)
        if self.return_values is not None:
            values["dynamodb:ReturnValues"] = [self.return_values]
        if self.select is not None:
            values["dynamodb:Select"] = [self.select]
        return values


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: Template, function: str) -> list[dict[str, Any]]:
    """A function's inline statements; a SAM policy template or managed policy fails the test."""
    spec = next(spec for spec in template.functions() if spec.logical_id == function)
    found: list[dict[str, Any]] = []
    for policy in spec.properties.get("Policies", []):
        assert isinstance(policy, dict), f"{function}: {policy} is not an inline statement"
        assert list(policy) == ["Statement"], f"{function}: {policy} is not an inline statement"
        found.extend(_as_list(policy["Statement"]))
    return found


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, list[str]]) -> bool:
    wanted = [str(value) for value in _as_list(expected)]
    present = context.get(key)
    if operator in ("ForAllValues:StringLike", "ForAllValues:StringEquals"):
        if key == "dynamodb:Attributes" and present is None:
            return False  # stricter than IAM: never call a request allowed on attributes it does not name
        match = fnmatchcase if operator.endswith("Like") else str.__eq__
        return all(any(match(value, pattern) for pattern in wanted) for value in present or [])
    if operator in ("StringEquals", "StringEqualsIfExists"):
        if present is None:
            return operator.endswith("IfExists")
        return all(value in wanted for value in present)
    raise AssertionError(f"condition operator {operator} is not understood by tests/iam_policies.py")


def allows(policy: list[dict[str, Any]], request: IamRequest) -> bool:
    """Whether an Allow statement of `policy` grants `request` (the template has no Deny)."""
    context = request.context()
    for statement in policy:
        assert statement["Effect"] == "Allow"
        if request.action not in _as_list(statement["Action"]):
            continue
        if {"Fn::GetAtt": [request.table, "Arn"]} not in _as_list(statement["Resource"]):
            continue
        conditions = statement.get("Condition", {})
        if all(
            _condition_holds(operator, key, expected, context)
            for operator, block in conditions.items()
            for key, expected in block.items()
        ):
            return True
    return False


# From SDK requests ------------------------------------------------------------------------------


def _expression_names(expression: str | None, aliases: Mapping[str, str]) -> set[str]:
    if not expression:
        return set()
    names: set[str] = set()
    for token in re.findall(r"#?[A-Za-z_][A-Za-z0-9_]*|:[A-Za-z0-9_]+", expression):
        if token.startswith(":"):
            continue
        if token.startswith("#"):
            names.add(aliases[token])
        elif token.lower() not in _GRAMMAR:
            names.add(token)
    return names


def _text(value: Mapping[str, Any]) -> str:
    [(kind, raw)] = value.items()
    assert kind in ("S", "B", "N"), f"not a key value: {value}"
    return str(raw)


class RequestReader:
    """Turns the store's requests into IAM requests, knowing the tables' names and keys."""

    def __init__(self, template: Template, environ: Mapping[str, str]) -> None:
        self.logical_ids = {name: logical_id for logical_id, name in template.table_names(environ).items()}
        self.hash_keys = {
            logical_id: next(key["AttributeName"] for key in properties["KeySchema"] if key["KeyType"] == "HASH")
            for logical_id, properties in template.tables().items()
        }

    def _table(self, name: str) -> str:
        return self.logical_ids[name]

    def _item_request(self, operation: str, body: Mapping[str, Any], *, in_transaction: bool = False) -> IamRequest:
        table = self._table(body["TableName"])
        hash_key = self.hash_keys[table]
        aliases = body.get("ExpressionAttributeNames", {})
        record = body.get("Item") or body["Key"]
        condition = _expression_names(body.get("ConditionExpression"), aliases)
        attributes: set[str] | None
        if operation == "PutItem":
            attributes = set(record) | condition
        elif operation in ("UpdateItem", "DeleteItem", "ConditionCheckItem"):
            attributes = set(record) | condition | _expression_names(body.get("UpdateExpression"), aliases)
        elif "ProjectionExpression" in body:
            attributes = set(record) | _expression_names(body["ProjectionExpression"], aliases)
        else:
            attributes = None
        return_values = body.get("ReturnValues") or ("NONE" if operation in _WRITES and not in_transaction else None)
        return IamRequest(
            f"dynamodb:{operation}",
            table,
            (_text(record[hash_key]),),
            tuple(sorted(attributes)) if attributes is not None else None,
            return_values,
        )

    def _query(self, body: Mapping[str, Any]) -> IamRequest:
        table = self._table(body["TableName"])
        aliases = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        leading = [
            _text(values[placeholder])
            for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", body["KeyConditionExpression"])
            if aliases.get(name, name) == self.hash_keys[table]
        ]
        projection = body.get("ProjectionExpression")
        return IamRequest(
            "dynamodb:Query",
            table,
            tuple(leading),
            tuple(sorted(_expression_names(projection, aliases))) if projection else None,
            select=body.get("Select"),
        )

    def requests(self, operation: str, raw_body: str) -> Iterator[IamRequest]:
        body = json.loads(raw_body)
        if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
            yield self._item_request(operation, body)
        elif operation == "Query":
            yield self._query(body)
        elif operation == "Scan":
            yield IamRequest("dynamodb:Scan", self._table(body["TableName"]), ())
        elif operation == "TransactWriteItems":
            kinds = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            for entry in body["TransactItems"]:
                [(kind, item)] = entry.items()
                yield self._item_request(kinds[kind], item, in_transaction=True)
        elif operation == "BatchWriteItem":
            for name, writes in body["RequestItems"].items():
                table = self._table(name)
                records = [write.get("PutRequest", {}).get("Item") or write["DeleteRequest"]["Key"] for write in writes]
                keys = tuple(_text(record[self.hash_keys[table]]) for record in records)
                yield IamRequest("dynamodb:BatchWriteItem", table, keys)
        elif operation == "BatchGetItem":
            for name, read in body["RequestItems"].items():
                table = self._table(name)
                keys = tuple(_text(key[self.hash_keys[table]]) for key in read["Keys"])
                yield IamRequest("dynamodb:BatchGetItem", table, keys)
        else:
            raise AssertionError(f"{operation} is not understood by tests/iam_policies.py")
