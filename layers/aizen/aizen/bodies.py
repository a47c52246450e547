"""Request bodies' own size limits, checked before any parsing (no pydantic: ingestion uses it)."""

from aizen.errors import PayloadTooLarge


def refuse_oversized_body(body: str | bytes, max_bytes: int) -> None:
    """`413 payload_too_large` for a body over the endpoint's own limit; called before any parsing."""
    size = len(body.encode() if isinstance(body, str) else body)
    if size > max_bytes:
        raise PayloadTooLarge(f"body: {size} bytes is over the {max_bytes}-byte limit")
