"""POST /api/event's domain list (`d`) cannot make one request cost many DynamoDB calls or a 500.

Each attack is reproduced through the real handler against moto, counting the store's calls.
"""

import json
from typing import Any

import pytest

from aizen.ingest import service
from aizen.store import accounts
from aizen.store.dynamo import MAX_IDLE_ROUNDS
from tests.support import (
    FrozenClock,
    HandlerResponse,
    invoke,
    leave_keys_unprocessed,
    make_owner,
    record_dynamodb_calls,
)

FUNCTION = "IngestEventFunction"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def post(domain: str, *, ip: str = "198.51.100.7") -> HandlerResponse:
    body = json.dumps({"n": "pageview", "u": "https://example.com/", "d": domain})
    return invoke(
        FUNCTION,
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": UA},
        body=body,
        source_ip=ip,
    )


def _operations(calls: list[Any]) -> list[str]:
    """The calls' operations, the salts' aside (made on first use per day, then cached)."""
    return [call.operation for call in calls if "SALT#" not in call.body]


def test_a_body_full_of_domains_is_400_before_any_lookup(clock: FrozenClock) -> None:
    # Given: one 8 KiB body listing about 2,000 distinct unknown domains (under the body limit)
    make_owner()
    names: list[str] = []
    while len(",".join(names)) < 7_900:
        names.append(f"{len(names):x}.io")
    calls = record_dynamodb_calls()

    # When
    response = post(",".join(names))

    # Then: 400 naming `domain`, and only the address's rate counter was touched (no lookup at all)
    assert len(names) > 1_000
    assert (response.status, response.body["error"]["code"]) == (400, "invalid_request")
    assert response.body["error"]["message"].startswith("domain (d): at most 10 domains")
    assert _operations(calls) == ["UpdateItem"]


def test_a_domain_over_the_key_size_limit_is_400_not_500(clock: FrozenClock) -> None:
    # Given: a "domain" that would make a DOMAIN# key over DynamoDB's 2,048-byte limit
    make_owner()
    calls = record_dynamodb_calls()

    # When
    response = post("a" * 2_100 + ".test")

    # Then: the client's mistake, never reaching DynamoDB (a ValidationException would be a 500,
    # which an attacker could repeat to trip the alarms that roll back deployments)
    assert (response.status, response.body["error"]["code"]) == (400, "invalid_request")
    assert response.body["error"]["message"].startswith("domain (d): ")
    assert _operations(calls) == ["UpdateItem"]


@pytest.mark.parametrize(
    "domain",
    ["exa mple.com", "-example.com", "example-.com", "example..com", "exa_mple.com", "a" * 64 + ".com",
     "example.com/path", "https://example.com", "example.com:8080", ".".join(["abcdefgh"] * 29)],
)  # fmt: skip
def test_a_domain_that_is_not_a_hostname_is_400_naming_it(clock: FrozenClock, domain: str) -> None:
    make_owner()

    response = post(f"example.com,{domain}")

    assert (response.status, response.body["error"]["code"]) == (400, "invalid_request")
    assert response.body["error"]["message"].startswith("domain (d): ")


def test_unknown_domains_are_looked_up_once_per_environment(clock: FrozenClock) -> None:
    # Given: a request for unknown domains, answered 404
    make_owner()
    assert post("unknown-1.test,unknown-2.test").status == 404
    calls = record_dynamodb_calls()

    # When: the same domains again
    again = post("unknown-1.test,unknown-2.test")

    # Then: still 404, from the cache: only the address's counter moved
    assert again.status == 404
    assert _operations(calls) == ["UpdateItem"]


def test_a_site_created_after_a_miss_counts_within_a_minute(clock: FrozenClock) -> None:
    # Given: a domain looked up (and cached) before its site existed
    assert post("example.com").status == 404

    # When: the site is created; the miss is still cached for a while, then expires
    make_owner()
    clock.advance(service.UNKNOWN_DOMAIN_CACHE_SECONDS - 1)
    still_cached = post("example.com")
    clock.advance(2)
    counted = post("example.com")

    # Then
    assert service.UNKNOWN_DOMAIN_CACHE_SECONDS <= 60
    assert (still_cached.status, counted.status) == (404, 202)


def test_ten_domains_are_looked_up_in_one_batch(clock: FrozenClock) -> None:
    # Given: two sites, and a request listing them among eight unknown domains
    make_owner()
    make_owner(user_id="user_2", site_id="site_2", domain="other.test")
    domains = ["example.com", "other.test", *(f"unknown-{n}.test" for n in range(8))]
    calls = record_dynamodb_calls()

    # When
    response = post(",".join(domains))

    # Then: one BatchGetItem for the ten domains, one for the two sites, instead of 12 GetItems
    assert response.status == 202
    lookups = [call for call in calls if call.operation in ("GetItem", "BatchGetItem") and "SALT#" not in call.body]
    assert _operations(lookups) == ["BatchGetItem", "BatchGetItem"]
    [domain_keys] = json.loads(lookups[0].body)["RequestItems"].values()
    assert len(domain_keys["Keys"]) == 10


def test_eleven_domains_are_400(clock: FrozenClock) -> None:
    make_owner()

    response = post(",".join(["example.com", *(f"unknown-{n}.test" for n in range(10))]))

    assert (response.status, response.body["error"]["code"]) == (400, "invalid_request")
    assert response.body["error"]["message"].startswith("domain (d): at most 10 domains")


def test_the_domain_cache_is_bounded_and_keeps_the_newest(clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a cache of two domains, and three unknown domains looked up in turn
    monkeypatch.setattr(service, "MAX_CACHED_DOMAINS", 2)
    for domain in ("a.test", "b.test", "c.test"):
        assert post(domain).status == 404
    calls = record_dynamodb_calls()

    # When / Then: the two newest are answered from the cache, the oldest is looked up again
    assert (post("c.test").status, post("b.test").status, post("a.test").status) == (404, 404, 404)
    assert _operations(calls) == ["UpdateItem", "UpdateItem", "UpdateItem", "BatchGetItem"]


def test_keys_a_batch_left_unprocessed_are_asked_again(clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: DynamoDB leaves the first lookup's keys unprocessed (under load)
    make_owner()
    pauses: list[float] = []
    monkeypatch.setattr(accounts, "_sleep", pauses.append)
    left = leave_keys_unprocessed(times=1)

    # When / Then: they are asked again after a pause, and the event is stored
    assert post("example.com,other.test").status == 202
    assert left == [2]
    assert len(pauses) == 1


def test_lookups_that_stay_unprocessed_are_a_503_after_bounded_rounds(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_owner()
    monkeypatch.setattr(accounts, "_sleep", lambda seconds: None)
    left = leave_keys_unprocessed()

    response = post("example.com")

    assert (response.status, response.body["error"]["code"]) == (503, "service_unavailable")
    assert len(left) == MAX_IDLE_ROUNDS + 1
