"""The limit on active API keys per site: a counter on the site's item, moved in the key's own transaction."""

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aizen import admin
from aizen.auth import keys as key_management
from aizen.auth.keys import MAX_ACTIVE_KEYS_PER_SITE
from aizen.errors import KeyLimitReached
from aizen.store import accounts, dynamo
from aizen_local import demo
from tests.integration.test_api_keys import create, keys_and_tokens, list_keys, revoke
from tests.support import FrozenClock, Owner, make_key, make_owner, record_dynamodb_calls


def site_item(site_id: str) -> dict[str, Any]:
    item = dynamo.main_table().get_item(Key={"pk": f"SITE#{site_id}", "sk": "SITE"}, ConsistentRead=True)["Item"]
    return dict(item)


def active_keys(site_id: str) -> int | None:
    counter = site_item(site_id).get("active_keys")
    return None if counter is None else int(counter)


def fill(owner: Owner, count: int = MAX_ACTIVE_KEYS_PER_SITE) -> list[str]:
    """`count` keys on the owner's site, through the domain (no HTTP, no per-IP window); their ids."""
    return [make_key(owner.site.id, name=f"key {number}")[0].id for number in range(count)]


def make_legacy(site_id: str, key_id: str) -> None:
    """Turn a key into one from before the counter: no `counted` mark, and no counter on the site."""
    table = dynamo.main_table()
    table.update_item(Key={"pk": f"SITE#{site_id}", "sk": f"KEY#{key_id}"}, UpdateExpression="REMOVE counted")
    table.update_item(Key={"pk": f"SITE#{site_id}", "sk": "SITE"}, UpdateExpression="REMOVE active_keys")


def test_the_limit_is_25() -> None:
    assert MAX_ACTIVE_KEYS_PER_SITE == 25


def test_each_created_key_is_counted_on_its_site(owner: Owner) -> None:
    # Given a site from before any key (no counter yet)
    assert active_keys(owner.site.id) is None

    # When two keys are created
    first = create(owner)
    create(owner)

    # Then the site counts two, each key is marked as counted, and the mark is not shown
    assert active_keys(owner.site.id) == 2
    record = dynamo.main_table().get_item(Key={"pk": f"SITE#{owner.site.id}", "sk": f"KEY#{first.body['key']['id']}"})
    assert record["Item"]["counted"] is True
    assert "counted" not in first.body["key"]
    assert all("counted" not in key for key in list_keys(owner).body["keys"])


def test_the_26th_key_is_409_conflict_and_nothing_is_written(owner: Owner) -> None:
    # Given a site with 25 active keys
    fill(owner)
    before = keys_and_tokens()

    # When the owner creates one more
    response = create(owner, {"name": "one too many"})

    # Then it is refused with a conflict that says why and what to do, and nothing is written
    assert response.status == 409, response.body
    assert response.body["error"]["code"] == "conflict"
    message = response.body["error"]["message"]
    assert "25 active API keys" in message
    assert "revoke one" in message
    assert keys_and_tokens() == before
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE
    assert len(list_keys(owner).body["keys"]) == MAX_ACTIVE_KEYS_PER_SITE


def test_the_limit_is_refused_at_once_not_retried_as_a_prefix_collision(owner: Owner) -> None:
    # Given a full site and a recorder
    fill(owner)
    calls = record_dynamodb_calls()

    # When one more key is issued
    with pytest.raises(KeyLimitReached):
        key_management.issue_api_key(owner.site.id, owner.user.id, "one too many", None)

    # Then a single transaction was tried (another prefix would not help)
    assert [call.operation for call in calls] == ["TransactWriteItems"]


def test_revoking_a_key_frees_a_slot(owner: Owner) -> None:
    # Given a full site
    ids = fill(owner)
    assert create(owner).status == 409

    # When the owner revokes one key
    assert revoke(owner, ids[0]).status == 200

    # Then exactly one more key can be created
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE - 1
    assert create(owner).status == 201
    assert create(owner).status == 409
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE


def test_revoking_a_key_twice_frees_one_slot(owner: Owner) -> None:
    # Given a full site
    ids = fill(owner)

    # When the owner revokes the same key twice (the second time is fine, as documented)
    first, second = revoke(owner, ids[0]), revoke(owner, ids[0])

    # Then both answer ok, but only one slot was freed
    assert (first.status, second.status) == (200, 200)
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE - 1
    assert create(owner).status == 201
    assert create(owner).status == 409


def test_expired_keys_count_until_they_are_revoked(owner: Owner, clock: FrozenClock) -> None:
    # Given a full site whose keys all expire in a minute, a minute later
    expiry = datetime.fromtimestamp(clock.now() + 60, UTC)
    ids = [make_key(owner.site.id, name=f"k{number}", expires_at=expiry)[0].id for number in range(25)]
    clock.advance(120)

    # When a key is created, then an expired one is revoked and a key is created again
    refused = create(owner)
    revoked = revoke(owner, ids[0])
    created = create(owner)

    # Then expired keys held their slots until revoked
    assert (refused.status, revoked.status, created.status) == (409, 200, 201)


def test_a_key_of_another_site_does_not_count(owner: Owner) -> None:
    # Given a full site, and a second site of another owner
    fill(owner)
    other = make_owner(user_id="user_2", site_id="site_2", domain="other.example")

    # Then the second site can still create keys, and its counter is its own
    assert create(other).status == 201
    assert active_keys(other.site.id) == 1
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE


# Concurrency: the limit is the condition of the creating transaction itself -------------------


def test_a_creation_racing_another_for_the_last_slot_is_refused(owner: Owner) -> None:
    # Given a site with one slot left, and another creation that lands while ours is on its way
    # (between the moment our request was checked and its write reaching DynamoDB)
    fill(owner, MAX_ACTIVE_KEYS_PER_SITE - 1)
    raced: list[str] = []

    def another_creation_lands_first(**_: Any) -> None:
        if not raced:  # once: the racer's own transaction passes through here too
            raced.append("racing")
            make_key(owner.site.id, name="the racer")

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", another_creation_lands_first)
    try:
        # When our creation's transaction arrives
        response = create(owner, {"name": "ours"})
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", another_creation_lands_first)

    # Then the racer took the last slot and ours is refused: never 26 active keys
    assert raced
    assert response.status == 409
    names = [key["name"] for key in list_keys(owner).body["keys"]]
    assert "the racer" in names
    assert "ours" not in names
    assert len(names) == MAX_ACTIVE_KEYS_PER_SITE == active_keys(owner.site.id)


def test_the_counter_decides_not_a_count_of_the_keys(owner: Owner) -> None:
    # Given a site without keys whose counter says it is full (as it would be mid-burst)
    dynamo.main_table().update_item(
        Key={"pk": f"SITE#{owner.site.id}", "sk": "SITE"},
        UpdateExpression="SET active_keys = :full",
        ExpressionAttributeValues={":full": MAX_ACTIVE_KEYS_PER_SITE},
    )

    # When a key is created, then
    assert create(owner).status == 409
    assert list_keys(owner).body["keys"] == []


class _ConflictingClient:
    """The store's client, but the first `times` TransactWriteItems are cancelled by another transaction."""

    def __init__(self, real: Any, times: int) -> None:
        self._real = real
        self.cancelled = 0
        self._times = times

    def transact_write_items(self, **kwargs: Any) -> Any:
        if self.cancelled < self._times:
            self.cancelled += 1
            reasons = [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1) + [{"Code": "TransactionConflict"}]
            answer: dict[str, Any] = {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": reasons,
            }
            raise ClientError(answer, "TransactWriteItems")  # type: ignore[arg-type]
        return self._real.transact_write_items(**kwargs)


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses between attempts, recorded instead of slept."""
    pauses: list[float] = []
    monkeypatch.setattr(accounts, "_sleep", pauses.append)
    return pauses


def test_a_transaction_conflict_on_the_counter_is_tried_again(
    owner: Owner, monkeypatch: pytest.MonkeyPatch, no_pauses: list[float]
) -> None:
    # Given two transactions cancelled by another one on the site's counter (DynamoDB's TransactionConflict)
    conflicting = _ConflictingClient(dynamo.client(), times=2)
    monkeypatch.setattr(accounts, "client", lambda: conflicting)

    # When a key is created
    response = create(owner)

    # Then the third attempt lands, after two short pauses
    assert response.status == 201
    assert conflicting.cancelled == 2
    assert len(no_pauses) == 2
    assert all(0 <= pause <= 0.5 for pause in no_pauses)
    assert active_keys(owner.site.id) == 1


def test_a_transaction_conflict_that_persists_is_503(
    owner: Owner, monkeypatch: pytest.MonkeyPatch, no_pauses: list[float]
) -> None:
    # Given every transaction cancelled by another one
    conflicting = _ConflictingClient(dynamo.client(), times=1000)
    monkeypatch.setattr(accounts, "client", lambda: conflicting)

    # When a key is created
    created = create(owner)

    # Then it is 503 with Retry-After after a bounded number of attempts, and nothing is written
    assert created.status == 503
    assert created.body["error"]["code"] == "service_unavailable"
    assert "retry-after" in created.headers
    assert conflicting.cancelled == 4
    assert keys_and_tokens() == []


# Sites and keys from before the counter --------------------------------------------------------


def test_a_site_from_before_the_counter_starts_counting_from_zero(owner: Owner) -> None:
    # Given a site with a key from before the counter (no counter, key not marked)
    legacy = make_key(owner.site.id, name="legacy")[0].id
    make_legacy(owner.site.id, legacy)

    # When keys are created
    fill(owner)

    # Then the counter counts the new ones only: the legacy key is not in it
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE
    assert create(owner).status == 409


def test_revoking_a_key_from_before_the_counter_frees_no_slot(owner: Owner) -> None:
    # Given a legacy key, then a full counter of new keys
    legacy = make_key(owner.site.id, name="legacy")[0].id
    make_legacy(owner.site.id, legacy)
    fill(owner)

    # When the legacy key is revoked (twice)
    responses = [revoke(owner, legacy), revoke(owner, legacy)]

    # Then it is revoked, and the counter of the new keys is untouched
    assert [response.status for response in responses] == [200, 200]
    stored = accounts.get_api_key(owner.site.id, legacy)
    assert stored is not None
    assert stored.revoked_at is not None
    assert active_keys(owner.site.id) == MAX_ACTIVE_KEYS_PER_SITE
    assert create(owner).status == 409


def test_revoking_a_legacy_key_on_a_site_without_counter_leaves_it_without(owner: Owner) -> None:
    legacy = make_key(owner.site.id, name="legacy")[0].id
    make_legacy(owner.site.id, legacy)

    assert revoke(owner, legacy).status == 200

    assert active_keys(owner.site.id) is None
    assert accounts.get_token_record(accounts.get_api_key(owner.site.id, legacy).key_prefix).revoked_at is not None  # type: ignore[union-attr]


def test_a_counter_already_at_zero_never_goes_negative(owner: Owner) -> None:
    # Given a counted key whose site counter was set to 0 by hand
    key_id = make_key(owner.site.id)[0].id
    dynamo.main_table().update_item(
        Key={"pk": f"SITE#{owner.site.id}", "sk": "SITE"},
        UpdateExpression="SET active_keys = :zero",
        ExpressionAttributeValues={":zero": 0},
    )

    # When it is revoked
    response = revoke(owner, key_id)

    # Then the key is revoked all the same, and the counter stays at 0
    assert response.status == 200
    assert accounts.get_api_key(owner.site.id, key_id).revoked_at is not None  # type: ignore[union-attr]
    assert active_keys(owner.site.id) == 0


# The demo tenant of `aizen serve` -------------------------------------------------------------


def test_a_demo_restarted_on_a_kept_store_revokes_its_oldest_demo_key_to_make_room(clock: FrozenClock) -> None:
    # Given the demo site from earlier starts on a store kept across restarts, at the limit of keys
    user = admin.create_user(demo.DEMO_EMAIL, user_id=demo.DEMO_USER_ID)
    site = admin.create_site(demo.DEMO_DOMAIN, demo.DEMO_TIMEZONE, user.id, site_id=demo.DEMO_SITE_ID)
    started: list[str] = []
    for _ in range(MAX_ACTIVE_KEYS_PER_SITE):
        started.append(demo.seed_demo().api_key)
        clock.advance(1)

    # When the stack starts once more
    tenant = demo.seed_demo()

    # Then it has a working key, and the oldest demo key made room for it
    keys = key_management.site_keys(site.id)
    assert [key.revoked_at is not None for key in keys] == [False] * MAX_ACTIVE_KEYS_PER_SITE + [True]
    assert tenant.api_key not in started
    assert active_keys(site.id) == MAX_ACTIVE_KEYS_PER_SITE
