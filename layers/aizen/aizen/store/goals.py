"""A site's goals in the main table: `SITE#<site id>` / `GOAL#<goal id>` (docs/data-model.md)."""

from decimal import Decimal
from typing import Any

from aizen.goals import Goal
from aizen.store.dynamo import dynamo_operation, main_table

_FIELDS = ("goal_id", "name", "event_name", "page_pattern", "created_at")


def _goal(item: dict[str, Any]) -> Goal:
    values: dict[str, Any] = {
        name: int(value) if isinstance(value := item[name], Decimal) else value for name in _FIELDS if name in item
    }
    return Goal(**values)


@dynamo_operation
def list_goals(site_id: str) -> list[Goal]:
    """Every goal of a site, oldest first (ids sort by creation)."""
    goals: list[Goal] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :site AND begins_with(sk, :goals)",
        "ExpressionAttributeValues": {":site": f"SITE#{site_id}", ":goals": "GOAL#"},
    }
    while True:
        page = main_table().query(**query)
        goals.extend(_goal(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(goals, key=lambda goal: (goal.created_at, goal.goal_id))
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dynamo_operation
def put_goal(site_id: str, goal: Goal) -> None:
    """Store a new goal (the management service checks the per-site limit and names)."""
    item = {name: value for name in _FIELDS if (value := getattr(goal, name)) is not None}
    main_table().put_item(
        Item={"pk": f"SITE#{site_id}", "sk": f"GOAL#{goal.goal_id}", **item},
        ConditionExpression="attribute_not_exists(pk)",
    )
