"""Builders shared by the tests: tables from the template, records, handler calls."""

import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto import mock_aws
from urllib3 import HTTPResponse

from aizen.auth import keys as key_management
from aizen.auth.sessions import NewSession, start_session
from aizen.ingest import service as ingest_service
from aizen.ingest import visitors
from aizen.models import Site, User
from aizen.settings import get_settings
from aizen.store import accounts, dynamo
from aizen.store.dynamo import reset_connections
from aizen_local.apigw import LocalLambdaContext, http_event
from aizen_local.functions import function_spec, load_handler
from aizen_local.template import create_table_request, load_template

DASHBOARD_ORIGIN = "https://dashboard.test"


def create_tables_from_template() -> None:
    """The template's tables under the names the settings point at (moto must be active)."""
    settings = get_settings()
    names = {"MainTable": settings.main_table, "EventsTable": settings.events_table}
    client = boto3.client("dynamodb")
    for logical_id, properties in load_template().tables().items():
        client.create_table(**create_table_request(names[logical_id], properties))


@contextmanager
def moto_dynamodb() -> Iterator[None]:
    """moto's in-process DynamoDB with the template's tables; fresh settings, connections and
    the ingest caches of what the store held (sites by domain, salts)."""
    get_settings.cache_clear()
    reset_connections()
    ingest_service.reset_cache()
    visitors.reset_cache()
    with mock_aws():
        create_tables_from_template()
        yield
    reset_connections()
    ingest_service.reset_cache()
    visitors.reset_cache()


@dataclass(frozen=True)
class Owner:
    user: User
    site: Site
    session: NewSession


def make_owner(
    *,
    user_id: str = "user_1",
    site_id: str = "site_1",
    domain: str = "example.com",
    billing: bool = True,
    timezone: str = "America/Los_Angeles",
) -> Owner:
    user = User(id=user_id, email=f"{user_id}@example.com", billing_active=billing, created_at=1_700_000_000)
    site = Site(id=site_id, domain=domain, timezone=timezone, owner_user_id=user_id, created_at=1)
    accounts.put_user(user)
    accounts.put_site(site)
    return Owner(user=user, site=site, session=start_session(user_id))


def make_key(site_id: str, user_id: str = "user_1", name: str = "test key", **kwargs: Any) -> tuple[Any, str]:
    return key_management.issue_api_key(site_id, user_id, name, kwargs.get("expires_at"))


@dataclass(frozen=True)
class HandlerResponse:
    status: int
    headers: dict[str, str]
    body: Any


def invoke(
    function: str,
    path: str,
    *,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: str | Mapping[str, str] = "",
    body: str | bytes | None = None,
    source_ip: str = "198.51.100.7",
) -> HandlerResponse:
    """Call a template function's handler with the event API Gateway would send."""
    spec = function_spec(function)
    route = next(r for r in spec.routes if method is None or r.method == method)
    match = route.pattern().match(path)
    assert match, f"{path} does not match {route.path}"
    event = http_event(
        route, path, headers=headers, query=query, body=body, source_ip=source_ip, path_parameters=match.groupdict()
    )
    answer = load_handler(function)(event, LocalLambdaContext(function_name=function))
    raw_body = answer.get("body") or ""
    return HandlerResponse(
        status=answer["statusCode"],
        headers={name.lower(): value for name, value in (answer.get("headers") or {}).items()},
        body=json.loads(raw_body) if raw_body else None,
    )


# Time ------------------------------------------------------------------------------------

# The seed document's created_at: 2026-04-02T19:43:20Z, 20 s into its minute, 2,600 s into its hour.
SEED_NOW = 1_775_159_000


class FrozenClock:
    """Replaces `aizen.clock.now` (the tests' `clock` fixture installs it); moves only when told."""

    def __init__(self, start: float = SEED_NOW) -> None:
        self.current = float(start)

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds

    def next_boundary(self, window_seconds: int) -> int:
        """Unix seconds at which the fixed window containing "now" ends."""
        return (int(self.current) // window_seconds + 1) * window_seconds


# Requests --------------------------------------------------------------------------------

STATS_PATHS = {
    "StatsAggregateFunction": "/api/v1/stats/aggregate",
    "StatsTimeseriesFunction": "/api/v1/stats/timeseries",
    "StatsBreakdownFunction": "/api/v1/stats/breakdown",
    "StatsRealtimeFunction": "/api/v1/stats/realtime",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dashboard_headers(session: NewSession, *, origin: str | None = DASHBOARD_ORIGIN) -> dict[str, str]:
    """What the dashboard's browser sends: the session cookie and, by default, its Origin."""
    headers = {"Cookie": session.cookie}
    if origin is not None:
        headers["Origin"] = origin
    return headers


def keys_path(site_id: str, key_id: str | None = None) -> str:
    return f"/api/sites/{site_id}/api-keys" + (f"/{key_id}" if key_id else "")


# DynamoDB observation and fault injection (on the store's own client, under moto) -----------


@dataclass(frozen=True)
class DynamoCall:
    operation: str
    body: str


def record_dynamodb_calls() -> list[DynamoCall]:
    """Every call the store's client makes from now on (register after any settings change)."""
    calls: list[DynamoCall] = []

    def record(model: Any, params: Mapping[str, Any], **_: Any) -> None:
        raw = params.get("body", b"")
        calls.append(DynamoCall(model.name, raw.decode() if isinstance(raw, bytes) else str(raw)))

    dynamo.client().meta.events.register("before-call.dynamodb", record)
    return calls


def fail_dynamodb(
    code: str = "ProvisionedThroughputExceededException", *, operation: str | None = None, times: int | None = None
) -> list[str]:
    """Make DynamoDB answer `operation` (default: every call) with the error `code`, `times` times (default: always).

    The error is sent back at the HTTP layer (`before-send`, ahead of moto), so the
    SDK parses it and retries it exactly as it would a real one. Returns the
    operation of every attempt that was refused, retries included.
    """
    refused: list[str] = []

    def refuse(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        name = event_name.rsplit(".", 1)[-1]
        if (operation is not None and name != operation) or (times is not None and len(refused) >= times):
            return None
        refused.append(name)
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected by the test"})
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        headers["x-amzn-RequestId"] = "injected"
        raw = HTTPResponse(body=io.BytesIO(body.encode()), status=400, headers=dict(headers), preload_content=False)
        return AWSResponse(request.url, 400, headers, raw)

    dynamo.client().meta.events.register_first("before-send.dynamodb", refuse)  # type: ignore[arg-type]
    return refused


def main_table_items() -> list[dict[str, Any]]:
    """A full scan of the main table (moto), for asserting what was stored."""
    table = dynamo.main_table()
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**scan)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
