"""An import line's checks and reasons, without a store (lines with a `visitor_id` need no salt)."""

import json
from typing import Any

import pytest

from aizen.events import DEVICES
from aizen.importing.lines import BadLine, ImportRejected, LineReader, read_lines
from aizen.ingest.service import SiteRef

NOW_MS = 1_775_159_000_000  # 2026-04-02T19:43:20Z
SITE = SiteRef("site_1", "example.com", "UTC")


def line(**fields: Any) -> str:
    record: dict[str, Any] = {
        "timestamp": "2026-04-01T12:00:00.000Z",
        "name": "pageview",
        "url": "https://example.com/pricing?plan=pro",
        "visitor_id": "v1",
    }
    record.update(fields)
    return json.dumps({name: value for name, value in record.items() if value is not None})


def reason(text: str) -> str:
    try:
        LineReader(SITE, NOW_MS).event(text)
    except ValueError as error:
        return str(error)
    raise AssertionError(f"accepted: {text}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{oops", "not valid JSON (Expecting property name enclosed in double quotes)"),
        ('"just a string"', "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        (line(colour="red", size=3), "unknown field(s): colour, size"),
        (line(colour="red", name="click"), "unknown field(s): colour"),
        (line(timestamp=None), "timestamp: required, an ISO-8601 date-time with Z or an offset"),
        (line(timestamp=1_775_000_000), "timestamp: required, an ISO-8601 date-time with Z or an offset"),
        (line(timestamp="yesterday"), "timestamp: 'yesterday' is not an ISO-8601 date-time"),
        (line(timestamp="2026-04-01T12:00:00"), "timestamp: '2026-04-01T12:00:00' needs a time zone (Z or an offset)"),
        (line(timestamp="2026-04-02T19:45:00Z"), "timestamp: 2026-04-02T19:45:00Z is in the future"),
        (line(name=None), "name: required: pageview, outbound_click, engagement or a custom event's name"),
        (line(name=""), "name: required: pageview, outbound_click, engagement or a custom event's name"),
        (line(name=7), "name: must be a string"),
        (line(name="S" * 121), "name: at most 120 characters; got 121"),
        (line(name="Signup", props=[1]), "props: must be an object"),
        (line(name="Signup", props={str(n): "v" for n in range(31)}), "props: at most 30 properties; got 31"),
        (line(name="Signup", props={"plan": "v" * 2001}), "props.plan: at most 2000 characters; got 2001"),
        (line(name="Signup", props={"plan": {"a": 1}}), "props.plan: must be a string, number or boolean"),
        (line(interactive=False), "interactive: only for custom events"),
        (line(name="Signup", interactive="no"), "interactive: must be true or false"),
        (line(engaged_ms=5), "engaged_ms, scroll_depth: only for engagement"),
        (line(name="engagement", scroll_depth=5), "engaged_ms: required for engagement events (engaged milliseconds)"),
        (
            line(name="engagement", engaged_ms=5),
            "scroll_depth: required for engagement events (scroll depth in percent)",
        ),
        (
            line(name="engagement", engaged_ms=-5, scroll_depth=5),
            "engaged_ms: must be a whole number of milliseconds, 0 or more",
        ),
        (
            line(name="engagement", engaged_ms=1.5, scroll_depth=5),
            "engaged_ms: must be a whole number of milliseconds, 0 or more",
        ),
        (line(name="Outbound Link: Click"), "link: required for outbound_click"),
        (line(url=None), "url: required"),
        (line(url=""), "url: required"),
        (line(url=5), "url: must be a string"),
        (line(url="/relative"), "url: must be an absolute http(s) URL, got '/relative'"),
        (line(name="outbound_click"), "link: required for outbound_click"),
        (line(link="https://o.test/"), "link: only for outbound_click"),
        (line(name="outbound_click", link="mailto:x@y.z"), "link: must be an absolute http(s) URL, got 'mailto:x@y.z'"),
        (line(visitor_id=None), "visitor_id, or both ip and user_agent: required"),
        (line(visitor_id=None, ip="198.51.100.7"), "visitor_id, or both ip and user_agent: required"),
        (line(visitor_id=""), "visitor_id, or both ip and user_agent: required"),
        (line(device="phone"), "device: must be one of desktop, mobile, tablet"),
        (line(country="usa"), "country: must be an ISO 3166-1 alpha-2 code such as US"),
        (line(region="California"), "region: must be an ISO 3166-2 code such as US-CA"),
        (line(city=3), "city: must be a string"),
        (line(hash_mode="yes"), "hash_mode: must be true or false"),
    ],
)
def test_a_bad_line_gets_one_reason_naming_its_field(text: str, expected: str) -> None:
    assert reason(text) == expected


@pytest.mark.parametrize("device", DEVICES)
def test_every_device_of_the_events_is_accepted(device: str) -> None:
    event = LineReader(SITE, NOW_MS).event(line(device=device))
    assert event is not None
    assert event.device == device


def test_a_line_a_minute_ahead_is_accepted_for_clock_skew() -> None:
    event = LineReader(SITE, NOW_MS).event(line(timestamp="2026-04-02T19:44:10Z"))
    assert event is not None
    assert event.timestamp_ms == NOW_MS + 50_000


def test_a_good_line_becomes_the_event_with_its_overrides() -> None:
    text = line(
        name="outbound_click",
        link="https://other.test/a",
        referrer="https://www.google.com/",
        country="US",
        region="US-CA",
        city="Oakland",
        device="tablet",
        browser="Firefox",
        os="Linux",
        timestamp="2026-04-01T14:00:00+02:00",
    )
    event = LineReader(SITE, NOW_MS).event(text)
    assert event is not None
    assert (event.kind, event.page, event.link, event.referrer, event.channel) == (
        "outbound_click",
        "/pricing",
        "https://other.test/a",
        "google.com",
        "Organic Search",
    )
    assert (event.country, event.region, event.city, event.device, event.browser, event.os) == (
        "US",
        "US-CA",
        "Oakland",
        "tablet",
        "Firefox",
        "Linux",
    )
    assert event.timestamp_ms == 1_775_044_800_000  # 12:00 UTC
    assert len(event.visitor_id) == 16


def test_blank_optional_fields_are_absent_and_hash_mode_keeps_the_fragment() -> None:
    event = LineReader(SITE, NOW_MS).event(line(url="https://example.com/#/settings", hash_mode=True, country=""))
    assert event is not None
    assert (event.page, event.country) == ("/#/settings", None)


def test_a_bot_user_agent_is_skipped_not_bad() -> None:
    text = line(visitor_id="v1", user_agent="Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert LineReader(SITE, NOW_MS).event(text) is None


def test_every_bad_line_is_named_with_its_number_and_blank_lines_count() -> None:
    lines = [line(), "", "{oops", line(), line(device="phone")]
    with pytest.raises(ImportRejected) as rejected:
        read_lines(LineReader(SITE, NOW_MS), lines)
    assert rejected.value.bad_lines == [
        BadLine(3, "not valid JSON (Expecting property name enclosed in double quotes)"),
        BadLine(5, "device: must be one of desktop, mobile, tablet"),
    ]
    assert (rejected.value.total_bad, rejected.value.message) == (2, "2 bad line(s); nothing was written")


def test_good_lines_give_events_keys_the_line_count_and_bots() -> None:
    bot = line(user_agent="Mozilla/5.0 (compatible; Googlebot/2.1)")
    events, keys, count, bots = read_lines(LineReader(SITE, NOW_MS), [line(), "", bot, line(visitor_id="v2")])
    assert (len(events), len(keys), count, bots) == (2, 2, 4, 1)
    # the same text on another line number is another stored event, with the same history digest
    again, again_keys, _, _ = read_lines(LineReader(SITE, NOW_MS), ["", line()])
    assert again_keys[0].nonce != keys[0].nonce
    assert again_keys[0].digest == keys[0].digest
    assert again[0] == events[0]


def test_any_name_props_and_engagement_figures_become_events_of_their_kind() -> None:
    reader = LineReader(SITE, NOW_MS)

    signup = reader.event(line(name="Signup", props={"plan": "pro", "seats": 3, "gone": None}, interactive=False))
    pageview = reader.event(line(props={"author": "ann"}))
    engagement = reader.event(line(name="engagement", engaged_ms=42_000, scroll_depth=87))
    click = reader.event(line(name="Outbound Link: Click", link="https://o.test/x?t=1"))
    legacy_click = reader.event(line(name="outbound_click", link="https://o.test/x"))

    assert signup is not None
    assert pageview is not None
    assert engagement is not None
    assert (signup.kind, signup.name, signup.props, signup.interactive) == (
        "custom", "Signup", '{"plan":"pro","seats":"3"}', False,
    )  # fmt: skip
    assert (pageview.kind, pageview.name, pageview.props) == ("pageview", None, '{"author":"ann"}')
    assert (engagement.kind, engagement.engaged_ms, engagement.scroll_depth) == ("engagement", 42_000, 87)
    assert click is not None
    assert legacy_click is not None
    assert (click.kind, click.link) == (legacy_click.kind, legacy_click.link) == ("outbound_click", "https://o.test/x")
