"""Plausible's wire format: field names, bodies, and errors that name the field."""

import json

import pytest

from aizen.errors import InvalidRequest, PayloadTooLarge
from aizen.ingest import wire


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_short_and_long_names_mean_the_same() -> None:
    short = wire.parse(body(n="pageview", u="https://a.test/x", d="a.test", r="https://b.test/", p={"k": "v"}, h=1))
    long = wire.parse(
        body(
            name="pageview", url="https://a.test/x", domain="a.test", referrer="https://b.test/", props={"k": "v"}, h=1
        )
    )
    assert short == long
    assert short.hash_mode
    assert short.props == {"k": "v"}


def test_comma_separated_domains_are_normalized() -> None:
    event = wire.parse(body(n="pageview", u="https://a.test/", d="www.A.test, b.test,a.test"))
    assert event.domains == ("a.test", "b.test")


def test_up_to_ten_domains_are_accepted() -> None:
    event = wire.parse(body(n="pageview", u="https://a.test/", d=",".join(f"s{n}.test" for n in range(10))))
    assert len(event.domains) == wire.MAX_DOMAINS == 10


def test_props_as_json_string_and_extra_tracker_fields() -> None:
    event = wire.parse(body(n="x", u="https://a.test/", d="a.test", p='{"url": "https://o.test/"}', w=1440, v=25))
    assert event.props == {"url": "https://o.test/"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (body(u="https://a.test/", d="a.test"), "name (n)"),
        (body(n="pageview", d="a.test"), "url (u)"),
        (body(n="pageview", u="https://a.test/"), "domain (d)"),
        (body(n=5, u="https://a.test/", d="a.test"), "name (n)"),
        (body(n="pageview", u="https://a.test/", d="a.test", p=[1]), "props (p)"),
        (body(n="pageview", u="https://a.test/", d="a.test", h="yes"), "h"),
        (body(n="pageview", u="https://a.test/", d=" , "), "domain (d)"),
        (body(n="pageview", u="https://a.test/", d="a.test,exa mple.test"), "domain (d)"),
        (body(n="pageview", u="https://a.test/", d="a" * 2100 + ".test"), "domain (d)"),
        (body(n="pageview", u="https://a.test/", d=",".join(f"s{n}.test" for n in range(11))), "domain (d)"),
    ],
)
def test_malformed_bodies_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        wire.parse(raw)
    assert caught.value.message.startswith(field)


def test_over_128_kib_is_too_large() -> None:
    raw = body(n="pageview", u="https://a.test/" + "x" * 132_000, d="a.test")
    with pytest.raises(PayloadTooLarge) as caught:
        wire.parse(raw)
    assert caught.value.status == 413


def event(**fields: object) -> wire.TrackerEvent:
    return wire.parse(body(u="https://a.test/x", d="a.test", **fields))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("pageview", "pageview"),
        ("engagement", "engagement"),
        ("Outbound Link: Click", "outbound_click"),
        ("Signup", "custom"),
        ("File Download", "custom"),
        ("404", "custom"),
        ("Pageview", "custom"),  # names are case-sensitive, as Plausible's
    ],
)
def test_every_name_is_an_event_of_its_kind(name: str, kind: str) -> None:
    fields: dict[str, object] = {"n": name, "p": {"url": "https://o.test/"}}
    if kind == "engagement":
        fields |= {"e": 325, "sd": 100}
    assert event(**fields).kind == kind


def test_props_are_stored_as_sorted_json_with_string_values_from_objects_and_legacy_strings() -> None:
    sent = {"plan": "pro", "seats": 5, "ratio": 1.5, "trial": True, "none": None, "empty": "", "ü": "ß"}
    expected = '{"plan":"pro","ratio":"1.5","seats":"5","trial":"true","ü":"ß"}'
    assert event(n="Signup", p=sent).stored_props == expected
    assert event(n="Signup", p=json.dumps(sent)).stored_props == expected  # the legacy script's JSON string
    assert event(n="pageview", p={"author": "ann"}).stored_props == '{"author":"ann"}'  # pageviews carry props too
    assert event(n="Signup").stored_props is None
    assert event(n="Signup", p={"none": None}).stored_props is None
    # an outbound click's url is its link, not a prop
    assert event(n="Outbound Link: Click", p={"url": "https://o.test/", "x": "1"}).stored_props == '{"x":"1"}'


def test_limits_are_plausibles_and_the_limit_itself_is_accepted() -> None:
    props = {f"k{index:02d}" + "k" * 296: "v" * 2_000 for index in range(30)}
    accepted = event(n="N" * 120, p=props)
    assert accepted.name == "N" * 120
    assert len(json.loads(accepted.stored_props or "{}")) == 30


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n": "N" * 121}, "name (n): at most 120 characters; got 121"),
        ({"n": "Signup", "p": {f"k{index}": "v" for index in range(31)}}, "props (p): at most 30 properties; got 31"),
        ({"n": "Signup", "p": {"k" * 301: "v"}}, "props (p): property names have at most 300 characters"),
        ({"n": "Signup", "p": {"plan": "v" * 2001}}, "props (p).plan: at most 2000 characters; got 2001"),
        ({"n": "Signup", "p": json.dumps({"plan": "v" * 2001})}, "props (p).plan: at most 2000 characters"),
        ({"n": "Signup", "p": {"plan": {"tier": "pro"}}}, "props (p).plan: must be a string, number or boolean"),
        ({"n": "Signup", "p": {"tags": ["a"]}}, "props (p).tags: must be a string, number or boolean"),
        ({"n": "Signup", "p": {"": "v"}}, "props (p): a property name must not be empty"),
        ({"n": "Signup", "p": "[1]"}, "props (p): must be an object"),
        ({"n": "Signup", "i": "no"}, "i: must be true or false"),
        ({"n": "engagement", "sd": 10}, "e: required for engagement events"),
        ({"n": "engagement", "e": 10}, "sd: required for engagement events"),
        ({"n": "engagement", "e": -1, "sd": 10}, "e: must be a whole number of milliseconds, 0 or more"),
        ({"n": "engagement", "e": 1.5, "sd": 10}, "e: must be a whole number of milliseconds, 0 or more"),
        ({"n": "engagement", "e": True, "sd": 10}, "e: must be a whole number of milliseconds, 0 or more"),
        ({"n": "engagement", "e": 2**31, "sd": 10}, "e: at most 2147483647; got 2147483648"),
        ({"n": "engagement", "e": 10, "sd": -1}, "sd: must be a whole number of percent, 0 or more"),
        ({"n": "engagement", "e": 10, "sd": "50"}, "sd: must be a whole number of percent, 0 or more"),
    ],
)
def test_over_a_limit_is_refused_naming_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        event(**fields)
    assert caught.value.message.startswith(message)


def test_engagement_figures_and_interactive_flag() -> None:
    engagement = event(n="engagement", e=325, sd=100, h=1)
    assert (engagement.engaged_ms, engagement.scroll_depth, engagement.hash_mode) == (325, 100, True)
    assert event(n="engagement", e=0, sd=140).scroll_depth == 100  # a page that got shorter
    assert event(n="Signup", e=5, sd=5).engaged_ms is None  # figures belong to engagement only
    assert event(n="Signup").interactive
    assert not event(n="Signup", i=False).interactive
    assert not event(n="Signup", interactive=0).interactive
    assert event(n="Signup", i=True).interactive
