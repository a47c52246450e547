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


def test_over_8_kib_is_too_large() -> None:
    raw = body(n="pageview", u="https://a.test/" + "x" * 9000, d="a.test")
    with pytest.raises(PayloadTooLarge) as caught:
        wire.parse(raw)
    assert caught.value.status == 413
