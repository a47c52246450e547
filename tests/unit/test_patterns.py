import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aizen.goals import Goal
from aizen.patterns import has_wildcard, wildcard
from tests.stats_reference import wildcard_match


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("/blog", "/blog", True),
        ("/blog", "/blog/", False),
        ("/blog/*", "/blog/post", True),
        ("/blog/*", "/blog/2024/post", False),
        ("/blog/**", "/blog/2024/post", True),
        ("/blog/**", "/blog/", True),
        ("/*/edit", "/post/edit", True),
        ("/*/edit", "/a/b/edit", False),
        ("/a.b", "/aXb", False),
        ("/price?", "/price?", True),
        ("**", "", True),
        ("/Blog", "/blog", False),
    ],
)
def test_wildcards_match_whole_values(pattern: str, value: str, matches: bool) -> None:
    assert (wildcard(pattern).fullmatch(value) is not None) is matches


def test_has_wildcard() -> None:
    assert has_wildcard("/a/*")
    assert not has_wildcard("/a")


def test_a_page_goal_matches_its_pattern_and_an_event_goal_no_page() -> None:
    assert Goal("g1", "Visit /blog/**", page_pattern="/blog/**").matches_page("/blog/x/y")
    assert not Goal("g2", "Signup", event_name="Signup").matches_page("/blog")


@settings(max_examples=500, derandomize=True, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "/", "*", "**", "ab", "a/"]), max_size=8).map("".join),
    st.lists(st.sampled_from(["a", "b", "/", "*"]), max_size=10).map("".join),
)
def test_wildcards_match_as_trying_every_split_does(pattern: str, value: str) -> None:
    assert (wildcard(pattern).fullmatch(value) is not None) is wildcard_match(pattern, value)


def test_many_wildcards_do_not_backtrack_catastrophically() -> None:
    # A plain translation (.*a.*a.*a.*a.*b) takes minutes here; each commit keeps it to one pass
    value = "/" + "a" * 2000
    assert wildcard("**a**a**a**a**b").fullmatch(value) is None
    assert wildcard("*a*a*a*a*b").fullmatch(value) is None
    assert wildcard("**a*a*a*a**b").fullmatch(value) is None
    assert wildcard("**a**a**a**a**").fullmatch(value) is not None
