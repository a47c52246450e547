"""The OpenAPI 3.1 description of the public API, generated from the layer's own models.

Query parameters come from the parameter tables (`aizen.query.params`),
the key-creation body from `aizen.auth.keys.CreateKeyRequest`, response bodies
from the response models next to the code that builds them, and limits from the
layer's constants. `aizen openapi` prints it; `docs/openapi.json` is that output
(a unit test regenerates it and compares); the local stack serves it at
`/openapi.json` and a rendered page at `/docs`.
"""

import html
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from aizen.auth.keys import (
    MAX_ACTIVE_KEYS_PER_SITE,
    MAX_CREATE_BODY_BYTES,
    ApiKeyView,
    CreatedKey,
    CreateKeyRequest,
    KeyList,
    Revoked,
)
from aizen.auth.sessions import SESSION_COOKIE
from aizen.ingest.schema import Accepted, EventRequest
from aizen.ingest.wire import MAX_BODY_BYTES
from aizen.query.params import AGGREGATE_METRICS, PROPERTY_METRICS, TIMESERIES_METRICS, Parameter
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.query.params.realtime import RealtimeParams
from aizen.query.params.timeseries import TimeseriesParams
from aizen.query.responses import AggregateResponse, BreakdownResponse, RealtimeResponse, TimeseriesResponse
from aizen.responses import ErrorResponse

OPENAPI_VERSION = "3.1.0"
REGENERATE = ".venv/bin/aizen openapi > docs/openapi.json"
_REF = "#/components/schemas/{model}"
_JSON = "application/json"

_SCHEMA_MODELS: list[type[BaseModel]] = [
    ErrorResponse,
    AggregateResponse,
    TimeseriesResponse,
    BreakdownResponse,
    RealtimeResponse,
    ApiKeyView,
    KeyList,
    CreatedKey,
    Revoked,
    CreateKeyRequest,
    EventRequest,
    Accepted,
]

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "invalid_request: a bad parameter or body; the message names it",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict: a unique key prefix could not be allocated; retry",
    413: "payload_too_large",
    422: "unsupported_query: needs raw events from before the raw retention window",
    429: "rate_limited: the IP (60 a minute) or key (600 an hour) limit refused the request",
    500: "internal_error: a bug; the message and X-Request-Id carry a request id",
    503: "service_unavailable: DynamoDB kept throttling or timing out; retry after Retry-After",
}

_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the window", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix seconds when the window resets", "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
    "Cache-Control": {"description": "no-store", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "RFC 6750 Bearer challenge", "schema": {"type": "string"}},
    "X-Request-Id": {"description": "The request id to quote", "schema": {"type": "string"}},
    "X-Aizen-Dropped": {
        "description": "Present when the event was dropped for its name (not a pageview nor an outbound click);"
        " an event dropped as a bot's answers exactly like a stored one",
        "schema": {"type": "string", "enum": ["event_name"]},
    },
    "Access-Control-Allow-Origin": {
        "description": "`*` when the request has an Origin (ingestion is open to every origin, without credentials)",
        "schema": {"type": "string", "const": "*"},
    },
    "Access-Control-Allow-Methods": {"description": "OPTIONS,POST", "schema": {"type": "string"}},
    "Access-Control-Allow-Headers": {
        "description": "Request headers a browser may send (when the request has an Origin)",
        "schema": {"type": "string"},
    },
    "Access-Control-Max-Age": {
        "description": "Seconds a browser may cache the preflight (when the request has an Origin)",
        "schema": {"type": "integer"},
    },
}
_RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
_LIMITED = ("Retry-After", "Cache-Control", *_RATE_HEADERS)  # every 429: the window that refused
_CORS = ("Access-Control-Allow-Origin",)  # every answer of POST /api/event to a request with an Origin


@dataclass(frozen=True)
class _Answer:
    status: int
    schema: str | None = "ErrorResponse"  # None: no body
    headers: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class _Operation:
    method: Literal["get", "post", "delete", "options"]
    path: str
    operation_id: str
    summary: str
    tag: str
    answers: list[_Answer]
    params: tuple[Parameter, ...] = ()
    metrics: tuple[str, ...] = ()
    path_parameters: tuple[str, ...] = ()
    body: str | None = None
    security: list[dict[str, list[str]]] = field(default_factory=list)


def _metrics_pattern(allowed: tuple[str, ...]) -> str:
    choice = "|".join(allowed)
    return f"^({choice})(,({choice}))*$"


def _query_parameters(parameters: tuple[Parameter, ...], metrics: tuple[str, ...]) -> list[dict[str, Any]]:
    described = []
    for parameter in parameters:
        schema = dict(parameter.schema)
        description = parameter.description
        if parameter.default is not None:
            schema["default"] = parameter.default
        if parameter.name == "metrics":
            schema["pattern"] = _metrics_pattern(metrics)
            description = f"Comma-separated, each at most once; allowed: {', '.join(metrics)}"
        document: dict[str, Any] = {"name": parameter.name, "in": "query", "required": parameter.required}
        document["schema"] = schema
        if description:
            document["description"] = description
        described.append(document)
    return described


def _response(answer: _Answer) -> dict[str, Any]:
    response: dict[str, Any] = {"description": answer.description or _STATUS_TEXT[answer.status]}
    if answer.schema is not None:
        response["content"] = {_JSON: {"schema": {"$ref": _REF.format(model=answer.schema)}}}
    names = answer.required_headers + tuple(name for name in answer.headers if name not in answer.required_headers)
    if names:
        response["headers"] = {name: {**_HEADERS[name], "required": name in answer.required_headers} for name in names}
    return response


def _stats_answers(schema: str, *, realtime: bool) -> list[_Answer]:
    cache = ("Cache-Control",) if realtime else ()
    return [
        _Answer(200, schema, required_headers=(*_RATE_HEADERS, *cache)),
        _Answer(400, headers=(*_RATE_HEADERS, *cache)),
        _Answer(
            401,
            required_headers=("WWW-Authenticate", *cache),
            description="unauthorized: missing, malformed, unknown, expired or revoked bearer token",
        ),
        _Answer(
            403,
            headers=("WWW-Authenticate", *cache),
            description="forbidden: insufficient scope (with a challenge) or the owner has no API access",
        ),
        *([] if realtime else [_Answer(422, headers=_RATE_HEADERS)]),
        _Answer(429, required_headers=_LIMITED),
        _Answer(500, headers=("X-Request-Id", *cache)),
        _Answer(503, required_headers=("Retry-After",), headers=cache),
    ]


_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_SESSION: list[dict[str, list[str]]] = [{"sessionCookie": []}]
_ORIGIN_NOTE = " Needs an Origin header equal to a configured dashboard origin (403 otherwise)."


def _operations() -> list[_Operation]:
    breakdown_metrics = tuple(dict.fromkeys(metric for values in PROPERTY_METRICS.values() for metric in values))
    key_errors = [
        _Answer(401, description="unauthorized: no valid aizen_session cookie"),
        _Answer(403, description="forbidden: not the site's owner, or (writes) a missing or foreign Origin"),
        _Answer(404, description="not_found: unknown site (or a key of another site)"),
        _Answer(
            429,
            required_headers=_LIMITED,
            description="rate_limited: the address's API window (60 a minute, shared with the stats routes) is full;"
            " checked before the session cookie",
        ),
        _Answer(500, headers=("X-Request-Id",)),
        _Answer(503, required_headers=("Retry-After",)),
    ]
    return [
        _Operation(
            "get",
            "/api/v1/stats/aggregate",
            "getAggregate",
            "Top-line metrics",
            "stats",
            _stats_answers("AggregateResponse", realtime=False),
            AggregateParams.PARAMETERS,
            AGGREGATE_METRICS,
            security=_BEARER,
        ),
        _Operation(
            "get",
            "/api/v1/stats/timeseries",
            "getTimeseries",
            "Chart points (UTC bucket starts)",
            "stats",
            _stats_answers("TimeseriesResponse", realtime=False),
            TimeseriesParams.PARAMETERS,
            TIMESERIES_METRICS,
            security=_BEARER,
        ),
        _Operation(
            "get",
            "/api/v1/stats/breakdown",
            "getBreakdown",
            "Paginated breakdown by a property",
            "stats",
            _stats_answers("BreakdownResponse", realtime=False),
            BreakdownParams.PARAMETERS,
            breakdown_metrics,
            security=_BEARER,
        ),
        _Operation(
            "get",
            "/api/v1/stats/realtime",
            "getRealtime",
            "Current visitors (never cached)",
            "stats",
            _stats_answers("RealtimeResponse", realtime=True),
            RealtimeParams.PARAMETERS,
            security=_BEARER,
        ),
        _Operation(
            "get",
            "/api/sites/{siteId}/api-keys",
            "listApiKeys",
            "List the site's API keys, newest first",
            "api-keys",
            [_Answer(200, "KeyList"), *key_errors],
            path_parameters=("siteId",),
            security=_SESSION,
        ),
        _Operation(
            "post",
            "/api/sites/{siteId}/api-keys",
            "createApiKey",
            "Create an API key; the token is shown once." + _ORIGIN_NOTE,
            "api-keys",
            [
                _Answer(201, "CreatedKey"),
                _Answer(400),
                *key_errors,
                _Answer(
                    409,
                    description=f"conflict: the site already has {MAX_ACTIVE_KEYS_PER_SITE} active (not revoked) keys,"
                    " the most it may have (revoke one first); or, very rarely, no unique key prefix could be"
                    " allocated (retry)",
                ),
                _Answer(
                    413,
                    description=f"payload_too_large: over {MAX_CREATE_BODY_BYTES} bytes"
                    " (checked before the body is parsed)",
                ),
            ],
            path_parameters=("siteId",),
            body="CreateKeyRequest",
            security=_SESSION,
        ),
        _Operation(
            "delete",
            "/api/sites/{siteId}/api-keys/{keyId}",
            "revokeApiKey",
            "Revoke an API key (again is fine)." + _ORIGIN_NOTE,
            "api-keys",
            [_Answer(200, "Revoked"), *key_errors],
            path_parameters=("siteId", "keyId"),
            security=_SESSION,
        ),
        _Operation(
            "post",
            "/api/event",
            "sendEvent",
            "Record an event (Plausible's wire format; no auth, CORS open). Each client address has its own"
            " window of events, 60 a minute, apart from its API window, counted before the body is read.",
            "ingestion",
            [
                _Answer(202, "Accepted", headers=("X-Aizen-Dropped", *_CORS)),
                _Answer(400, headers=_CORS),
                _Answer(404, headers=_CORS, description="not_found: no site has this domain"),
                _Answer(413, headers=_CORS, description=f"payload_too_large: over {MAX_BODY_BYTES} bytes"),
                _Answer(
                    429,
                    required_headers=_LIMITED,
                    headers=_CORS,
                    description="rate_limited: the address's window of events (60 a minute) is full; not stored",
                ),
                _Answer(500, headers=("X-Request-Id", *_CORS)),
                _Answer(503, required_headers=("Retry-After",), headers=_CORS),
            ],
            body="EventRequest",
        ),
        _Operation(
            "options",
            "/api/event",
            "preflightEvent",
            "CORS preflight of POST /api/event (open to every origin; not counted against any limit)",
            "ingestion",
            [
                _Answer(
                    204,
                    schema=None,
                    required_headers=("Access-Control-Allow-Methods",),
                    headers=("Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Max-Age"),
                    description="No Content: the CORS headers (all of them when the request has an Origin)",
                )
            ],
        ),
    ]


def _operation(operation: _Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in operation.path_parameters
    ]
    if operation.params:
        parameters += _query_parameters(operation.params, operation.metrics)
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": operation.security,
    }
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {_JSON: {"schema": {"$ref": _REF.format(model=operation.body)}}},
        }
    document["responses"] = {str(answer.status): _response(answer) for answer in operation.answers}
    return document


def build() -> dict[str, Any]:
    """The whole document."""
    mode: JsonSchemaMode = "validation"
    _, definitions = models_json_schema([(model, mode) for model in _SCHEMA_MODELS], ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for operation in _operations():
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Aizen public API",
            "version": "1",
            "description": (
                "Privacy-friendly web analytics. Generated from the code's models by `aizen openapi`; "
                "see docs/api.md and docs/stats.md."
            ),
        },
        "servers": [{"url": "https://aizenanalytics.com"}],
        "tags": [{"name": "stats"}, {"name": "api-keys"}, {"name": "ingestion"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(definitions.get("$defs", {}).items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: aiz_live_<12 hex>_<64 hex>, scope stats:read",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "The dashboard's signed-in session",
                },
            },
        },
    }


def document_text() -> str:
    """Exactly what `aizen openapi` prints and docs/openapi.json holds."""
    return json.dumps(build(), indent=2) + "\n"


def _schema_text(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{html.escape(name)}">{html.escape(name)}</a>'
    facts = [f"{key}: {json.dumps(value)}" for key, value in schema.items() if key not in ("description",)]
    return html.escape(", ".join(facts))


def render_html(document: dict[str, Any]) -> str:
    """A self-contained reference page (no scripts, no network): operations, parameters, responses, schemas."""
    esc = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(document['info']['title'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
        "text-align:left;vertical-align:top}code,pre{background:#f4f4f4}h3 code{font-size:1.1em}</style>",
        "</head><body>",
        f"<h1>{esc(document['info']['title'])}</h1>",
        f'<p>{esc(document["info"]["description"])} Raw document: <a href="/openapi.json">/openapi.json</a>.</p>',
        "<h2>Operations</h2>",
    ]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            anchor = esc(operation["operationId"])
            out.append(f'<h3 id="{anchor}"><code>{esc(method.upper())} {esc(path)}</code></h3>')
            out.append(f"<p>{esc(operation['summary'])}</p>")
            security = ", ".join(name for requirement in operation["security"] for name in requirement) or "none"
            out.append(f"<p>Security: {esc(security)}</p>")
            if operation.get("parameters"):
                out.append(
                    "<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th><th>about</th></tr>"
                )
                for parameter in operation["parameters"]:
                    out.append(
                        f"<tr><td><code>{esc(parameter['name'])}</code></td><td>{esc(parameter['in'])}</td>"
                        f"<td>{'yes' if parameter['required'] else 'no'}</td>"
                        f"<td>{_schema_text(parameter['schema'])}</td>"
                        f"<td>{esc(parameter.get('description', ''))}</td></tr>"
                    )
                out.append("</table>")
            if "requestBody" in operation:
                body = operation["requestBody"]["content"][_JSON]["schema"]
                out.append(f"<p>Request body (application/json): {_schema_text(body)}</p>")
            out.append("<table><tr><th>status</th><th>meaning</th><th>body</th><th>headers</th></tr>")
            for status, response in operation["responses"].items():
                content = response.get("content")
                body_text = _schema_text(content[_JSON]["schema"]) if content else "none"
                headers = ", ".join(
                    f"{name}{' (always)' if header['required'] else ''}"
                    for name, header in response.get("headers", {}).items()
                )
                out.append(
                    f"<tr><td>{esc(status)}</td><td>{esc(response['description'])}</td>"
                    f"<td>{body_text}</td><td>{esc(headers)}</td></tr>"
                )
            out.append("</table>")
    out.append("<h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        out.append(f'<h3 id="schema-{esc(name)}">{esc(name)}</h3>')
        out.append(f"<pre>{esc(json.dumps(schema, indent=2))}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
