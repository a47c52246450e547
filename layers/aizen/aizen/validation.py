"""Turn pydantic validation failures of JSON bodies into `400 invalid_request` naming the field.

(Query strings are read by `aizen.query.params`.)
"""

from pydantic import BaseModel, ValidationError

from aizen.bodies import refuse_oversized_body
from aizen.errors import InvalidRequest


def describe(error: ValidationError, model: type[BaseModel]) -> str:
    """One sentence about the first problem, with the parameter's public name."""
    problems = error.errors()
    # An unknown field explains a "missing" one (a typo), so it is reported first.
    first = next((problem for problem in problems if problem["type"] == "extra_forbidden"), problems[0])
    field = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "missing":
        return f"{field} is required"
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(info.alias or name for name, info in model.model_fields.items())
        return f"Unknown field {field}; allowed fields: {allowed}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"


def parse_json_body[M: BaseModel](model: type[M], body: str | bytes | None, *, max_bytes: int | None = None) -> M:
    """The body as `model`: 413 over `max_bytes` (before it is parsed), else 400 naming the field."""
    if body and max_bytes is not None:
        refuse_oversized_body(body, max_bytes)
    if not body:
        raise InvalidRequest("The request body must be a JSON object")
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        if error.errors()[0]["type"] in ("json_invalid", "model_type"):
            raise InvalidRequest("The request body must be a JSON object") from error
        raise InvalidRequest(describe(error, model)) from error
