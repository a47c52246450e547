"""The one place where domain errors become HTTP responses, and handler plumbing.

Every function builds its resolver with `build_resolver()` and exports
`lambda_handler = lambda_entry(app)`, so error shapes, logging, tracing and
metrics are identical across endpoints.
"""

import base64
import functools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen.access import StatsAccess, authorize_stats_request
from aizen.auth.sessions import require_trusted_origin, signed_in_user
from aizen.errors import AizenError, NotFound
from aizen.observability import logger, metrics, traced_when_sampled
from aizen.settings import get_settings

JSON = "application/json"
_EXTRA_HEADERS = "response_headers"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _context_headers(app: APIGatewayHttpResolver) -> dict[str, str]:
    headers: dict[str, str] = app.context.get(_EXTRA_HEADERS, {})
    return headers


def add_response_headers(app: APIGatewayHttpResolver, headers: Mapping[str, str]) -> None:
    """Headers every response of this request carries, success or error (rate limits, no-store)."""
    app.context[_EXTRA_HEADERS] = {**_context_headers(app), **headers}


def json_response(app: APIGatewayHttpResolver, status: int, body: Mapping[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=_context_headers(app),
    )


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _request_id(app: APIGatewayHttpResolver) -> str:
    context = app.lambda_context
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        return str(request_id)
    return str(app.current_event.request_context.request_id)


def _error_response(app: APIGatewayHttpResolver, error: AizenError) -> Response[str]:
    metrics.add_metric(name="ClientErrors" if error.status < 500 else "ServerErrors", unit=MetricUnit.Count, value=1)
    if error.status == 429:
        metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
    logger.info("request refused", extra={"status": error.status, "code": error.code})
    return Response(
        status_code=error.status,
        content_type=JSON,
        body=json.dumps(error_body(error.code, error.message)),
        headers={**_context_headers(app), **error.headers},
    )


def _unexpected_response(app: APIGatewayHttpResolver, error: Exception) -> Response[str]:
    """500 with a request id to quote; the details go to the log, never to the client."""
    request_id = _request_id(app)
    logger.exception("unhandled error", extra={"request_id": request_id})
    metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=500,
        content_type=JSON,
        body=json.dumps(error_body("internal_error", f"Internal error; request id {request_id}")),
        headers={**_context_headers(app), "X-Request-Id": request_id},
    )


def build_resolver(*, cors: bool = False) -> APIGatewayHttpResolver:
    """A resolver whose errors all take DESIGN.md §5's shape."""
    app = APIGatewayHttpResolver(cors=CORSConfig(allow_origin="*", max_age=86400) if cors else None)
    app.exception_handler(AizenError)(functools.partial(_error_response, app))
    app.not_found(lambda _: _error_response(app, NotFound("No such route")))
    app.exception_handler(Exception)(functools.partial(_unexpected_response, app))
    return app


def lambda_entry(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda entry point for a resolver: correlation id, tracing, metrics."""

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Per endpoint: every metric of this request carries its route ("GET /api/v1/stats/aggregate").
        metrics.add_dimension(name="route", value=str(event.get("routeKey") or "unknown"))
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        started = time.perf_counter()
        try:
            return app.resolve(event, context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 3))

    with_metrics = metrics.log_metrics(lambda_handler)
    traced = traced_when_sampled(with_metrics)
    logged = logger.inject_lambda_context(
        traced, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
    )
    return cast(LambdaHandler, logged)


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body as bytes. Powertools' `decoded_body` decodes base64 bodies as UTF-8 and
    raised (a 500) on any other bytes; a body that is not UTF-8 is the parser's 400 to give."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def client_ip(app: APIGatewayHttpResolver) -> str:
    """API Gateway's source IP: the TCP peer, never a client-supplied X-Forwarded-For."""
    return str(app.current_event.request_context.http.source_ip)


def authorize_stats(app: APIGatewayHttpResolver) -> StatsAccess:
    """Rate limits and bearer auth for a stats request; its responses carry the key's limit headers."""
    access = authorize_stats_request(app.current_event.headers.get("authorization"), client_ip(app))
    add_response_headers(app, access.rate_limit.headers())
    return access


def dashboard_user(app: APIGatewayHttpResolver, *, write: bool) -> str:
    """The signed-in dashboard user; writes also need the dashboard's Origin (CSRF)."""
    user_id = signed_in_user(list(app.current_event.cookies or []))
    if write:
        require_trusted_origin(app.current_event.headers.get("origin"), get_settings().dashboard_origins)
    return user_id
