"""Visitor-id salts in the salts table: one random salt per site and site-local date.

Item layout (see docs/data-model.md):
  SALT#<site id> / <local date YYYY-MM-DD>   salt (16 random bytes), ttl
The first writer wins through `attribute_not_exists(pk)`; everyone else reads the winner's salt.
The table is apart from Main because Main has point-in-time recovery: a restored backup must
never hold a salt, which would let its holder recover the address behind a visitor id.
"""

from botocore.exceptions import ClientError

from aizen.store.dynamo import dynamo_operation, is_condition_failure, salts_table


def _key(site_id: str, local_date: str) -> dict[str, str]:
    return {"pk": f"SALT#{site_id}", "sk": local_date}


@dynamo_operation
def get_salt(site_id: str, local_date: str) -> bytes | None:
    item = salts_table().get_item(Key=_key(site_id, local_date), ConsistentRead=True).get("Item")
    return bytes(item["salt"]) if item else None  # type: ignore[arg-type]


@dynamo_operation
def put_salt_if_absent(site_id: str, local_date: str, salt: bytes, expires_at: int) -> bool:
    """Store `salt` unless the date already has one; False when another writer was first."""
    try:
        salts_table().put_item(
            Item={**_key(site_id, local_date), "salt": salt, "ttl": expires_at},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True
