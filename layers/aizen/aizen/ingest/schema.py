"""Schema of POST /api/event for docs/openapi.json (Plausible's wire format).

`aizen.ingest.wire.parse` validates bodies by hand (long or short field names,
JSON under any content type); this model only describes what it accepts.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from aizen.ingest.custom import MAX_ENGAGED_MS, MAX_NAME_CHARS, MAX_PROP_KEY_CHARS, MAX_PROP_VALUE_CHARS, MAX_PROPS
from aizen.ingest.wire import MAX_BODY_BYTES

PropValue = Annotated[str, Field(max_length=MAX_PROP_VALUE_CHARS)] | int | float | bool | None
Props = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=MAX_PROP_KEY_CHARS)], PropValue],
    Field(max_length=MAX_PROPS),
]


class EventRequest(BaseModel):
    """An event; each field may also be sent under its short name (n, u, d, r, p, h, i)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"description": f"At most {MAX_BODY_BYTES} bytes; unknown fields are ignored"},
    )

    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Event name (n): pageview, engagement, 'Outbound Link: Click' (props.url: the clicked URL),"
        " or any other name: a custom event",
    )
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
    props: Props | str | None = Field(
        default=None,
        description=f"Custom properties (p): an object, or a JSON string of one (the legacy script); at most"
        f" {MAX_PROPS} properties, names of at most {MAX_PROP_KEY_CHARS} and values of at most"
        f" {MAX_PROP_VALUE_CHARS} characters; numbers and booleans are stored as their JSON text, null and"
        " empty values are left out",
    )
    hashMode: Literal[0, 1] | bool | None = Field(default=None, description="Hash-based routing (h)")  # noqa: N815
    interactive: Literal[0, 1] | bool | None = Field(
        default=None, description="i: false marks a custom event that is no interaction (it does not prevent a bounce)"
    )
    e: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ENGAGED_MS,
        description="Engaged milliseconds since the page view's last engagement event (required for engagement)",
    )
    sd: int | None = Field(
        default=None,
        ge=0,
        description="Deepest scroll on the page, percent (required for engagement; more than 100 is taken as 100)",
    )


class Accepted(BaseModel):
    """202: stored (a bot's event, dropped, answers exactly the same)."""

    model_config = ConfigDict(extra="forbid")

    ok: Literal[True]
