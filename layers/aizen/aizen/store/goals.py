"""A site's goals in the main table, in a partition of their own (docs/data-model.md):

  GOALS#<site id> / GOAL#<goal id>        the goal: goal_id, name, event_name | page_pattern, created_at,
                                          counted (it holds one of the site's goal slots)
  GOALS#<site id> / GUARD#<sha256 hex>    uniqueness guards: one for the goal's definition (its event
                                          name or page pattern), one for its name; goal_id
  SITE#<site id>  / SITE                  goal_count: the goals created through `create_goal`

Their own partition, not the site's: deleting a goal then needs `DeleteItem` on `GOALS#*` only,
never on the `SITE#*` partitions that hold sites and API keys.
"""

import hashlib
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from aizen.errors import Conflict, GoalLimitReached, NotFound
from aizen.goals import Goal
from aizen.settings import get_settings
from aizen.store.accounts import _condition_failures, _transact
from aizen.store.dynamo import dynamo_operation, main_table

_FIELDS = ("goal_id", "name", "event_name", "page_pattern", "created_at")
_COUNTED = "counted"


def _partition(site_id: str) -> str:
    return f"GOALS#{site_id}"


def _goal(item: dict[str, Any]) -> Goal:
    values: dict[str, Any] = {
        name: int(value) if isinstance(value := item[name], Decimal) else value for name in _FIELDS if name in item
    }
    return Goal(**values)


def _attributes(goal: Goal) -> dict[str, Any]:
    return {name: value for name in _FIELDS if (value := getattr(goal, name)) is not None}


def _guards(goal: Goal) -> list[str]:
    """The sort keys of the goal's guards: its definition, then its name. Hashed, so any event
    name or pattern makes a key of fixed length (sort keys have at most 1 KB)."""
    definition = f"event\0{goal.event_name}" if goal.event_name is not None else f"page\0{goal.page_pattern}"
    return [f"GUARD#{hashlib.sha256(text.encode()).hexdigest()}" for text in (definition, f"name\0{goal.name}")]


@dynamo_operation
def list_goals(site_id: str) -> list[Goal]:
    """Every goal of a site, oldest first (ids sort by creation)."""
    goals: list[Goal] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :goals AND begins_with(sk, :goal)",
        "ExpressionAttributeValues": {":goals": _partition(site_id), ":goal": "GOAL#"},
        "ConsistentRead": True,
    }
    while True:
        page = main_table().query(**query)
        goals.extend(_goal(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(goals, key=lambda goal: (goal.created_at, goal.goal_id))
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dynamo_operation
def get_goal(site_id: str, goal_id: str) -> Goal | None:
    item = main_table().get_item(Key={"pk": _partition(site_id), "sk": f"GOAL#{goal_id}"}, ConsistentRead=True)
    return _goal(item["Item"]) if "Item" in item else None


@dynamo_operation
def put_goal(site_id: str, goal: Goal) -> None:
    """Store a goal as it is: no guards, no slot (tests and fixtures). The API and the CLI create
    goals with `create_goal`, which checks the limit and duplicates."""
    main_table().put_item(
        Item={"pk": _partition(site_id), "sk": f"GOAL#{goal.goal_id}", **_attributes(goal)},
        ConditionExpression="attribute_not_exists(pk)",
    )


@dynamo_operation
def create_goal(site_id: str, goal: Goal, max_goals: int) -> None:
    """The goal, its two guards and one more on the site's `goal_count`, in one transaction.

    Nothing is read first: GoalLimitReached when the site already has `max_goals` goals, Conflict
    when a goal with the same definition or name exists, and then nothing is written.
    """
    table = get_settings().main_table
    partition = _partition(site_id)
    definition, name = _guards(goal)
    new = "attribute_not_exists(pk)"
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": table, "ConditionExpression": new,
                 "Item": {"pk": partition, "sk": f"GOAL#{goal.goal_id}", **_attributes(goal), _COUNTED: True}}},
        {"Put": {"TableName": table, "ConditionExpression": new,
                 "Item": {"pk": partition, "sk": definition, "goal_id": goal.goal_id}}},
        {"Put": {"TableName": table, "ConditionExpression": new,
                 "Item": {"pk": partition, "sk": name, "goal_id": goal.goal_id}}},
        {"Update": {
            "TableName": table,
            "Key": {"pk": f"SITE#{site_id}", "sk": "SITE"},
            "UpdateExpression": "SET goal_count = if_not_exists(goal_count, :zero) + :one",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(goal_count) OR goal_count < :max)",
            "ExpressionAttributeValues": {":zero": 0, ":one": 1, ":max": max_goals},
        }},
    ]  # fmt: skip
    try:
        _transact(items)
    except ClientError as error:
        failed = _condition_failures(error)
        if failed[1:2] == [True]:
            what = f"event {goal.event_name!r}" if goal.event_name is not None else f"page {goal.page_pattern!r}"
            raise Conflict(f"Site {site_id} already has a goal for {what}") from error
        if failed[2:3] == [True]:
            raise Conflict(f"Site {site_id} already has a goal named {goal.name!r}") from error
        if failed[3:] == [True]:
            raise GoalLimitReached(
                f"Site {site_id} already has {max_goals} goals, the most a site may have; delete one to create another"
            ) from error
        raise


@dynamo_operation
def delete_goal(site_id: str, goal: Goal) -> None:
    """The goal and its guards, and its slot back on the site's `goal_count`, in one transaction.

    A goal stored without a slot (`put_goal`) is deleted with its guards and frees none; a goal
    deleted meanwhile is NotFound.
    """
    table = get_settings().main_table
    partition = _partition(site_id)
    goal_key = {"pk": partition, "sk": f"GOAL#{goal.goal_id}"}
    guards = [{"Delete": {"TableName": table, "Key": {"pk": partition, "sk": guard}}} for guard in _guards(goal)]
    counted: list[dict[str, Any]] = [
        {"Delete": {"TableName": table, "Key": goal_key,
                    "ConditionExpression": f"attribute_exists(pk) AND attribute_exists({_COUNTED})"}},
        *guards,
        {"Update": {
            "TableName": table,
            "Key": {"pk": f"SITE#{site_id}", "sk": "SITE"},
            "UpdateExpression": "SET goal_count = goal_count - :one",
            "ConditionExpression": "goal_count >= :one",
            "ExpressionAttributeValues": {":one": 1},
        }},
    ]  # fmt: skip
    try:
        _transact(counted)
        return
    except ClientError as error:
        _condition_failures(error)  # anything but a failed condition is raised
    try:
        _transact(
            [{"Delete": {"TableName": table, "Key": goal_key, "ConditionExpression": "attribute_exists(pk)"}}, *guards]
        )
    except ClientError as error:
        if _condition_failures(error)[:1] == [True]:
            raise NotFound(f"Goal {goal.goal_id} not found for site {site_id}") from error
        raise
