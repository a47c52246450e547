"""The HTTP side of every API function: the request, the response, and the one place where
domain errors become HTTP responses.

Every function exports `lambda_handler = lambda_entry(handler, route=...)`, so error shapes,
logging, tracing and metrics are identical across endpoints.

Why not Powertools' `APIGatewayHttpResolver`: each function serves exactly one route, which
API Gateway has already matched, so a router has nothing to route. Importing the resolver
costs ~25 ms of every cold start (its package imports every resolver, AppSync's with
`asyncio`), which alone breaks the stats functions' cold-start target (docs/performance.md).
What the resolver did for us is here: reading the payload-2.0 event, the response shape,
error mapping, and ingestion's CORS.
"""

import base64
import hmac
import ipaddress
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen.access import StatsAccess, authorize_stats_request
from aizen.auth.sessions import require_trusted_origin, signed_in_user
from aizen.errors import AizenError, Forbidden, NotFound
from aizen.observability import logger, metrics, traced_when_sampled
from aizen.settings import get_settings

JSON = "application/json"
# What the CloudFront distribution adds to every request it forwards (its origin's custom header),
# with the CloudFrontOriginSecret parameter's value: proof a request came through it.
EDGE_HEADER = "x-aizen-origin-verify"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class Request(NamedTuple):
    """One API Gateway (HTTP API, payload 2.0) request, and the headers every response to it
    carries, success or error (rate limits, no-store), which the handler may add to."""

    route_key: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    path_parameters: Mapping[str, str]
    cookies: tuple[str, ...]
    body: bytes
    source_ip: str  # API Gateway's sourceIp: the TCP peer (behind CloudFront, an edge)
    client_ip: str  # the client's address as Aizen trusts it: `client_address`
    request_id: str
    response_headers: dict[str, str]

    @classmethod
    def from_event(cls, event: Mapping[str, Any], context: object) -> "Request":
        context_block: Mapping[str, Any] = event.get("requestContext") or {}
        body = event.get("body") or ""
        # API Gateway lower-cases header names in payload 2.0; this makes it so for any caller.
        headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
        source_ip = str((context_block.get("http") or {}).get("sourceIp", ""))
        return cls(
            route_key=str(event.get("routeKey") or ""),
            headers=headers,
            query=dict(event.get("queryStringParameters") or {}),
            path_parameters=dict(event.get("pathParameters") or {}),
            cookies=tuple(event.get("cookies") or ()),
            # A body that is not UTF-8 arrives base64-encoded; decoding it is the parser's 400 to give.
            body=base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode(),
            source_ip=source_ip,
            client_ip=client_address(source_ip, headers),
            request_id=str(getattr(context, "aws_request_id", "") or context_block.get("requestId", "")),
            response_headers={},
        )

    def add_response_headers(self, headers: Mapping[str, str]) -> None:
        self.response_headers.update(headers)


def viewer_address(headers: Mapping[str, str]) -> str | None:
    """The address part of CloudFront-Viewer-Address ("ip:port", IPv6 without brackets)."""
    value = headers.get("cloudfront-viewer-address", "").strip()
    host = value.rsplit(":", 1)[0] if ":" in value else value
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def client_address(source_ip: str, headers: Mapping[str, str]) -> str:
    """The client's address, for every route's rate limits and ingestion's visitor ids: API Gateway's
    source IP, or CloudFront's viewer address when the stack trusts CloudFront (which then also
    requires the origin secret on every request: `_respond`). Never X-Forwarded-For."""
    if get_settings().trust_cloudfront_viewer_headers:
        return viewer_address(headers) or source_ip
    return source_ip


def came_through_the_edge(request: "Request") -> bool:
    """Whether the request carries the origin secret, when one is configured (else every request does)."""
    secret = get_settings().cloudfront_origin_secret
    if secret is None:
        return True
    presented = request.headers.get(EDGE_HEADER, "")
    return hmac.compare_digest(presented.encode(), secret.encode())


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: str = ""

    def to_event(self) -> dict[str, Any]:
        """The payload-2.0 response API Gateway expects."""
        return {"statusCode": self.status, "body": self.body, "isBase64Encoded": False, "headers": dict(self.headers)}


class CorsPolicy(NamedTuple):
    """Ingestion's CORS: any origin, no credentials; preflights answered without running the handler."""

    methods: str = "OPTIONS,POST"
    allow_headers: str = "Authorization,Content-Type,X-Amz-Date,X-Amz-Security-Token,X-Api-Key"
    max_age_seconds: int = 86400

    def headers(self, request: Request) -> dict[str, str]:
        """What a response to a cross-origin request (one with an `Origin`) carries."""
        if "origin" not in request.headers:
            return {}
        return {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": self.allow_headers,
            "Access-Control-Max-Age": str(self.max_age_seconds),
        }

    def preflight(self, request: Request) -> Response:
        return Response(status=204, headers={"Access-Control-Allow-Methods": self.methods, **self.headers(request)})


Handler = Callable[[Request], Response]


def _json_answer(request: Request, status: int, text: str, headers: Mapping[str, str]) -> Response:
    """A JSON response carrying the request's own response headers, then `headers`."""
    return Response(status=status, body=text, headers={**request.response_headers, **headers, "Content-Type": JSON})


def json_response(
    request: Request, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    return _json_answer(request, status, json.dumps(body, separators=(",", ":")), headers or {})


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _error_response(request: Request, error: AizenError) -> Response:
    metrics.add_metric(name="ClientErrors" if error.status < 500 else "ServerErrors", unit=MetricUnit.Count, value=1)
    if error.status == 429:
        metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
    logger.info("request refused", extra={"status": error.status, "code": error.code})
    return _json_answer(request, error.status, json.dumps(error_body(error.code, error.message)), error.headers)


def _unexpected_response(request: Request) -> Response:
    """500 with a request id to quote; the details go to the log, never to the client."""
    logger.exception("unhandled error", extra={"request_id": request.request_id})
    metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    body = error_body("internal_error", f"Internal error; request id {request.request_id}")
    return _json_answer(request, 500, json.dumps(body), {"X-Request-Id": request.request_id})


def _respond(handler: Handler, route_key: str, cors: CorsPolicy | None, request: Request) -> Response:
    """`handler`'s answer, or the error shape of docs/api.md (Errors) for whatever it raised."""
    if not came_through_the_edge(request):  # before anything else, preflights included
        return _error_response(request, Forbidden("Requests must come through the API's CloudFront distribution"))
    if cors is not None:
        if request.route_key == f"OPTIONS {route_key.split(' ', 1)[1]}":
            return cors.preflight(request)
        request.add_response_headers(cors.headers(request))
    if request.route_key != route_key:  # API Gateway routed a request here that this function does not serve
        return _error_response(request, NotFound("No such route"))
    try:
        return handler(request)
    except AizenError as error:
        return _error_response(request, error)
    except Exception:
        return _unexpected_response(request)


def lambda_entry(handler: Handler, *, route: str, cors: CorsPolicy | None = None) -> LambdaHandler:
    """The Lambda entry point of the function serving `route` ("GET /api/v1/stats/aggregate"):
    correlation id, tracing, metrics, error mapping."""

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Per endpoint: every metric of this request carries its route ("GET /api/v1/stats/aggregate").
        metrics.add_dimension(name="route", value=str(event.get("routeKey") or "unknown"))
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        started = time.perf_counter()
        try:
            return _respond(handler, route, cors, Request.from_event(event, context)).to_event()
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 3))

    with_metrics = metrics.log_metrics(lambda_handler)
    traced = traced_when_sampled(with_metrics)
    logged = logger.inject_lambda_context(
        traced, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
    )
    return cast(LambdaHandler, logged)


def authorize_stats(request: Request) -> StatsAccess:
    """Rate limits and bearer auth for a stats request; its responses carry the key's limit headers."""
    access = authorize_stats_request(request.headers.get("authorization"), request.client_ip)
    request.add_response_headers(access.rate_limit.headers())
    return access


def dashboard_user(request: Request, *, write: bool) -> str:
    """The signed-in dashboard user; writes also need the dashboard's Origin (CSRF)."""
    user_id = signed_in_user(list(request.cookies))
    if write:
        require_trusted_origin(request.headers.get("origin"), get_settings().dashboard_origins)
    return user_id
