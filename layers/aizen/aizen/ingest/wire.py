"""Plausible's events API wire format: long or short field names, JSON as any content type.

Plausible's trackers send `text/plain` (no CORS preflight) with short names
(`n`, `u`, `d`, `r`, `p`, `h`, `i`, and for engagement `e`, `sd`, plus fields Aizen ignores
such as `w`, `v`); server-side senders often use `application/json` with long names. Both
are accepted. Names, props and engagement figures are checked by `aizen.ingest.custom`.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from aizen.bodies import refuse_oversized_body
from aizen.errors import InvalidRequest
from aizen.events import EventKind
from aizen.ingest import custom
from aizen.models import site_domain

# Room for the largest props the limits allow (30 x (300 + 2,000) characters of ASCII).
MAX_BODY_BYTES = 128 * 1024
_ALIASES = {"name": "n", "url": "u", "domain": "d", "referrer": "r", "props": "p"}
# A site may be listed with others (`d=a.com,b.com`); more than this is not a tracker's doing.
MAX_DOMAINS = 10


@dataclass(frozen=True, slots=True)
class TrackerEvent:
    name: str
    url: str
    domains: tuple[str, ...]
    referrer: str | None = None
    props: dict[str, Any] = field(default_factory=dict)  # as sent (checked: `stored_props`)
    hash_mode: bool = False
    interactive: bool = True  # `i: false`: a custom event that is no interaction
    engaged_ms: int | None = None  # engagement events only (`e`)
    scroll_depth: int | None = None  # engagement events only (`sd`)
    stored_props: str | None = None  # the props as stored (aizen.ingest.custom.props_json)

    @property
    def kind(self) -> EventKind:
        return custom.kind_of(self.name)


def _field(payload: dict[str, Any], long_name: str) -> Any:
    short = _ALIASES[long_name]
    if long_name in payload and payload[long_name] is not None:
        return payload[long_name]
    return payload.get(short)


def _string(payload: dict[str, Any], long_name: str, *, required: bool) -> str | None:
    value = _field(payload, long_name)
    label = f"{long_name} ({_ALIASES[long_name]})"
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"{label}: required")
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{label}: must be a string")
    return value


def _props(payload: dict[str, Any]) -> dict[str, Any]:
    value = _field(payload, "props")
    if value is None:
        return {}
    if isinstance(value, str):  # older trackers send props (`m`/`meta`) as a JSON string
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidRequest("props (p): must be an object or a JSON object string") from None
    if not isinstance(value, dict):
        raise InvalidRequest("props (p): must be an object")
    return value


def _interactive(payload: dict[str, Any]) -> bool:
    value = payload.get("i", payload.get("interactive"))
    if value in (None, 1, True):
        return True
    if value in (0, False):
        return False
    raise InvalidRequest("i: must be true or false (false: the event is no interaction)")


def _hash_mode(payload: dict[str, Any]) -> bool:
    value = payload.get("h", payload.get("hashMode"))
    if value in (None, 0, False, "0", "false"):
        return False
    if value in (1, True, "1", "true"):
        return True
    raise InvalidRequest("h: must be 1 (hash mode) or 0")


def parse(body: bytes) -> TrackerEvent:
    """Validate a request body; every error names the offending field."""
    refuse_oversized_body(body, MAX_BODY_BYTES)
    if not body.strip():
        raise InvalidRequest("body: required (a JSON object with name, url and domain)")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("body: not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("body: must be a JSON object")
    name = _string(payload, "name", required=True)
    url = _string(payload, "url", required=True)
    domain = _string(payload, "domain", required=True)
    assert name is not None
    assert url is not None
    assert domain is not None
    custom.event_name("name (n)", name)
    props = _props(payload)
    kind = custom.kind_of(name)
    engagement = kind == "engagement"
    return TrackerEvent(
        name=name,
        url=url,
        domains=_domains(domain),
        referrer=_string(payload, "referrer", required=False),
        props=props,
        hash_mode=_hash_mode(payload),
        interactive=_interactive(payload),
        engaged_ms=custom.engaged_ms("e", payload.get("e")) if engagement else None,
        scroll_depth=custom.scroll_depth("sd", payload.get("sd")) if engagement else None,
        # An outbound click's `url` prop is its link, stored without query or fragment.
        stored_props=custom.props_json(
            "props (p)",
            {key: value for key, value in props.items() if key != "url"} if kind == "outbound_click" else props,
        ),
    )


def _hostname(part: str) -> str:
    """`part` as sites' domains are stored, if it could be one; else 400 naming `domain`. A name no
    site can have is the sender's mistake (400), not an unknown site (404), and never reaches the store."""
    host = site_domain(part)
    if host is None:
        raise InvalidRequest(f"domain (d): {part.strip()[:100]!r} is not a domain name (e.g. example.com)")
    return host


def _domains(value: str) -> tuple[str, ...]:
    """The listed sites' domains, at most MAX_DOMAINS, each a hostname, without repeats."""
    parts = [part for part in value.split(",") if part.strip()]
    if not parts:
        raise InvalidRequest("domain (d): required")
    if len(parts) > MAX_DOMAINS:
        raise InvalidRequest(f"domain (d): at most {MAX_DOMAINS} domains, comma-separated; got {len(parts)}")
    return tuple(dict.fromkeys(_hostname(part) for part in parts))
