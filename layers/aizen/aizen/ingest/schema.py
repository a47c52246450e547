"""Schema of POST /api/event for docs/openapi.json (Plausible's wire format).

`aizen.ingest.wire.parse` validates bodies by hand (long or short field names,
JSON under any content type); this model only describes what it accepts.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aizen.ingest.wire import MAX_BODY_BYTES


class EventRequest(BaseModel):
    """An event; each field may also be sent under its short name (n, u, d, r, p, h)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"description": f"At most {MAX_BODY_BYTES} bytes; unknown fields are ignored"},
    )

    name: str = Field(min_length=1, description="Event name (n); pageview or 'Outbound Link: Click' are counted")
    url: str = Field(
        min_length=1,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",  # what aizen.ingest.enrich.valid_url requires
        description="Page URL (u): an absolute http(s) URL with a host",
    )
    domain: str = Field(
        min_length=1,
        description="Site domain (d), e.g. example.com; up to 10 comma-separated for several sites, each a domain name",
    )
    referrer: str | None = Field(default=None, description="Referrer URL (r)")
    props: dict[str, Any] | str | None = Field(default=None, description="Custom properties (p): object or JSON")
    hashMode: Literal[0, 1] | bool | None = Field(default=None, description="Hash-based routing (h)")  # noqa: N815


class Accepted(BaseModel):
    """202: stored, or dropped on purpose (X-Aizen-Dropped: event_name; a bot's event answers as if stored)."""

    model_config = ConfigDict(extra="forbid")

    ok: Literal[True]
