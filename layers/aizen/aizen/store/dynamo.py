"""DynamoDB connections and the translation of SDK failures into domain errors."""

import binascii
import functools
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from aizen.errors import ServiceUnavailable
from aizen.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

P = ParamSpec("P")
R = TypeVar("R")

# Error codes that mean "DynamoDB is overloaded or briefly unavailable": the SDK's
# standard retry mode already retried them; what is left becomes a 503.
_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
_TIMEOUTS = (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError, ConnectionClosedError)


def _config() -> Config:
    settings = get_settings()
    return Config(
        # total_max_attempts counts the first try; botocore's `max_attempts` would count only retries.
        retries={"mode": "standard", "total_max_attempts": settings.dynamodb_max_attempts},
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
    )


@functools.lru_cache(maxsize=1)
def resource() -> "DynamoDBServiceResource":
    """One DynamoDB resource per process (reused across warm invocations).

    Endpoint and region follow boto3's standard configuration, so
    AWS_ENDPOINT_URL_DYNAMODB points it at a local store.
    """
    return boto3.resource("dynamodb", config=_config())


def client() -> "DynamoDBClient":
    """The resource's client: it accepts native Python values, like the resource."""
    return resource().meta.client


@functools.lru_cache(maxsize=3)
def _new_table(name: str) -> "Table":
    return resource().Table(name)


_table_lock = threading.Lock()


def _table(name: str) -> "Table":
    """One Table object per table and process.

    boto3 builds a new class for every `Table(...)` (~0.3 ms: `python -m timeit -s
    "import boto3; r = boto3.resource('dynamodb', region_name='us-east-1')" "r.Table('x')"`),
    and a 30-day query reads 124 partitions. The store's threads share the object: its
    actions only read the table's name and call the (thread-safe) client. The lock makes
    the query threads that ask first wait for one Table rather than each build one
    (`lru_cache` does not hold callers of a missing key back).
    """
    with _table_lock:
        return _new_table(name)


def main_table() -> "Table":
    return _table(get_settings().main_table)


def events_table() -> "Table":
    return _table(get_settings().events_table)


def salts_table() -> "Table":
    return _table(get_settings().salts_table)


def reset_connections() -> None:
    """Forget cached connections (tests that switch environments call this)."""
    resource.cache_clear()
    _new_table.cache_clear()
    _raw_query_client.cache_clear()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_condition_failure(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-item reason codes of a cancelled transaction ("None" for items that passed)."""
    reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
    return [str(reason.get("Code", "None")) for reason in reasons]


def dynamo_operation[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Turn throttling and timeouts that outlasted the SDK's retries into a 503."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ClientError as error:
            if error_code(error) in _RETRYABLE_CODES:
                raise ServiceUnavailable(
                    "The data store is temporarily overloaded; retry after the Retry-After delay"
                ) from error
            raise
        except _TIMEOUTS as error:
            raise ServiceUnavailable(
                "The data store did not answer in time; retry after the Retry-After delay"
            ) from error

    return wrapper


# BatchWriteItem ------------------------------------------------------------------------------

BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_IDLE_ROUNDS = 12  # answers in a row that left every request unprocessed, before giving up
_sleep: Callable[[float], None] = time.sleep  # tests replace it


def backoff(attempt: int) -> float:
    """The pause before retry `attempt` (from 1): full-jitter exponential, 50 ms doubling, capped at 5 s."""
    return random.uniform(0, min(5.0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not a secret


@dynamo_operation
def _batch_write_once(table_name: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One BatchWriteItem; returns the requests DynamoDB left unprocessed."""
    answer = client().batch_write_item(RequestItems={table_name: requests})  # type: ignore[dict-item]
    return list(answer.get("UnprocessedItems", {}).get(table_name, []))  # type: ignore[arg-type]


def write_batch(
    table_name: str, requests: Sequence[dict[str, Any]], *, on_written: Callable[[int], None] | None = None
) -> None:
    """Up to BATCH_SIZE put/delete requests (`{"PutRequest": {"Item": …}}`, `{"DeleteRequest": {"Key": …}}`)
    in one BatchWriteItem, then its `UnprocessedItems` again, with backoff, until every one is in.

    Bounded: the SDK retries a throttled call up to the configured attempts, and answers
    that leave every request unprocessed are retried MAX_IDLE_ROUNDS times in a row; then
    ServiceUnavailable (boto3's `batch_writer` would retry them forever, without a pause).
    `on_written(n)` runs after every answer with the number of requests it confirmed stored.
    """
    pending = list(requests)
    idle_rounds = 0
    while pending:
        left = _batch_write_once(table_name, pending)
        if on_written is not None and len(left) < len(pending):
            on_written(len(pending) - len(left))
        idle_rounds = idle_rounds + 1 if len(left) == len(pending) else 0
        if idle_rounds > MAX_IDLE_ROUNDS:
            raise ServiceUnavailable(
                f"DynamoDB left {len(left)} write(s) unprocessed {idle_rounds} times in a row; retry later"
            )
        if left:
            _sleep(backoff(idle_rounds))
        pending = left


def write_all(table_name: str, requests: Sequence[dict[str, Any]]) -> None:
    """Any number of put/delete requests, BATCH_SIZE at a time (write_batch's bounds apply to each)."""
    for start in range(0, len(requests), BATCH_SIZE):
        write_batch(table_name, requests[start : start + BATCH_SIZE])


# Query pages as DynamoDB's JSON ----------------------------------------------------------------

_BODY = "AizenBody"


def _keep_body(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """Hands a successful Query's body over unparsed: botocore's parser walks the output
    shape attribute by attribute (~30 us an event for single items), the raw reads parse
    the JSON once with the standard library instead (docs/performance.md, "Raw reads").
    Errors keep their bodies, so the SDK's error handling and retries are unchanged."""
    if response_dict.get("status_code") == 200:
        customized_response_dict[_BODY] = response_dict["body"]
        response_dict["body"] = b"{}"


@functools.lru_cache(maxsize=1)
def _raw_query_client() -> "DynamoDBClient":
    """A low-level client whose Query answers are DynamoDB's JSON bytes (`raw_query_page`)."""
    resource()  # boto3's default session, whose loaded models the new client shares
    raw_client = boto3.client("dynamodb", config=_config())
    raw_client.meta.events.register("before-parse.dynamodb.Query", _keep_body)
    return raw_client


def clients() -> list["DynamoDBClient"]:
    """Every client the store sends requests with (the resource's, and the raw reads')."""
    return [client(), _raw_query_client()]


@dynamo_operation
def raw_query_page(request: dict[str, Any]) -> dict[str, Any]:
    """One Query page as DynamoDB's JSON (`Items` with typed attribute values, `LastEvaluatedKey`).

    `request` is a low-level Query request (typed attribute values: `{"S": ...}`, `{"B": bytes}`).
    """
    answer: Any = _raw_query_client().query(**request)
    page: dict[str, Any] = json.loads(answer[_BODY])
    return page


def raw_key(key: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """A LastEvaluatedKey from DynamoDB's JSON as a request's ExclusiveStartKey (binary values decoded)."""
    return {
        name: {"B": binascii.a2b_base64(value["B"])} if "B" in value else dict(value) for name, value in key.items()
    }
