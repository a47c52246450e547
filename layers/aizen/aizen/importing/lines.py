"""One import line: its fields checked by a pydantic model, then enriched into a `RawEvent`.

The line format is in docs/ingestion.md (`aizen import`). Every bad line gets one reason
naming its field, the same sentences whatever pydantic's own wording; the whole file is
read before anything is written (`read_lines`).
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails

from aizen.errors import InvalidRequest
from aizen.events import DEVICES, FUTURE_SKEW_MS, EventKind, RawEvent
from aizen.ingest import custom, enrich, visitors
from aizen.ingest.service import SiteRef, build_event
from aizen.settings import get_settings

MAX_REPORTED_LINES = 1000  # bad lines listed in ImportRejected; all are counted

_TIMESTAMP_FORMAT = "an ISO-8601 date-time with Z or an offset"


def _timestamp_ms(value: object, info: ValidationInfo) -> int:
    """UTC ms of an ISO-8601 date-time with a zone, not in the future (`now_ms` in the context)."""
    if not isinstance(value, str):
        raise ValueError(f"required, {_TIMESTAMP_FORMAT}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} needs a time zone (Z or an offset)")
    timestamp_ms = int(parsed.timestamp() * 1000)
    if info.context is not None and timestamp_ms > info.context["now_ms"] + FUTURE_SKEW_MS:
        raise ValueError(f"{value} is in the future")
    return timestamp_ms


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


def _required(value: object) -> object:
    if value is None or value == "":
        raise ValueError("required")
    return value


def _absolute_url(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return value
    try:
        return enrich.valid_url(str(info.field_name), value)
    except InvalidRequest as error:
        raise ValueError(error.message.removeprefix(f"{info.field_name}: ")) from None


CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]  # ISO 3166-2
Text = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalUrl = Annotated[str | None, BeforeValidator(_blank_is_none), AfterValidator(_absolute_url)]


class ImportLine(BaseModel):
    """The fields of one NDJSON import line (strict: a string field takes only a string)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    timestamp: Annotated[int, BeforeValidator(_timestamp_ms)]
    name: Annotated[str, BeforeValidator(_required)]
    url: Annotated[str, BeforeValidator(_required), AfterValidator(_absolute_url)]
    referrer: Text = None
    link: OptionalUrl = None
    visitor_id: Text = None
    ip: Text = None
    user_agent: Text = None
    hash_mode: bool = False
    country: Annotated[CountryCode | None, BeforeValidator(_blank_is_none)] = None
    region: Annotated[RegionCode | None, BeforeValidator(_blank_is_none)] = None
    city: Text = None
    device: Annotated[Literal["desktop", "mobile", "tablet"] | None, BeforeValidator(_blank_is_none)] = None
    browser: Text = None
    os: Text = None
    props: dict[str, Any] | None = None
    interactive: bool = True
    engaged_ms: int | None = None
    scroll_depth: int | None = None

    @property
    def kind(self) -> EventKind:
        return "outbound_click" if self.name == "outbound_click" else custom.kind_of(self.name)

    @model_validator(mode="after")
    def _requires_together(self) -> "ImportLine":
        kind = self.kind
        if kind == "outbound_click" and self.link is None:
            raise ValueError("link: required for outbound_click")
        if kind != "outbound_click" and self.link is not None:
            raise ValueError("link: only for outbound_click")
        if kind != "custom" and not self.interactive:
            raise ValueError("interactive: only for custom events")
        if kind != "engagement" and (self.engaged_ms is not None or self.scroll_depth is not None):
            raise ValueError("engaged_ms, scroll_depth: only for engagement")
        try:
            custom.event_name("name", self.name)
            custom.props_json("props", self.props or {})
            if kind == "engagement":
                custom.engaged_ms("engaged_ms", self.engaged_ms)
                custom.scroll_depth("scroll_depth", self.scroll_depth)
        except InvalidRequest as error:
            raise ValueError(error.message) from None
        if self.visitor_id is None and (self.ip is None or self.user_agent is None):
            raise ValueError("visitor_id, or both ip and user_agent: required")
        return self


# Reasons for pydantic's error types where its own wording would not tell an importer what to write.
_REASONS: dict[tuple[str, str], str] = {
    ("timestamp", "missing"): f"required, {_TIMESTAMP_FORMAT}",
    ("name", "missing"): "required: pageview, outbound_click, engagement or a custom event's name",
    ("name", "value_error"): "required: pageview, outbound_click, engagement or a custom event's name",
    ("props", "dict_type"): "must be an object",
    ("interactive", "bool_type"): "must be true or false",
    ("engaged_ms", "int_type"): "must be a whole number of milliseconds, 0 or more",
    ("scroll_depth", "int_type"): "must be a whole number of percent, 0 or more",
    ("url", "missing"): "required",
    ("device", "literal_error"): f"must be one of {', '.join(DEVICES)}",
    ("country", "string_pattern_mismatch"): "must be an ISO 3166-1 alpha-2 code such as US",
    ("region", "string_pattern_mismatch"): "must be an ISO 3166-2 code such as US-CA",
    ("hash_mode", "bool_type"): "must be true or false",
}


def line_reason(error: ValidationError, text: str) -> str:
    """One sentence for a bad line: every unknown field, else the first problem, naming its field."""
    problems = error.errors()
    if problems[0]["type"] == "json_invalid":
        return _json_problem(text)
    if problems[0]["type"] == "model_type":
        return "not a JSON object"
    unknown = sorted(str(problem["loc"][0]) for problem in problems if problem["type"] == "extra_forbidden")
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}"
    return _reason(problems[0])


def _json_problem(text: str) -> str:
    """The standard library's description of the JSON error (pydantic's is less readable)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg})"
    return "not valid JSON"


def _reason(problem: ErrorDetails) -> str:
    message = str(problem["msg"]).removeprefix("Value error, ")
    if not problem["loc"]:  # the checks across fields name their fields themselves
        return message
    name = str(problem["loc"][0])
    if problem["type"] == "string_type":
        return f"{name}: must be a string"
    return f"{name}: {_REASONS.get((name, problem['type']), message)}"


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


class ImportRejected(InvalidRequest):
    """The file had bad lines; nothing was written."""

    def __init__(self, bad_lines: list[BadLine], total_bad: int) -> None:
        super().__init__(f"{total_bad} bad line(s); nothing was written")
        self.bad_lines = bad_lines
        self.total_bad = total_bad


@dataclass(frozen=True, slots=True)
class LineKey:
    """What an event keeps of its line."""

    nonce: bytes  # line number + text: fixes the stored event's sort key (re-importing overwrites)
    digest: bytes  # the text alone: marks the history a day's rollup already holds


class LineReader:
    """Reads lines of one site's import: checked, then enriched as ingestion would."""

    def __init__(self, site: SiteRef, now_ms: int) -> None:
        self.site = site
        self.context = {"now_ms": now_ms}
        self.geoip = get_settings().geoip_database

    def event(self, text: str) -> RawEvent | None:
        """The enriched event, or None for a bot; ValueError says what is wrong with the line."""
        try:
            line = ImportLine.model_validate_json(text, context=self.context)
        except ValidationError as error:
            raise ValueError(line_reason(error, text)) from None
        return self.enriched(line)

    def enriched(self, line: ImportLine) -> RawEvent | None:
        agent = enrich.parse_user_agent(line.user_agent) if line.user_agent else enrich.Agent(None, None, None, False)
        if agent.bot:
            return None
        geo = enrich.geo_from_database(self.geoip, line.ip) if self.geoip and line.ip else enrich.NO_GEO
        if line.visitor_id is not None:
            visitor = visitors.imported_visitor_id(self.site.id, line.visitor_id)
        else:
            assert line.ip is not None  # ImportLine requires ip and user_agent without visitor_id
            assert line.user_agent is not None
            visitor = visitors.visitor_for(self.site.id, self.site.timezone, line.timestamp, line.ip, line.user_agent)
        kind = line.kind
        return build_event(
            self.site,
            timestamp_ms=line.timestamp,
            kind=kind,
            url=line.url,
            referrer=line.referrer,
            visitor_id=visitor,
            agent=enrich.Agent(line.browser or agent.browser, line.os or agent.os, line.device or agent.device, False),
            geo=enrich.Geo(line.country or geo.country, line.region or geo.region, line.city or geo.city),
            hash_mode=line.hash_mode,
            link=line.link,
            name=line.name,
            props=custom.props_json("props", line.props or {}),
            interactive=line.interactive,
            engaged_ms=custom.engaged_ms("engaged_ms", line.engaged_ms) if kind == "engagement" else None,
            scroll_depth=custom.scroll_depth("scroll_depth", line.scroll_depth) if kind == "engagement" else None,
        )


def read_lines(reader: LineReader, lines: Iterable[str]) -> tuple[list[RawEvent], list[LineKey], int, int]:
    """Every line read: (events, their line keys, lines read, bots skipped); ImportRejected lists the bad ones."""
    found: list[RawEvent] = []
    keys: list[LineKey] = []
    bad: list[BadLine] = []
    total_bad = bots = count = 0
    for count, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            event = reader.event(text)
        except ValueError as error:
            total_bad += 1
            if len(bad) < MAX_REPORTED_LINES:
                bad.append(BadLine(count, str(error)))
            continue
        if event is None:
            bots += 1
        elif not bad:
            found.append(event)
            keys.append(
                LineKey(
                    nonce=hashlib.blake2b(f"{count}\0{text}".encode(), digest_size=4).digest(),
                    digest=hashlib.blake2b(text.encode(), digest_size=8).digest(),
                )
            )
    if bad:
        raise ImportRejected(bad, total_bad)
    return found, keys, count, bots
