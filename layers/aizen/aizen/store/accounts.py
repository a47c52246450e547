"""Users, sites, dashboard sessions and API keys in the main table.

Item layout (see docs/data-model.md):
  USER#<id>        / USER       the user
  EMAIL#<email>    / EMAIL      uniqueness guard for emails
  SITE#<id>        / SITE       the site (and `active_keys`, its count of keys not revoked)
  SITE#<id>        / KEY#<id>   an API key's public record (listing, revoke, last_used_at)
  DOMAIN#<domain>  / DOMAIN     site lookup by domain, uniqueness guard
  SITES            / <site id>  registry of sites (the rollup walks it)
  SESSION#<hash>   / SESSION    dashboard session, TTL'd
  TOKEN#<prefix>   / TOKEN      what bearer auth needs, found by the token prefix
"""

import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from aizen.errors import Conflict, KeyLimitReached, ServiceUnavailable
from aizen.models import ApiKey, DashboardSession, Site, TokenRecord, User
from aizen.settings import get_settings
from aizen.store.dynamo import (
    MAX_IDLE_ROUNDS,
    backoff,
    cancellation_codes,
    client,
    dynamo_operation,
    error_code,
    is_condition_failure,
    main_table,
)

_NEW_ITEM = "attribute_not_exists(pk)"
_CONFLICT_ATTEMPTS = 4
_sleep: Callable[[float], None] = time.sleep  # tests replace it


def _record[R: (User, Site, DashboardSession, ApiKey, TokenRecord)](record_type: type[R], item: Mapping[str, Any]) -> R:
    """A record from its stored item: its own fields only (keys, ttl and markers are the store's);
    a field the item lacks was null. DynamoDB numbers come back as Decimal; every number we
    store is an integer."""
    values: dict[str, Any] = {
        name: int(value) if isinstance(value := item[name], Decimal) else value
        for name in record_type._fields
        if name in item
    }
    return record_type(**values)


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


def _transact(items: list[dict[str, Any]]) -> None:
    """One TransactWriteItems. A cancellation only by other transactions on the same items
    (`TransactionConflict`: two key changes of one site meet on its `active_keys`) is tried again
    after a short jittered pause, _CONFLICT_ATTEMPTS times in all, then it is a 503. Any other
    failure (a condition included) is raised as it is."""
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        try:
            client().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            if "ConditionalCheckFailed" in codes or "TransactionConflict" not in codes:
                raise
            if attempt == _CONFLICT_ATTEMPTS:
                raise ServiceUnavailable(
                    "Another request is changing the same records; retry after the Retry-After delay"
                ) from error
            _sleep(backoff(attempt))
        else:
            return


def _condition_failures(error: ClientError) -> list[bool]:
    """Per item of a transaction cancelled by conditions: whether its condition failed; else re-raise."""
    if error_code(error) != "TransactionCanceledException":
        raise error
    return [code == "ConditionalCheckFailed" for code in cancellation_codes(error)]


def _raise_existing(error: ClientError, what: list[str]) -> NoReturn:
    """Conflict naming the first of `what` (the transaction's leading items) that already existed;
    the error itself when none did."""
    taken = [name for name, failed in zip(what, _condition_failures(error), strict=False) if failed]
    if not taken:
        raise error
    raise Conflict(f"{taken[0]} already exists") from error


def _transact_new(items: list[dict[str, Any]], what: list[str]) -> None:
    """Write items that must not exist yet, all or none; name the one that existed."""
    try:
        _transact(items)
    except ClientError as error:
        _raise_existing(error, what)


# Users -------------------------------------------------------------------------------


@dynamo_operation
def put_user(user: User) -> None:
    _transact_new(
        [
            _put_new(f"USER#{user.id}", "USER", user._asdict()),
            _put_new(f"EMAIL#{user.email.lower()}", "EMAIL", {"user_id": user.id}),
        ],
        [f"user {user.id}", f"a user with email {user.email}"],
    )


@dynamo_operation
def get_user(user_id: str) -> User | None:
    item = main_table().get_item(Key={"pk": f"USER#{user_id}", "sk": "USER"}, ConsistentRead=True).get("Item")
    return _record(User, item) if item else None


# Sites -------------------------------------------------------------------------------


@dynamo_operation
def put_site(site: Site) -> None:
    _transact_new(
        [
            _put_new(f"SITE#{site.id}", "SITE", site._asdict()),
            _put_new(f"DOMAIN#{site.domain}", "DOMAIN", {"site_id": site.id}),
            _put_new("SITES", site.id, {"domain": site.domain}),
        ],
        [f"site {site.id}", f"a site with domain {site.domain}", f"site {site.id}"],
    )


@dynamo_operation
def get_site(site_id: str) -> Site | None:
    item = main_table().get_item(Key={"pk": f"SITE#{site_id}", "sk": "SITE"}, ConsistentRead=True).get("Item")
    return _record(Site, item) if item else None


def _get_items(keys: list[dict[str, str]], *, consistent: bool) -> list[dict[str, Any]]:
    """The main table's items at `keys` (distinct, at most 100) that exist: one BatchGetItem, then
    its `UnprocessedKeys` again with backoff, bounded like `dynamo.write_batch`."""
    table = get_settings().main_table
    items: list[dict[str, Any]] = []
    pending = keys
    idle_rounds = 0
    while pending:
        answer: Mapping[str, Any] = client().batch_get_item(
            RequestItems={table: {"Keys": pending, "ConsistentRead": consistent}}
        )
        items.extend(answer.get("Responses", {}).get(table, []))
        left: list[dict[str, str]] = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        idle_rounds = idle_rounds + 1 if len(left) == len(pending) else 0
        if idle_rounds > MAX_IDLE_ROUNDS:
            raise ServiceUnavailable(f"DynamoDB left {len(left)} read(s) unprocessed {idle_rounds} times in a row")
        if left:
            _sleep(backoff(idle_rounds))
        pending = left
    return items


@dynamo_operation
def get_sites_by_domains(domains: Sequence[str]) -> dict[str, Site]:
    """The sites registered for (normalized, distinct) domains, by domain: their DOMAIN# lookup
    items in one BatchGetItem, then the sites' items in another, however many domains are asked."""
    lookups = _get_items([{"pk": f"DOMAIN#{domain}", "sk": "DOMAIN"} for domain in domains], consistent=False)
    site_ids = {str(item["pk"]).removeprefix("DOMAIN#"): str(item["site_id"]) for item in lookups}
    if not site_ids:
        return {}
    site_items = _get_items([_site_key(site_id) for site_id in dict.fromkeys(site_ids.values())], consistent=True)
    sites = {site.id: site for site in (_record(Site, item) for item in site_items)}
    return {domain: sites[site_id] for domain, site_id in site_ids.items() if site_id in sites}


@dynamo_operation
def list_site_ids() -> list[str]:
    """Every site id, from the SITES registry partition (paginated query)."""
    site_ids: list[str] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :registry",
        "ExpressionAttributeValues": {":registry": "SITES"},
        "ProjectionExpression": "sk",
    }
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
        Item={"pk": f"SESSION#{token_hash}", "sk": "SESSION", "ttl": session.expires_at, **session._asdict()},
        ConditionExpression=_NEW_ITEM,
    )


@dynamo_operation
def get_session(token_hash: str) -> DashboardSession | None:
    item = main_table().get_item(Key={"pk": f"SESSION#{token_hash}", "sk": "SESSION"}, ConsistentRead=True).get("Item")
    return _record(DashboardSession, item) if item else None


# API keys ------------------------------------------------------------------------------


# On a key record: the key holds one of its site's `active_keys` until it is revoked. Keys created
# before the counter existed lack it, so revoking them leaves the counter alone.
_COUNTED = "counted"


def _site_key(site_id: str) -> dict[str, str]:
    return {"pk": f"SITE#{site_id}", "sk": "SITE"}


def _take_key_slot(site_id: str, max_active_keys: int) -> dict[str, Any]:
    """Count one more active key on the site's item, unless it already counts `max_active_keys`.

    Sites from before the counter have no `active_keys`: it counts as 0. `attribute_exists(pk)`
    keeps the update from creating a site item of its own.
    """
    return {
        "Update": {
            "TableName": get_settings().main_table,
            "Key": _site_key(site_id),
            "UpdateExpression": "SET active_keys = if_not_exists(active_keys, :zero) + :one",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(active_keys) OR active_keys < :max)",
            "ExpressionAttributeValues": {":zero": 0, ":one": 1, ":max": max_active_keys},
        }
    }


@dynamo_operation
def put_api_key(key: ApiKey, token_hash: str, max_active_keys: int) -> None:
    """The public record, the token record and one more on the site's `active_keys`, together or
    not at all: KeyLimitReached when the site already has `max_active_keys` active keys, Conflict
    when the key id or prefix exists."""
    token = TokenRecord(
        key_prefix=key.key_prefix,
        token_hash=token_hash,
        key_id=key.id,
        site_id=key.site_id,
        scope=key.scope,
        expires_at=key.expires_at,
        revoked_at=None,
    )
    try:
        _transact(
            [
                _put_new(f"SITE#{key.site_id}", f"KEY#{key.id}", {**key._asdict(), _COUNTED: True}),
                _put_new(f"TOKEN#{key.key_prefix}", "TOKEN", token._asdict()),
                _take_key_slot(key.site_id, max_active_keys),
            ]
        )
    except ClientError as error:
        if _condition_failures(error)[2:] == [True]:
            raise KeyLimitReached(
                f"Site {key.site_id} already has {max_active_keys} active API keys, the most a site may have;"
                " revoke one to create another"
            ) from error
        _raise_existing(error, [f"key {key.id}", f"key prefix {key.key_prefix}"])


@dynamo_operation
def list_api_keys(site_id: str) -> list[ApiKey]:
    keys: list[ApiKey] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :site AND begins_with(sk, :keys)",
        "ExpressionAttributeValues": {":site": f"SITE#{site_id}", ":keys": "KEY#"},
        "ConsistentRead": True,
    }
    while True:
        page = main_table().query(**query)
        keys.extend(_record(ApiKey, item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return keys
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dynamo_operation
def get_api_key(site_id: str, key_id: str) -> ApiKey | None:
    item = main_table().get_item(Key={"pk": f"SITE#{site_id}", "sk": f"KEY#{key_id}"}, ConsistentRead=True).get("Item")
    return _record(ApiKey, item) if item else None


def _revocation(key: ApiKey, now: int, *, free_slot: bool) -> list[dict[str, Any]]:
    """The transaction that revokes a key not yet revoked; with `free_slot`, only a counted key,
    and it gives its slot of the site's `active_keys` back."""
    table = get_settings().main_table
    not_yet_revoked = "attribute_exists(pk) AND attribute_not_exists(revoked_at)"
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": f"SITE#{key.site_id}", "sk": f"KEY#{key.id}"},
                "UpdateExpression": "SET revoked_at = :now, updated_at = :now",
                "ConditionExpression": (
                    f"{not_yet_revoked} AND attribute_exists({_COUNTED})" if free_slot else not_yet_revoked
                ),
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
    if free_slot:
        items.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": _site_key(key.site_id),
                    "UpdateExpression": "SET active_keys = active_keys - :one",
                    "ConditionExpression": "active_keys >= :one",
                    "ExpressionAttributeValues": {":one": 1},
                }
            }
        )
    return items


@dynamo_operation
def revoke_api_key(key: ApiKey, now: int) -> bool:
    """Mark both records revoked at `now`; a key that holds a slot of its site's `active_keys`
    gives it back in the same transaction. False (and nothing changed) when the key was already
    revoked.

    Only the revocation that changes the key frees its slot, so revoking twice frees one. No read
    decides anything: the first transaction expects a counted key. When it is cancelled by a
    condition other than revocation (a key from before the counter, whose slot was never taken, or
    a counter already at 0), a second one revokes the key without touching the counter.
    """
    try:
        _transact(_revocation(key, now, free_slot=True))
    except ClientError as error:
        failed = _condition_failures(error)
        if not any(failed):
            raise
        if len(failed) > 1 and failed[1]:
            return False  # the token record is revoked already: so is the key
    else:
        return True
    try:
        _transact(_revocation(key, now, free_slot=False))
    except ClientError as error:
        if any(_condition_failures(error)):
            return False  # revoked meanwhile by another request
        raise
    return True


@dynamo_operation
def get_token_record(key_prefix: str) -> TokenRecord | None:
    item = main_table().get_item(Key={"pk": f"TOKEN#{key_prefix}", "sk": "TOKEN"}, ConsistentRead=True).get("Item")
    if not item:
        return None
    return _record(TokenRecord, item)


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
