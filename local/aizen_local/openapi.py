"""The OpenAPI 3.1 description of the public API, generated from the layer's own models.

Query parameters come from the parameter tables (`aizen.query.params`),
the key-creation body from `aizen.auth.keys.CreateKeyRequest` (the goal's from
`aizen.site_goals.CreateGoalRequest`), response bodies
from the response models next to the code that builds them, and limits from the
layer's constants; the examples (requests and answers, the public API
documentation's own where it has one) are written here. `aizen openapi` prints it;
`docs/openapi.json` is that output (a unit test regenerates it and compares); the
local stack serves it at `/openapi.json`, its `servers` being the stack itself, and
Swagger UI over it at `/docs` (`aizen_local.gateway`).
"""

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
from aizen.goals import MAX_GOALS_PER_SITE
from aizen.ingest.schema import Accepted, EventRequest
from aizen.ingest.wire import MAX_BODY_BYTES
from aizen.query.params import Parameter
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.query.params.realtime import RealtimeParams
from aizen.query.params.timeseries import TimeseriesParams
from aizen.query.responses import AggregateResponse, BreakdownResponse, RealtimeResponse, TimeseriesResponse
from aizen.responses import ErrorResponse
from aizen.site_goals import (
    MAX_GOAL_BODY_BYTES,
    CreatedGoal,
    CreateGoalRequest,
    DeletedGoal,
    GoalList,
    GoalView,
)
from aizen.vocabulary import (
    AGGREGATE_METRICS,
    GOAL_METRICS,
    PAGE_ENGAGEMENT_METRICS,
    PROPERTY_METRICS,
    PROPS_METRICS,
    TIMESERIES_METRICS,
)

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
    GoalView,
    GoalList,
    CreatedGoal,
    DeletedGoal,
    CreateGoalRequest,
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
    example_message: str = ""  # an error's example message, when the status's usual one does not fit


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
    examples: dict[str, Any] = field(default_factory=dict)  # parameter name -> example ("body": the body's)
    # Whole requests, by name: request name -> {parameter name -> value}, each naming the same
    # parameters (none of `examples`'), so a client (Swagger UI, schemathesis's explicit phase)
    # that pairs a parameter's examples by name sends each request as written.
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)


# The public API documentation's own examples (its key, its numbers; a key expiring in 2030, so "Try it out"
# can create it for years), and one of each error.
_EXAMPLE_KEY: dict[str, Any] = {
    "id": "c3a66f42d3084c58a8fb98ec4d642c91",
    "site_id": "site_123",
    "created_by_user_id": "user_123",
    "name": "Production reporting",
    "scope": "stats:read",
    "key_prefix": "aiz_live_8c31d4a0d1e9",
    "expires_at": 1924991999,
    "last_used_at": None,
    "revoked_at": None,
    "created_at": 1775159000,
    "updated_at": 1775159000,
    "preview": "aiz_live_8c31d4a0d1e9_" + "*" * 32,
}
_EXAMPLE_GOAL: dict[str, Any] = {
    "id": "019cf0a1b2c3d4e5f6a7b8c9d0e1f2a3",
    "name": "Signup",
    "event": "Signup",
    "page": None,
    "created_at": 1775159000,
}
_EXAMPLE_META = {"timezone": "America/Los_Angeles", "from_rollups": False}
_EXAMPLE_ANSWERS: dict[str, Any] = {
    "AggregateResponse": {
        "period": {"from": "2026-02-05", "to": "2026-03-06", "preset": "30d"},
        "metrics": {"visitors": 18324, "pageviews": 42102, "bounce_rate": 37.8},
        "meta": _EXAMPLE_META,
    },
    "TimeseriesResponse": {
        "period": {"from": "2026-02-28", "to": "2026-03-06", "preset": "7d"},
        "interval": "day",
        "results": [{"date": "2026-02-28T08:00:00.000Z", "visitors": 2421, "pageviews": 5510}],
        "meta": _EXAMPLE_META,
    },
    "BreakdownResponse": {
        "property": "exit_link",
        "period": {"from": "2026-02-05", "to": "2026-03-06", "preset": "30d"},
        "results": [{"value": "https://github.com/example/repo", "clicks": 47}],
        "pagination": {"page_number": 1, "limit": 10, "total_rows": 1, "total_pages": 1},
        "meta": {**_EXAMPLE_META, "from_rollups": True},
    },
    "RealtimeResponse": {"current_visitors": 18, "window_minutes": 10},
    "KeyList": {"keys": [_EXAMPLE_KEY]},
    "CreatedKey": {"key": _EXAMPLE_KEY, "token": "aiz_live_8c31d4a0d1e9_" + "7f0d9a" + "0" * 58},
    "Revoked": {"ok": True},
    "GoalList": {
        "goals": [
            _EXAMPLE_GOAL,
            {
                **_EXAMPLE_GOAL,
                "id": "019cf0a1b2c3d4e5f6a7b8c9d0e1f2a4",
                "name": "Visit /blog/**",
                "event": None,
                "page": "/blog/**",
            },
        ]
    },
    "CreatedGoal": {"goal": _EXAMPLE_GOAL},
    "DeletedGoal": {"ok": True},
    "Accepted": {"ok": True},
}
_EXAMPLE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "property is required"),
    401: ("unauthorized", "Missing bearer token: send 'Authorization: Bearer <api key>'"),
    403: ("forbidden", "API access is unavailable for this site: the site owner's plan does not include it"),
    404: ("not_found", "Site site_123 not found"),
    409: ("conflict", "Could not allocate a unique key prefix; retry"),
    413: ("payload_too_large", "body: 9000 bytes is over the 8192-byte limit"),
    422: ("unsupported_query", "filtered queries are only supported inside the 90-day raw event window"),
    429: ("rate_limited", "Rate limit exceeded: 600 requests per hour per API key; retry in 1800 s"),
    500: ("internal_error", "Internal error; request id 0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"),
    503: ("service_unavailable", "The service is busy; retry after Retry-After"),
}
_EXAMPLE_SITE_PATH = {"siteId": "site_123", "keyId": _EXAMPLE_KEY["id"], "goalId": _EXAMPLE_GOAL["id"]}


def _answer_example(answer: _Answer) -> Any:
    if answer.schema != "ErrorResponse":
        return _EXAMPLE_ANSWERS[str(answer.schema)]
    code, message = _EXAMPLE_ERRORS[answer.status]
    return {"error": {"code": code, "message": answer.example_message or message}}


def _metrics_pattern(allowed: tuple[str, ...]) -> str:
    choice = "|".join(allowed)
    return f"^({choice})(,({choice}))*$"


def _query_parameters(
    parameters: tuple[Parameter, ...],
    metrics: tuple[str, ...],
    examples: dict[str, Any],
    requests: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    named = {frozenset(request) for request in requests.values()}
    if len(named) > 1 or any(name in examples for request in requests.values() for name in request):
        raise ValueError("every named request names the same parameters, and none of the single examples")
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
        if parameter.prefix:
            # A family of names (`props:plan=pro`): an object whose keys are the parameter names.
            document.update({"name": parameter.field_name, "style": "form", "explode": True})
            schema = {
                "type": "object",
                "patternProperties": {f"^{parameter.name}.+$": schema},
                "additionalProperties": False,
            }
        document["schema"] = schema
        if description:
            document["description"] = description
        if parameter.name in examples:
            document["example"] = examples[parameter.name]
        if any(parameter.name in request for request in requests.values()):
            document["examples"] = {name: {"value": request[parameter.name]} for name, request in requests.items()}
        described.append(document)
    return described


def _response(answer: _Answer) -> dict[str, Any]:
    response: dict[str, Any] = {"description": answer.description or _STATUS_TEXT[answer.status]}
    if answer.schema is not None:
        response["content"] = {
            _JSON: {"schema": {"$ref": _REF.format(model=answer.schema)}, "example": _answer_example(answer)}
        }
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
    breakdown_metrics = tuple(
        dict.fromkeys(
            metric
            for values in (*PROPERTY_METRICS.values(), GOAL_METRICS, PROPS_METRICS, PAGE_ENGAGEMENT_METRICS)
            for metric in values
        )
    )
    key_errors = [
        _Answer(
            401,
            description="unauthorized: no valid aizen_session cookie",
            example_message=f"Sign in to the dashboard: the {SESSION_COOKIE} cookie is missing",
        ),
        _Answer(
            403,
            description="forbidden: not the site's owner, or (writes) a missing or foreign Origin",
            example_message="Only the site owner can manage its API keys",
        ),
        _Answer(404, description="not_found: unknown site (or a key of another site)"),
        _Answer(
            429,
            required_headers=_LIMITED,
            description="rate_limited: the address's API window (60 a minute, shared with the stats routes) is full;"
            " checked before the session cookie",
            example_message="Rate limit exceeded: 60 requests per minute per IP address; retry in 12 s",
        ),
        _Answer(500, headers=("X-Request-Id",)),
        _Answer(503, required_headers=("Retry-After",)),
    ]
    goal_errors = [
        key_errors[0],
        _Answer(
            403,
            description="forbidden: not the site's owner, the owner's plan without API access (billing),"
            " or (writes) a missing or foreign Origin",
            example_message="Only the site owner can manage its goals",
        ),
        _Answer(404, description="not_found: unknown site (or a goal of another site)"),
        *key_errors[3:],
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
            requests={
                "plausible_filters": {
                    "period": "30d",
                    "metrics": "visitors,pageviews,bounce_rate",
                    "filters": "visit:country==US|DE;event:page==/blog/**;visit:browser!=Safari",
                    "compare": "previous_period",
                },
                "goal_and_props_filters": {
                    "period": "7d",
                    "metrics": "visitors,events,conversion_rate",
                    "filters": "event:goal==Sign*|Visit /blog/**;event:props:plan!=free|(none)",
                    "compare": "previous_period",
                },
                "goal_excluded": {
                    "period": "30d",
                    "metrics": "visitors,pageviews",
                    "filters": r"event:goal!=Sign*;event:page==/pricing|/a\|b",
                    "compare": "year_over_year",
                },
            },
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
            examples={
                "period": "custom",
                "from": "2025-11-01",
                "to": "2025-11-30",
                "interval": "week",
                "metrics": "visitors,pageviews",
                "compare": "custom",
                "compare_from": "2024-11-01",
                "compare_to": "2024-11-30",
            },
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
            examples={
                "period": "30d",
                "property": "exit_link",
                "metrics": "clicks",
                "sort": "clicks.desc",
                "limit": 10,
            },
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
            examples={"minutes": 10},
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
                _Answer(400, example_message="name is required"),
                *key_errors,
                _Answer(
                    409,
                    description=f"conflict: the site already has {MAX_ACTIVE_KEYS_PER_SITE} active (not revoked) keys,"
                    " the most it may have (revoke one first); or, very rarely, no unique key prefix could be"
                    " allocated (retry)",
                    example_message=f"Site site_123 already has {MAX_ACTIVE_KEYS_PER_SITE} active API keys, the most"
                    " a site may have; revoke one to create another",
                ),
                _Answer(
                    413,
                    description=f"payload_too_large: over {MAX_CREATE_BODY_BYTES} bytes"
                    " (checked before the body is parsed)",
                    example_message=f"body: 5000 bytes is over the {MAX_CREATE_BODY_BYTES}-byte limit",
                ),
            ],
            path_parameters=("siteId",),
            body="CreateKeyRequest",
            security=_SESSION,
            examples={"body": {"name": "Production reporting", "expiresAt": "2030-12-31T23:59:59Z"}},
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
            "get",
            "/api/sites/{siteId}/goals",
            "listGoals",
            "List the site's goals, oldest first",
            "goals",
            [_Answer(200, "GoalList"), *goal_errors],
            path_parameters=("siteId",),
            security=_SESSION,
        ),
        _Operation(
            "post",
            "/api/sites/{siteId}/goals",
            "createGoal",
            "Create a goal: a custom event's name or a page path pattern." + _ORIGIN_NOTE,
            "goals",
            [
                _Answer(201, "CreatedGoal"),
                _Answer(400, example_message="body: exactly one of event and page is required"),
                *goal_errors,
                _Answer(
                    409,
                    description=f"conflict: the site already has {MAX_GOALS_PER_SITE} goals, the most it may have"
                    " (delete one first), or a goal with the same event, page pattern or name",
                    example_message="Site site_123 already has a goal for event 'Signup'",
                ),
                _Answer(
                    413,
                    description=f"payload_too_large: over {MAX_GOAL_BODY_BYTES} bytes"
                    " (checked before the body is parsed)",
                    example_message=f"body: {MAX_GOAL_BODY_BYTES + 1000} bytes is over the"
                    f" {MAX_GOAL_BODY_BYTES}-byte limit",
                ),
            ],
            path_parameters=("siteId",),
            body="CreateGoalRequest",
            security=_SESSION,
            examples={"body": {"event": "Signup", "display_name": "Signups"}},
        ),
        _Operation(
            "delete",
            "/api/sites/{siteId}/goals/{goalId}",
            "deleteGoal",
            "Delete a goal (its slot is free at once)." + _ORIGIN_NOTE,
            "goals",
            [_Answer(200, "DeletedGoal"), *goal_errors],
            path_parameters=("siteId", "goalId"),
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
                _Answer(202, "Accepted", headers=_CORS),
                _Answer(
                    400,
                    headers=_CORS,
                    example_message="url (u): must be an absolute http(s) URL, got '/pricing'",
                ),
                _Answer(
                    404,
                    headers=_CORS,
                    description="not_found: no site has this domain",
                    example_message="domain (d): no site is registered for example.com",
                ),
                _Answer(
                    413,
                    headers=_CORS,
                    description=f"payload_too_large: over {MAX_BODY_BYTES} bytes",
                    example_message=f"body: {MAX_BODY_BYTES + 1000} bytes is over the {MAX_BODY_BYTES}-byte limit",
                ),
                _Answer(
                    429,
                    required_headers=_LIMITED,
                    headers=_CORS,
                    description="rate_limited: the address's window of events (60 a minute) is full; not stored",
                    example_message="Rate limit exceeded: 60 requests per minute per IP address for events;"
                    " retry in 12 s",
                ),
                _Answer(500, headers=("X-Request-Id", *_CORS)),
                _Answer(503, required_headers=("Retry-After",), headers=_CORS),
            ],
            body="EventRequest",
            examples={
                "body": {
                    "name": "pageview",
                    "url": "https://example.com/pricing",
                    "domain": "example.com",
                    "referrer": "https://www.google.com/",
                }
            },
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
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "example": _EXAMPLE_SITE_PATH[name],
        }
        for name in operation.path_parameters
    ]
    if operation.params:
        parameters += _query_parameters(operation.params, operation.metrics, operation.examples, operation.requests)
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
            "content": {
                _JSON: {"schema": {"$ref": _REF.format(model=operation.body)}, "example": operation.examples["body"]}
            },
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
        "tags": [{"name": "stats"}, {"name": "api-keys"}, {"name": "goals"}, {"name": "ingestion"}],
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
