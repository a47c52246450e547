"""Fixed-window rate counters: one atomic conditional UpdateItem per request."""

from botocore.exceptions import ClientError

from aizen.store.dynamo import dynamo_operation, is_condition_failure, main_table


@dynamo_operation
def increment_window(counter: str, window_start: int, window_end: int, limit: int) -> int | None:
    """Add one to the counter of this window unless it already reached `limit`.

    Returns the new count, or None when the window is full. The item expires
    (TTL) a minute after its window ends.
    """
    try:
        answer = main_table().update_item(
            Key={"pk": f"RATE#{counter}", "sk": str(window_start)},
            UpdateExpression="ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":ttl": window_end + 60},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise
    return int(answer["Attributes"]["hits"])  # type: ignore[arg-type]
