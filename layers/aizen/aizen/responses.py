"""The error body every endpoint answers with (docs/api.md, Errors), as a pydantic model.

`aizen.http.error_body` builds it as a plain dict; this model is its schema for
docs/openapi.json, and tests validate real error answers against it.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ErrorCode = Literal[
    "invalid_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "payload_too_large",
    "unsupported_query",
    "rate_limited",
    "internal_error",
    "service_unavailable",
]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: ErrorCode = Field(description="Stable, machine-readable")
    message: str = Field(description="For people: names the offending parameter or field")


class ErrorResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail
