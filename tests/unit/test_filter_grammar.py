"""The `filters=` grammar (aizen.query.filter_grammar): every form, every refusal and its position."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aizen.query.filter_grammar import CONDITION_PROPERTIES, FILTERS_PATTERN, parse_filters, public_name
from aizen.vocabulary import Condition


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visit:country==US", (Condition("country", False, ("US",)),)),
        ("visit:browser!=Safari", (Condition("browser", True, ("Safari",)),)),
        ("visit:country==US|DE", (Condition("country", False, ("US", "DE")),)),
        ("visit:browser!=Chrome|Safari", (Condition("browser", True, ("Chrome", "Safari")),)),
        ("event:page==/blog/**", (Condition("page", False, ("/blog/**",)),)),
        ("event:page==/blog/*|/docs/**", (Condition("page", False, ("/blog/*", "/docs/**")),)),
        ("visit:referrer==(none)", (Condition("referrer", False, ("(none)",)),)),
        ("visit:source==github.com", (Condition("referrer", False, ("github.com",)),)),
        (
            "visit:country==US|DE;event:page==/blog/**;visit:browser!=Safari",
            (
                Condition("country", False, ("US", "DE")),
                Condition("page", False, ("/blog/**",)),
                Condition("browser", True, ("Safari",)),
            ),
        ),
        # A property may appear twice: both conditions hold
        (
            "event:page==/blog/**;event:page!=/blog/drafts/**",
            (Condition("page", False, ("/blog/**",)), Condition("page", True, ("/blog/drafts/**",))),
        ),
        # Escapes: \| and \; are literal, \\ is one backslash
        (r"event:page==/a\|b|/c", (Condition("page", False, ("/a|b", "/c")),)),
        (r"event:page==/x\;y;visit:os==iOS", (Condition("page", False, ("/x;y",)), Condition("os", False, ("iOS",)))),
        (r"event:page==/a\\|/b", (Condition("page", False, ("/a\\", "/b")),)),
        # = and ! inside a value are plain characters; so are spaces
        ("event:page==/a==b!=c", (Condition("page", False, ("/a==b!=c",)),)),
        ("event:goal==Visit /register", (Condition("goal", False, ("Visit /register",)),)),
        ("event:props:plan==pro|team", (Condition("props", False, ("pro", "team"), "plan"),)),
        ("event:props:a:b!=x", (Condition("props", True, ("x",), "a:b"),)),
        # Goals and custom properties take every operator: != with several values, wildcards, (none), escapes
        (
            r"event:goal!=Sign*|Visit /blog/**;event:goal==Outbound Link: Click\|x",
            (
                Condition("goal", True, ("Sign*", "Visit /blog/**")),
                Condition("goal", False, ("Outbound Link: Click|x",)),
            ),
        ),
        (
            r"event:props:plan!=pro|(none)|a\;b*;event:props:url==**.pdf",
            (
                Condition("props", True, ("pro", "(none)", "a;b*"), "plan"),
                Condition("props", False, ("**.pdf",), "url"),
            ),
        ),
    ],
)
def test_parses(text: str, expected: tuple[Condition, ...]) -> None:
    assert parse_filters(text) == expected


@pytest.mark.parametrize("name", list(CONDITION_PROPERTIES))
def test_every_property_parses(name: str) -> None:
    (condition,) = parse_filters(f"{name}==x")
    assert condition.property == CONDITION_PROPERTIES[name]
    assert public_name(condition) == ("visit:referrer" if name == "visit:source" else name)


def test_public_name_of_a_custom_property() -> None:
    assert public_name(Condition("props", False, ("x",), "plan")) == "event:props:plan"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a property (event:page, event:goal, event:props:<key>, visit:entry_page, visit:exit_page, "
         "visit:referrer, visit:source, visit:channel, visit:country, visit:region, visit:city, visit:device, "
         "visit:browser, visit:os) at position 1, found the end"),
        ("==US", "expected a property (event:page, event:goal, event:props:<key>, visit:entry_page, "),
        ("visit:country==US;", "expected a property (event:page, event:goal, event:props:<key>, "),
        ("visit:country==US;;visit:os==iOS", "at position 19, found ';'"),
        ("visit:utm_source==x", "unknown property visit:utm_source at position 1; expected one of event:page, "
         "event:goal, event:props:<key>, visit:entry_page"),
        ("visit:country==US; visit:os==iOS", "unknown property  visit:os at position 19"),
        ("country==US", "unknown property country at position 1"),
        ("visit:country", "expected == or != after visit:country at position 14, found the end"),
        ("visit:country=US", "expected == or != after visit:country at position 14, found '='"),
        ("visit:country!US", "expected == or != after visit:country at position 14, found '!'"),
        ("visit:country|US", "expected == or != after visit:country at position 14, found '|'"),
        ("visit:country==", "expected a value at position 16, found the end"),
        ("visit:country==;visit:os==iOS", "expected a value at position 16, found ';'"),
        ("visit:country==US|", "expected a value at position 19, found the end"),
        ("visit:country==US||DE", "expected a value at position 19, found '|'"),
        ("visit:country==|US", "expected a value at position 16, found '|'"),
        ("event:props:==x", "expected a custom property's key after event:props: at position 13"),
        (r"event:page==/a\b", r"expected |, ; or \ after the \ at position 15 (a \ escapes one of them), found 'b'"),
        ("event:page==/a\\", r"expected |, ; or \ after the \ at position 15 (a \ escapes one of them), found the end"),
    ],
)  # fmt: skip
def test_refusals_name_the_position_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_filters(text)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(st.from_regex(FILTERS_PATTERN, fullmatch=True))
def test_every_string_of_the_documented_pattern_parses(text: str) -> None:
    assert parse_filters(text)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(["visit:country", "event:page", "event:props:", "==", "!=", "=", "|", ";", "\\", "x"])))
def test_the_documented_pattern_accepts_exactly_what_parses(parts: list[str]) -> None:
    text = "".join(parts)
    try:
        parse_filters(text)
    except ValueError:
        parses = False
    else:
        parses = True
    assert (re.fullmatch(FILTERS_PATTERN, text) is not None) == parses, text
