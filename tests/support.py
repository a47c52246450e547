"""Builders shared by the tests: tables from the template, records, handler calls."""

import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import botocore
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from moto import mock_aws
from moto.core.models import botocore_stubber
from urllib3 import HTTPResponse

from aizen import compaction
from aizen.auth import keys as key_management
from aizen.auth.sessions import NewSession, start_session
from aizen.events import RawEvent
from aizen.ingest import service as ingest_service
from aizen.ingest import visitors
from aizen.models import Site, User
from aizen.periods import PRESETS
from aizen.settings import Settings, get_settings
from aizen.store import accounts, dynamo
from aizen.store.dynamo import reset_connections
from aizen.store.events import to_item
from aizen_local import attribute_values, item_sizes, transactions
from aizen_local.apigw import LocalLambdaContext, http_event
from aizen_local.functions import function_spec, load_handler
from aizen_local.partition_index import index_partitions
from aizen_local.store import ensure_tables
from aizen_local.template import load_template
from tests import stats_reference as ref

DASHBOARD_ORIGIN = "https://dashboard.test"
# A CloudFrontOriginSecret, and the header CloudFront would add with it (aizen.http.EDGE_HEADER).
EDGE_SECRET = "edge-secret-0123456789abcdefghijklmnop"
THROUGH_THE_EDGE = {"X-Aizen-Origin-Verify": EDGE_SECRET}
# The development environment's botocore endpoint data, whole (the layer's build prunes its copy).
BOTOCORE_ENDPOINTS = Path(botocore.__file__).parent / "data" / "endpoints.json"


def create_tables_from_template() -> None:
    """The template's tables under the names the settings point at (moto must be active)."""
    ensure_tables(load_template(), load_template().table_names(os.environ), None)


# moto replaces boto3's default session at every start unless told not to; the new session loads
# botocore's endpoint and service data again (~0.1 s of CPU per client of a test, 2-3 a test). The
# environment holds fake credentials for the whole run (tests/conftest.py), so the session is kept.
_KEEP_BOTO3_SESSION: Any = {"core": {"reset_boto3_session": False}}


@contextmanager
def embedded_store_patches() -> Iterator[None]:
    """The embedded store's patches of moto (docs/local-store.md) for every request of the process:
    the same answers as moto's own (their tests compare them), at about half the tests' CPU."""
    attribute_values.install()
    item_sizes.install()
    transactions.install()
    with attribute_values.embedded_everywhere():
        yield


@contextmanager
def moto_dynamodb(*, as_shipped: bool = False) -> Iterator[None]:
    """moto's in-process DynamoDB with the template's tables; fresh settings, connections and
    the ingest caches of what the store held (sites by domain, salts). With the embedded store's
    patches unless `as_shipped` (the tests that compare the patches with moto's own answers)."""
    get_settings.cache_clear()
    reset_connections()
    ingest_service.reset_cache()
    visitors.reset_cache()
    with mock_aws(config=_KEEP_BOTO3_SESSION), nullcontext() if as_shipped else embedded_store_patches():
        create_tables_from_template()
        if not as_shipped:
            index_partitions()
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
    site_created_at: int = 1,
) -> Owner:
    user = User(id=user_id, email=f"{user_id}@example.com", billing_active=billing, created_at=1_700_000_000)
    site = Site(id=site_id, domain=domain, timezone=timezone, owner_user_id=user_id, created_at=site_created_at)
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


class InvocationKilled(BaseException):
    """Lambda ending the invocation: a timeout or Runtime.OutOfMemory (no `except Exception` sees it)."""


def invoke_job(function: str, event: dict[str, Any], timeout_seconds: int = 900) -> dict[str, Any]:
    """Call a scheduled or queue function's handler; a killed invocation fails as Lambda reports it."""
    context = LocalLambdaContext(function_name=function, timeout_seconds=timeout_seconds)
    try:
        answer: dict[str, Any] = load_handler(function)(event, context)
    except InvocationKilled:
        raise RuntimeError(f"{function} was killed") from None
    return answer


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

    for store_client in dynamo.clients():
        store_client.meta.events.register("before-call.dynamodb", record)
    return calls


# Faults answer at `before-send`, ahead of moto, so the SDK parses, retries and raises them
# exactly as it would real ones. botocore runs every handler of that event and keeps the first
# response, so moto (also a `before-send` handler) would still apply a request a fault had
# answered: a "throttled" write would land. `_keep_answered_requests_from_moto` stops that.
_ANSWERED = "aizen_fault_answered"


def _moto_unless_answered(request: Any, **kwargs: Any) -> Any:
    if getattr(request, _ANSWERED, False):
        return None
    return botocore_stubber(request=request, **kwargs)


class _StoreEvents:
    """The event hooks of every client of the store, registered on all at once."""

    def register_first(self, event_name: str, handler: Any) -> None:
        for store_client in dynamo.clients():
            store_client.meta.events.register_first(event_name, handler)


def _keep_answered_requests_from_moto() -> _StoreEvents:
    """The event hooks of the store's clients, on which moto now sees only the requests no fault answered."""
    for store_client in dynamo.clients():
        events = store_client.meta.events
        events.unregister("before-send", botocore_stubber)  # type: ignore[arg-type]
        events.register_last("before-send.dynamodb", _moto_unless_answered, unique_id="aizen-moto-unless-answered")
    return _StoreEvents()


def _moto_applies(request: Any, event_name: str) -> Any:
    """moto's answer to `request` (the request is applied to its tables)."""
    return botocore_stubber(event_name=event_name, request=request)


def _body(request: Any) -> str:
    raw = request.body or b""
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _selected(
    request: Any, event_name: str, operation: str | None, table: str | None, containing: str | None
) -> str | None:
    """The operation's name if the request is one the fault targets, else None."""
    name = event_name.rsplit(".", 1)[-1]
    if operation is not None and name != operation:
        return None
    if table is not None or containing is not None:
        body = _body(request)
        if containing is not None and containing not in body:
            return None
        if table is not None:
            document = json.loads(body or "{}")
            tables = {document.get("TableName"), *document.get("RequestItems", {})}
            if table not in tables:
                return None
    return name


def _answer(request: Any, status: int, document: Mapping[str, Any]) -> AWSResponse:
    setattr(request, _ANSWERED, True)
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    headers["x-amzn-RequestId"] = "injected"
    raw = HTTPResponse(
        body=io.BytesIO(json.dumps(document).encode()), status=status, headers=dict(headers), preload_content=False
    )
    return AWSResponse(request.url, status, headers, raw)


def fail_dynamodb(
    code: str = "ProvisionedThroughputExceededException",
    *,
    operation: str | None = None,
    table: str | None = None,
    containing: str | None = None,
    times: int | None = None,
) -> list[str]:
    """Make DynamoDB answer `operation` (default: every call) with the error `code`, `times` times (default: always).

    `table` and `containing` narrow the fault to requests naming that table / whose JSON body
    holds that text. The refused request is not applied (moto never sees it), as a throttled
    one is not. Returns the operation of every attempt that was refused, retries included.
    """
    refused: list[str] = []

    def refuse(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        name = _selected(request, event_name, operation, table, containing)
        if name is None or (times is not None and len(refused) >= times):
            return None
        refused.append(name)
        return _answer(
            request, 400, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected by the test"}
        )

    _keep_answered_requests_from_moto().register_first("before-send.dynamodb", refuse)
    return refused


def time_out_dynamodb(
    *,
    operation: str | None = None,
    table: str | None = None,
    containing: str | None = None,
    times: int | None = None,
    landed: bool = False,
    error: type[ReadTimeoutError] | type[ConnectTimeoutError] = ReadTimeoutError,
) -> list[str]:
    """Make `operation` (default: every call) time out, `times` times (default: always).

    `landed`: DynamoDB applied the request and only its answer was lost (a read timeout
    after the write); otherwise the request never reached the table. Selection as for
    `fail_dynamodb`. Returns the operation of every attempt that timed out.
    """
    timed_out: list[str] = []

    def time_out(request: Any, event_name: str, **_: Any) -> None:
        name = _selected(request, event_name, operation, table, containing)
        if name is None or (times is not None and len(timed_out) >= times):
            return
        timed_out.append(name)
        if landed:
            _moto_applies(request, event_name)
        raise error(endpoint_url=request.url)

    _keep_answered_requests_from_moto().register_first("before-send.dynamodb", time_out)
    return timed_out


def leave_unprocessed(*, write: int = 0, table: str | None = None, times: int | None = None) -> list[int]:
    """BatchWriteItem stores only the first `write` requests of a call and answers the others
    as `UnprocessedItems` (what DynamoDB does under load), `times` times (default: always);
    a call of at most `write` requests is stored whole. `table`: only writes to that table.
    Returns, per answer that left requests unprocessed, how many."""
    left: list[int] = []

    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if _selected(request, event_name, "BatchWriteItem", table, None) is None:
            return None
        [(name, requests)] = json.loads(_body(request))["RequestItems"].items()
        if len(requests) <= write or (times is not None and len(left) >= times):
            return None
        if write:
            part = AWSPreparedRequest(
                method=request.method,
                url=request.url,
                headers=request.headers,
                body=json.dumps({"RequestItems": {name: requests[:write]}}).encode(),
                stream_output=False,
            )
            _moto_applies(part, event_name)
        unprocessed = requests[write:]
        left.append(len(unprocessed))
        return _answer(request, 200, {"UnprocessedItems": {name: unprocessed}})

    _keep_answered_requests_from_moto().register_first("before-send.dynamodb", answer)
    return left


def leave_keys_unprocessed(*, times: int | None = None) -> list[int]:
    """BatchGetItem answers every key it was asked for as `UnprocessedKeys` (what DynamoDB does
    under load), `times` times (default: always). Returns, per such answer, how many keys it left."""
    left: list[int] = []

    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if _selected(request, event_name, "BatchGetItem", None, None) is None:
            return None
        if times is not None and len(left) >= times:
            return None
        asked: dict[str, Any] = json.loads(_body(request))["RequestItems"]
        left.append(sum(len(keys_and_attributes["Keys"]) for keys_and_attributes in asked.values()))
        return _answer(request, 200, {"Responses": {name: [] for name in asked}, "UnprocessedKeys": asked})

    _keep_answered_requests_from_moto().register_first("before-send.dynamodb", answer)
    return left


def store_single_items(events: Iterable[RawEvent], retention_days: int) -> None:
    """Events as ingestion stores them, one item each (a batch writer: fast in moto)."""
    with dynamo.events_table().batch_writer() as writer:
        for event in events:
            writer.put_item(Item=to_item(event, retention_days))


def store_reference_site(
    events: Iterable[RawEvent], retention_days: int, clock: FrozenClock, *, compacted: bool
) -> None:
    """A reference scenario's events as single items; `compacted`: the job, run as of two days
    before the clock, has packed every finished hour before then (the tail stays single items)."""
    store_single_items(events, retention_days)
    if compacted:
        now = clock.current
        clock.current = now - 2 * 86_400 - 1_234
        report = compaction.run()
        assert report.hours_compacted > 24
        assert not report.failed_sites
        clock.current = now


@dataclass(frozen=True)
class SharedSite:
    """A site whose store the tests of a class read together (`shared_site`)."""

    clock: FrozenClock
    settings: Settings
    owner: Owner
    token: str


@contextmanager
def shared_site(now: float, timezone: str, **variables: str) -> Iterator[SharedSite]:
    """moto's DynamoDB, a clock frozen at `now`, the AIZEN_* `variables` and an owner's site in
    `timezone` with a stats key, held open for a class-scoped fixture: seeding a reference
    scenario costs more than most of its questions, so its tests share one store. Tests that
    use it are marked `shared_store` (the integration tier's `dynamodb` fixture then opens no
    store of its own) and must leave the store and the clock as they found them."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(f"AIZEN_{name}", value)
        clock = FrozenClock(now)
        patch.setattr("aizen.clock.now", clock.now)
        with moto_dynamodb():
            owner = make_owner(timezone=timezone)
            _, token = make_key(owner.site.id)
            yield SharedSite(clock, get_settings(), owner, token)
    get_settings.cache_clear()


class PresetCase(NamedTuple):
    """One period preset of a reference scenario: the request's period parameters and what it resolves to."""

    number: int
    preset: str
    rng: ref.Range
    base: dict[str, Any]
    period: dict[str, str]
    outside_window: bool  # the range starts before the raw window


def preset_cases(tz: ZoneInfo, now_ms: int, events: list[RawEvent], retention_days: int) -> Iterator[PresetCase]:
    """Every period preset as of `now_ms` (custom: the 20th to the 3rd day before today)."""
    today = ref.local(now_ms, tz).date()
    window_first = today - timedelta(days=retention_days - 1)
    first_data = min(ref.local(event.timestamp_ms, tz).date() for event in events)
    custom = (today - timedelta(days=20), today - timedelta(days=3))
    for number, preset in enumerate(PRESETS):
        rng = ref.expected_range(preset, tz, now_ms, custom, first_data)
        base: dict[str, Any] = {"period": preset}
        if preset == "custom":
            base.update({"from": custom[0].isoformat(), "to": custom[1].isoformat()})
        period = {"from": rng.first.isoformat(), "to": rng.last.isoformat(), "preset": preset}
        yield PresetCase(number, preset, rng, base, period, rng.first < window_first)


@dataclass(frozen=True)
class ReferenceScenario:
    """A reference scenario stored in a shared site (shared_site, store_reference_site): its zone,
    its "now", the events the reference counts and the site's stats key."""

    tz: ZoneInfo
    now_ms: int
    events: list[RawEvent]
    token: str
    retention_days: int

    def cases(self) -> list[PresetCase]:
        """Every period preset of the scenario (preset_cases)."""
        return list(preset_cases(self.tz, self.now_ms, self.events, self.retention_days))

    def case(self, preset: str) -> PresetCase:
        [found] = [case for case in self.cases() if case.preset == preset]
        return found


def ask_stats(function: str, path: str, params: Mapping[str, Any], token: str) -> HandlerResponse:
    """A stats request with `params` as its query string (None values left out), under a key's token."""
    query = "&".join(f"{name}={value}" for name, value in params.items() if value is not None)
    return invoke(function, path, query=query, headers=bearer(token))


def stored_event_count() -> int:
    """Stored single event items (a COUNT scan: moto's Query is too slow to read back 100k items);
    block parts, watermarks and recompact markers have no visitor id `v`."""
    total = 0
    scan: dict[str, Any] = {"Select": "COUNT", "FilterExpression": "attribute_exists(v)"}
    while True:
        page = dynamo.events_table().scan(**scan)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main_table_items() -> list[dict[str, Any]]:
    """A full scan of the main table (moto), for asserting what was stored."""
    return _all_items(dynamo.main_table())


def salts_table_items() -> list[dict[str, Any]]:
    """A full scan of the salts table (moto)."""
    return _all_items(dynamo.salts_table())


def _all_items(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**scan)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# Metrics ---------------------------------------------------------------------------------


def emf_records(output: str) -> list[dict[str, Any]]:
    """The EMF records (namespace, dimensions, metric values) printed on stdout."""
    records = []
    for line in output.splitlines():
        if line.startswith("{") and '"CloudWatchMetrics"' in line:
            record = json.loads(line)
            definition = record["_aws"]["CloudWatchMetrics"][0]
            records.append(
                {
                    "namespace": definition["Namespace"],
                    "dimensions": definition["Dimensions"],
                    "service": record.get("service"),
                    "route": record.get("route"),
                    "values": {metric["Name"]: record[metric["Name"]] for metric in definition["Metrics"]},
                }
            )
    return records
