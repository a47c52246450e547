"""Unexpected errors and DynamoDB overload become 500 / 503 without leaking internals."""

from collections.abc import Callable

import pytest

from aizen.models import ApiKey
from aizen.settings import Settings
from aizen.store import accounts
from tests.support import (
    STATS_PATHS,
    Owner,
    bearer,
    dashboard_headers,
    fail_dynamodb,
    invoke,
    keys_path,
)

ApplyEnv = Callable[..., Settings]
AGGREGATE = ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])
REALTIME = ("StatsRealtimeFunction", STATS_PATHS["StatsRealtimeFunction"])


def _explode(*_: object, **__: object) -> None:
    raise RuntimeError("secret internals")


@pytest.fixture
def fast_failures(aizen_env: ApplyEnv) -> Settings:
    """One attempt per DynamoDB call: the injected error is the SDK's final answer."""
    return aizen_env(DYNAMODB_MAX_ATTEMPTS="1")


# 500 --------------------------------------------------------------------------------------------


def test_unexpected_exception_is_500_with_a_request_id_and_no_internals(
    api_key: tuple[ApiKey, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a store that fails in an unforeseen way
    monkeypatch.setattr(accounts, "get_token_record", _explode)

    # When a stats request arrives
    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    # Then the client gets a generic 500 that names the request, not the cause
    assert response.status == 500
    assert response.body["error"]["code"] == "internal_error"
    request_id = response.headers["x-request-id"]
    assert request_id
    assert request_id in response.body["error"]["message"]
    assert "secret internals" not in str(response.body)
    assert "RuntimeError" not in str(response.body)
    assert "Traceback" not in str(response.body)
    # and the operators get the stack trace, under the same request id
    logs = capsys.readouterr().out
    assert "secret internals" in logs
    assert request_id in logs


def test_unexpected_exception_in_key_management_is_500(owner: Owner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "list_api_keys", _explode)

    response = invoke(
        "ApiKeysListFunction", keys_path(owner.site.id), headers=dashboard_headers(owner.session, origin=None)
    )

    assert response.status == 500
    assert response.body["error"]["code"] == "internal_error"
    assert "secret internals" not in str(response.body)


def test_realtime_500_is_still_no_store(api_key: tuple[ApiKey, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "get_site", _explode)

    response = invoke(*REALTIME, headers=bearer(api_key[1]))

    assert response.status == 500
    assert response.headers["cache-control"] == "no-store"


# 503 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_throttling_of_the_rate_counter_is_503_with_retry_after(
    api_key: tuple[ApiKey, str], fast_failures: Settings, code: str
) -> None:
    # Given DynamoDB that keeps throttling every call
    refused = fail_dynamodb(code)

    # When a stats request arrives
    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    # Then after one attempt (the configured maximum) the client is told to come back later
    assert refused == ["UpdateItem"]
    assert response.status == 503
    assert response.body["error"]["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) >= 1
    assert code not in str(response.body)


def test_the_sdk_retries_throttling_up_to_the_configured_attempts(
    api_key: tuple[ApiKey, str], aizen_env: ApplyEnv
) -> None:
    # Given two attempts per call and a token lookup that is always throttled
    aizen_env(DYNAMODB_MAX_ATTEMPTS="2")
    refused = fail_dynamodb(operation="GetItem")

    # When a stats request arrives
    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    # Then the SDK tried twice before the request became a 503
    assert refused == ["GetItem", "GetItem"]
    assert response.status == 503


def test_a_throttle_that_clears_within_the_retries_is_invisible(
    api_key: tuple[ApiKey, str], aizen_env: ApplyEnv
) -> None:
    # Given two attempts per call and a DynamoDB that throttles only the first token lookup
    aizen_env(DYNAMODB_MAX_ATTEMPTS="2")
    refused = fail_dynamodb(operation="GetItem", times=1)

    # When a stats request arrives
    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    # Then the retry succeeded and the request went through
    assert refused == ["GetItem"]
    assert response.status == 200


def test_throttling_of_the_token_lookup_is_503(api_key: tuple[ApiKey, str], fast_failures: Settings) -> None:
    refused = fail_dynamodb(operation="GetItem")

    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    assert refused == ["GetItem"]
    assert response.status == 503
    assert int(response.headers["retry-after"]) >= 1


def test_throttling_in_key_management_is_503(owner: Owner, fast_failures: Settings) -> None:
    refused = fail_dynamodb(operation="TransactWriteItems")

    response = invoke(
        "ApiKeysCreateFunction",
        keys_path(owner.site.id),
        headers=dashboard_headers(owner.session),
        body='{"name": "k"}',
    )

    assert refused == ["TransactWriteItems"]
    assert response.status == 503
    assert response.body["error"]["code"] == "service_unavailable"
    assert "retry-after" in response.headers


def test_other_dynamodb_errors_are_500_not_503(api_key: tuple[ApiKey, str], fast_failures: Settings) -> None:
    fail_dynamodb("ValidationException", operation="GetItem")

    response = invoke(*AGGREGATE, headers=bearer(api_key[1]))

    assert response.status == 500
    assert "ValidationException" not in str(response.body)


# Logs -------------------------------------------------------------------------------------------


def test_logs_of_a_full_request_cycle_hold_no_secrets_and_no_client_ip(
    owner: Owner, capsys: pytest.CaptureFixture[str], aizen_env: ApplyEnv
) -> None:
    # Given a tight key limit, so the cycle includes a 429
    aizen_env(KEY_LIMIT_PER_HOUR="2")
    client_ip = "203.0.113.77"
    session = dashboard_headers(owner.session)

    # When a key is created, used, over-used, listed, revoked and used again, all from one address
    created = invoke(
        "ApiKeysCreateFunction", keys_path(owner.site.id), headers=session, body='{"name": "k"}', source_ip=client_ip
    )
    token = created.body["token"]
    statuses = [created.status]
    for function, path in [AGGREGATE, REALTIME, AGGREGATE]:
        statuses.append(invoke(function, path, headers=bearer(token), source_ip=client_ip).status)
    statuses.append(invoke(*AGGREGATE, headers=bearer("aiz_live_0123456789ab_" + "f" * 64), source_ip=client_ip).status)
    statuses.append(
        invoke("ApiKeysListFunction", keys_path(owner.site.id), headers=session, source_ip=client_ip).status
    )
    statuses.append(
        invoke(
            "ApiKeysRevokeFunction",
            keys_path(owner.site.id, created.body["key"]["id"]),
            headers=session,
            source_ip=client_ip,
        ).status
    )
    statuses.append(invoke(*AGGREGATE, headers=bearer(token), source_ip=client_ip).status)
    assert statuses == [201, 200, 200, 429, 401, 200, 200, 401]

    # Then something was logged, but none of the secrets nor the address
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert logs.count('"request refused"') == 3  # the 429 and two 401s
    assert '"correlation_id"' in logs
    assert token not in logs
    assert token.rsplit("_", 1)[1] not in logs
    assert owner.session.token not in logs
    assert client_ip not in logs
