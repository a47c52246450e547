"""Event names, props and engagement figures, checked alike for `POST /api/event` and `aizen import`.

The limits are Plausible's (docs/ingestion.md, "Custom events, props and engagement"): an
event name of at most 120 characters, at most 30 props, keys of at most 300 and values of
at most 2,000 characters. Over a limit is a `400` naming the field, never a truncation.
Prop values are strings; numbers and booleans become their JSON text (`42`, `1.5`, `true`),
as Plausible turns them into strings; `null` and `""` mean "no value" and are left out, as
Plausible does; objects and arrays are refused (Plausible drops them without a word).
"""

import json
from collections.abc import Mapping
from typing import Any

from aizen.errors import InvalidRequest
from aizen.events import EventKind
from aizen.goals import OUTBOUND_CLICK_EVENT

PAGEVIEW_EVENT = "pageview"
ENGAGEMENT_EVENT = "engagement"
MAX_NAME_CHARS = 120
MAX_PROPS = 30
MAX_PROP_KEY_CHARS = 300
MAX_PROP_VALUE_CHARS = 2_000
MAX_ENGAGED_MS = 2**31 - 1  # ~24.8 days: more is no page view's engaged time
MAX_SCROLL_DEPTH = 100


def kind_of(name: str) -> EventKind:
    """The kind an event name stands for: every name but the three reserved ones is a custom event."""
    if name == PAGEVIEW_EVENT:
        return "pageview"
    if name == ENGAGEMENT_EVENT:
        return "engagement"
    if name == OUTBOUND_CLICK_EVENT:
        return "outbound_click"
    return "custom"


def event_name(label: str, name: str) -> str:
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"{label}: at most {MAX_NAME_CHARS} characters; got {len(name)}")
    return name


def _prop_value(label: str, key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | int | float):
        text = json.dumps(value)
    else:
        raise InvalidRequest(f"{label}.{key}: must be a string, number or boolean")
    if len(text) > MAX_PROP_VALUE_CHARS:
        raise InvalidRequest(f"{label}.{key}: at most {MAX_PROP_VALUE_CHARS} characters; got {len(text)}")
    return text


def props_json(label: str, props: Mapping[str, Any]) -> str | None:
    """The props as stored: a JSON object with sorted keys and string values, None when none."""
    if len(props) > MAX_PROPS:
        raise InvalidRequest(f"{label}: at most {MAX_PROPS} properties; got {len(props)}")
    stored: dict[str, str] = {}
    for key, value in props.items():
        if not key:
            raise InvalidRequest(f"{label}: a property name must not be empty")
        if len(key) > MAX_PROP_KEY_CHARS:
            raise InvalidRequest(
                f"{label}: property names have at most {MAX_PROP_KEY_CHARS} characters; {key[:40]!r}… has {len(key)}"
            )
        text = _prop_value(label, key, value)
        if text is not None:
            stored[key] = text
    if not stored:
        return None
    return json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _whole_number(label: str, value: Any, maximum: int, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"{label}: must be a whole number of {meaning}, 0 or more")
    if value > maximum:
        raise InvalidRequest(f"{label}: at most {maximum}; got {value}")
    return value


def engaged_ms(label: str, value: Any) -> int:
    if value is None:
        raise InvalidRequest(f"{label}: required for engagement events (engaged milliseconds)")
    return _whole_number(label, value, MAX_ENGAGED_MS, "milliseconds")


def scroll_depth(label: str, value: Any) -> int:
    """Percent 0-100; more is taken as 100 (a page that got shorter after the visitor scrolled
    reports more than its height), a negative or fractional number is refused."""
    if value is None:
        raise InvalidRequest(f"{label}: required for engagement events (scroll depth in percent)")
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SCROLL_DEPTH:
        return MAX_SCROLL_DEPTH
    return _whole_number(label, value, MAX_SCROLL_DEPTH, "percent")
