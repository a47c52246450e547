"""Users, sites, dashboard sessions and API keys in the main table.

Item layout (see docs/data-model.md):
  USER#<id>        / USER       the user
  EMAIL#<email>    / EMAIL      uniqueness guard for emails
  SITE#<id>        / SITE       the site
  SITE#<id>        / KEY#<id>   an API key's public record (listing, revoke, last_used_at)
  DOMAIN#<domain>  / DOMAIN     site lookup by domain, uniqueness guard
  SITES            / <site id>  registry of sites (the rollup walks it)
  SESSION#<hash>   / SESSION    dashboard session, TTL'd
  TOKEN#<prefix>   / TOKEN      what bearer auth needs, found by the token prefix
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from aizen.errors import Conflict
from aizen.models import ApiKey, DashboardSession, Site, TokenRecord, User
from aizen.settings import get_settings
from aizen.store.dynamo import (
    cancellation_codes,
    client,
    dynamo_operation,
    error_code,
    is_condition_failure,
    main_table,
)

_NEW_ITEM = "attribute_not_exists(pk)"


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers come back as Decimal; every number we store is an integer."""
    return {
        name: int(value) if isinstance(value, Decimal) else value
        for name, value in item.items()
        if name not in ("pk", "sk", "ttl")
    }


def _without_nulls(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if value is not None}


def _put_new(pk: str, sk: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": get_settings().main_table,
            "Item": {"pk": pk, "sk": sk, **_without_nulls(attributes)},
            "ConditionExpression": _NEW_ITEM,
        }
    }


def _transact_new(items: list[dict[str, Any]], what: list[str]) -> None:
    """Write items that must not exist yet, all or none; name the one that existed."""
    try:
        client().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) != "TransactionCanceledException":
            raise
        codes = cancellation_codes(error)
        taken = [name for name, code in zip(what, codes, strict=False) if code == "ConditionalCheckFailed"]
        if not taken:
            raise
        raise Conflict(f"{taken[0]} already exists") from error


# Users -------------------------------------------------------------------------------


@dynamo_operation
def put_user(user: User) -> None:
    _transact_new(
        [
            _put_new(f"USER#{user.id}", "USER", user.model_dump()),
            _put_new(f"EMAIL#{user.email.lower()}", "EMAIL", {"user_id": user.id}),
        ],
        [f"user {user.id}", f"a user with email {user.email}"],
    )


@dynamo_operation
def get_user(user_id: str) -> User | None:
    item = main_table().get_item(Key={"pk": f"USER#{user_id}", "sk": "USER"}, ConsistentRead=True).get("Item")
    return User.model_validate(_plain(item)) if item else None


# Sites -------------------------------------------------------------------------------


@dynamo_operation
def put_site(site: Site) -> None:
    _transact_new(
        [
            _put_new(f"SITE#{site.id}", "SITE", site.model_dump()),
            _put_new(f"DOMAIN#{site.domain}", "DOMAIN", {"site_id": site.id}),
            _put_new("SITES", site.id, {"domain": site.domain}),
        ],
        [f"site {site.id}", f"a site with domain {site.domain}", f"site {site.id}"],
    )


@dynamo_operation
def get_site(site_id: str) -> Site | None:
    item = main_table().get_item(Key={"pk": f"SITE#{site_id}", "sk": "SITE"}, ConsistentRead=True).get("Item")
    return Site.model_validate(_plain(item)) if item else None


@dynamo_operation
def get_site_id_by_domain(domain: str) -> str | None:
    """The site registered for a (normalized) domain, from its DOMAIN# lookup item."""
    item = main_table().get_item(Key={"pk": f"DOMAIN#{domain}", "sk": "DOMAIN"}).get("Item")
    return str(item["site_id"]) if item else None


@dynamo_operation
def list_site_ids() -> list[str]:
    """Every site id, from the SITES registry partition (paginated query)."""
    site_ids: list[str] = []
    query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq("SITES"), "ProjectionExpression": "sk"}
    while True:
        page = main_table().query(**query)
        site_ids.extend(str(item["sk"]) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return site_ids
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# Dashboard sessions --------------------------------------------------------------------


@dynamo_operation
def put_session(token_hash: str, session: DashboardSession) -> None:
    main_table().put_item(
        Item={"pk": f"SESSION#{token_hash}", "sk": "SESSION", "ttl": session.expires_at, **session.model_dump()},
        ConditionExpression=_NEW_ITEM,
    )


@dynamo_operation
def get_session(token_hash: str) -> DashboardSession | None:
    item = main_table().get_item(Key={"pk": f"SESSION#{token_hash}", "sk": "SESSION"}, ConsistentRead=True).get("Item")
    return DashboardSession.model_validate(_plain(item)) if item else None


# API keys ------------------------------------------------------------------------------


@dynamo_operation
def put_api_key(key: ApiKey, token_hash: str) -> None:
    """The public record and the token record, together or not at all."""
    token = TokenRecord(
        key_prefix=key.key_prefix,
        token_hash=token_hash,
        key_id=key.id,
        site_id=key.site_id,
        scope=key.scope,
        expires_at=key.expires_at,
        revoked_at=None,
    )
    _transact_new(
        [
            _put_new(f"SITE#{key.site_id}", f"KEY#{key.id}", key.model_dump()),
            _put_new(f"TOKEN#{key.key_prefix}", "TOKEN", token.model_dump()),
        ],
        [f"key {key.id}", f"key prefix {key.key_prefix}"],
    )


def _api_key(item: Mapping[str, Any]) -> ApiKey:
    record = {"expires_at": None, "last_used_at": None, "revoked_at": None, **_plain(item)}
    return ApiKey.model_validate(record)


@dynamo_operation
def list_api_keys(site_id: str) -> list[ApiKey]:
    keys: list[ApiKey] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(f"SITE#{site_id}") & Key("sk").begins_with("KEY#"),
        "ConsistentRead": True,
    }
    while True:
        page = main_table().query(**query)
        keys.extend(_api_key(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return keys
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dynamo_operation
def get_api_key(site_id: str, key_id: str) -> ApiKey | None:
    item = main_table().get_item(Key={"pk": f"SITE#{site_id}", "sk": f"KEY#{key_id}"}, ConsistentRead=True).get("Item")
    return _api_key(item) if item else None


@dynamo_operation
def revoke_api_key(key: ApiKey, now: int) -> bool:
    """Mark both records revoked at `now`; False when the key was already revoked."""
    table = get_settings().main_table
    not_yet_revoked = "attribute_exists(pk) AND attribute_not_exists(revoked_at)"
    try:
        client().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": f"SITE#{key.site_id}", "sk": f"KEY#{key.id}"},
                        "UpdateExpression": "SET revoked_at = :now, updated_at = :now",
                        "ConditionExpression": not_yet_revoked,
                        "ExpressionAttributeValues": {":now": now},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": f"TOKEN#{key.key_prefix}", "sk": "TOKEN"},
                        "UpdateExpression": "SET revoked_at = :now",
                        "ConditionExpression": not_yet_revoked,
                        "ExpressionAttributeValues": {":now": now},
                    }
                },
            ]
        )
    except ClientError as error:
        if error_code(error) == "TransactionCanceledException" and "ConditionalCheckFailed" in cancellation_codes(
            error
        ):
            return False
        raise
    return True


@dynamo_operation
def get_token_record(key_prefix: str) -> TokenRecord | None:
    item = main_table().get_item(Key={"pk": f"TOKEN#{key_prefix}", "sk": "TOKEN"}, ConsistentRead=True).get("Item")
    if not item:
        return None
    return TokenRecord.model_validate({"expires_at": None, "revoked_at": None, **_plain(item)})


@dynamo_operation
def touch_api_key(site_id: str, key_id: str, now: int, resolution: int) -> bool:
    """Set last_used_at unless it was set less than `resolution` seconds ago.

    One conditional UpdateItem: no read first, and at most one write per key per
    `resolution` seconds however many requests arrive. False when skipped.
    """
    try:
        main_table().update_item(
            Key={"pk": f"SITE#{site_id}", "sk": f"KEY#{key_id}"},
            UpdateExpression="SET last_used_at = :now",
            ConditionExpression=(
                "attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at <= :stale)"
            ),
            ExpressionAttributeValues={":now": now, ":stale": now - resolution},
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True
