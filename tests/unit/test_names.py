"""OS and browser names: one table in the code, the same table in docs/ingestion.md."""

import re

import pytest
from ua_parser_builtins.lazy import MATCHERS

from aizen.names import RENAMES, canonical_browser, canonical_fields, canonical_os, canonical_rows
from aizen_local.template import PROJECT_ROOT

_DOC_ROW = re.compile(r"^\| (os|browser) \| `([^`]+)` \| `([^`]+)` \|$")


def _doc_table() -> list[tuple[str, str, str]]:
    """The rows of the names table in docs/ingestion.md, in order."""
    text = (PROJECT_ROOT / "docs" / "ingestion.md").read_text()
    return [match.groups() for line in text.splitlines() if (match := _DOC_ROW.match(line))]  # type: ignore[misc]


def test_the_documented_table_is_the_code_table() -> None:
    assert _doc_table() == list(RENAMES)


def test_each_name_is_renamed_once_and_a_new_name_is_never_renamed_again() -> None:
    olds = [(prop, old) for prop, old, _ in RENAMES]
    assert len(olds) == len(set(olds))
    assert all(canonical_os(new) == new for prop, _, new in RENAMES if prop == "os")
    assert all(canonical_browser(new) == new for prop, _, new in RENAMES if prop == "browser")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Mac OS X", "macOS"), ("Chrome OS", "ChromeOS"), ("Windows", "Windows"), ("Ubuntu", "Ubuntu"), ("iOS", "iOS")],
)
def test_operating_systems(name: str, expected: str) -> None:
    assert canonical_os(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mobile Safari", "Safari"),
        ("Chrome Mobile iOS", "Chrome"),
        ("Firefox iOS", "Firefox"),
        ("IE", "Internet Explorer"),
        ("Samsung Internet", "Samsung Internet"),
        ("Opera Mini", "Opera Mini"),
    ],
)
def test_browsers(name: str, expected: str) -> None:
    assert canonical_browser(name) == expected


def _stored_before(family: str) -> str:
    """The browser name ingestion stored before this table: ua-parser's family without a mobile qualifier."""
    family = family.removeprefix("Mobile ")
    for suffix in (" Mobile WebView", " Mobile iOS", " Mobile", " iOS", " WebView"):
        if family.endswith(suffix) and len(family) > len(suffix):
            return family[: -len(suffix)]
    return family


UAP_BROWSERS = sorted({matcher.family for matcher in MATCHERS[0] if "$" not in matcher.family})


def test_every_qualified_uap_core_browser_family_is_named_by_its_family() -> None:
    qualified = [family for family in UAP_BROWSERS if _stored_before(family) != family]

    assert qualified  # "Mobile Safari", "Chrome Mobile iOS", ...
    assert [family for family in qualified if canonical_browser(family) == family] == []


def test_browser_names_stored_before_answer_under_the_name_ingestion_stores_now() -> None:
    assert [f for f in UAP_BROWSERS if canonical_browser(_stored_before(f)) != canonical_browser(f)] == []


def test_stored_fields_are_renamed_and_absent_ones_stay_absent() -> None:
    assert canonical_fields({"os": "Mac OS X", "browser": "Chrome Mobile", "country": "DE"}) == {
        "os": "macOS",
        "browser": "Chrome",
        "country": "DE",
    }
    assert canonical_fields({"device": "desktop"}) == {"device": "desktop"}


def test_rollup_rows_of_one_name_are_merged_in_the_place_of_the_first() -> None:
    rows = [["Windows", 4, 5], ["Mac OS X", 3, 5], ["Linux", 1, 1], ["macOS", 2, 4]]

    assert canonical_rows("os", rows) == [["Windows", 4, 5], ["macOS", 5, 9], ["Linux", 1, 1]]
    assert canonical_rows("browser", [["Mobile Safari", 1, 2], ["Safari", 4, 7]]) == [["Safari", 5, 9]]
    assert canonical_rows("page", [["/Mac OS X", 1, 1]]) == [["/Mac OS X", 1, 1]]
