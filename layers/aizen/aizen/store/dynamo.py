"""DynamoDB connections and the translation of SDK failures into domain errors."""

import functools
from collections.abc import Callable
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


@functools.lru_cache(maxsize=1)
def resource() -> "DynamoDBServiceResource":
    """One DynamoDB resource per process (reused across warm invocations).

    Endpoint and region follow boto3's standard configuration, so
    AWS_ENDPOINT_URL_DYNAMODB points it at a local store.
    """
    settings = get_settings()
    config = Config(
        # total_max_attempts counts the first try; botocore's `max_attempts` would count only retries.
        retries={"mode": "standard", "total_max_attempts": settings.dynamodb_max_attempts},
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
    )
    return boto3.resource("dynamodb", config=config)


def client() -> "DynamoDBClient":
    """The resource's client: it accepts native Python values, like the resource."""
    return resource().meta.client


def main_table() -> "Table":
    return resource().Table(get_settings().main_table)


def events_table() -> "Table":
    return resource().Table(get_settings().events_table)


def reset_connections() -> None:
    """Forget cached connections (tests that switch environments call this)."""
    resource.cache_clear()


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
