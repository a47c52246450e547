"""Operating systems and browsers by the names people know, from one table.

ua-parser reports the families of uap-core's rules: legacy names ("Mac OS X", which Apple
renamed in 2016) and builds qualified by platform ("Chrome Mobile iOS", "Mobile Safari").
Aizen stores and reports the name the maker uses today ("macOS") and the browser's family
("Chrome", "Safari"): the device property already says mobile or tablet. `RENAMES` is the
only list of those renames; docs/ingestion.md shows the same table (a test keeps them
equal). Names not in it are kept as they are.

The functions run where a name enters (ingestion, `aizen import`) and again where stored
events and rollup rows are read (`aizen.store`), so data written under an older name is
found and counted under the new one ("normalise on read", docs/ingestion.md).
"""

from collections.abc import Iterable
from typing import Any, Final, Literal

# (property, name as ua-parser or an earlier Aizen reported it, name reported now)
RENAMES: Final[tuple[tuple[Literal["os", "browser"], str, str], ...]] = (
    ("os", "Mac OS X", "macOS"),
    ("os", "Chrome OS", "ChromeOS"),
    ("os", "WatchOS", "watchOS"),
    ("os", "ATV OS X", "tvOS"),
    ("os", "Web0S", "webOS"),
    ("os", "Symbian OS", "Symbian"),
    ("os", "Symbian^3", "Symbian"),
    ("os", "Symbian^3 Anna", "Symbian"),
    ("os", "Symbian^3 Belle", "Symbian"),
    ("browser", "Mobile Safari", "Safari"),
    ("browser", "Mobile Safari UI/WKWebView", "Safari"),
    ("browser", "Safari UI/WKWebView", "Safari"),
    ("browser", "Chrome Mobile", "Chrome"),
    ("browser", "Chrome Mobile iOS", "Chrome"),
    ("browser", "Chrome Mobile WebView", "Chrome"),
    ("browser", "Firefox Mobile", "Firefox"),
    ("browser", "Firefox iOS", "Firefox"),
    ("browser", "Firefox Beta", "Firefox"),
    ("browser", "Firefox Alpha", "Firefox"),
    ("browser", "Edge Mobile", "Edge"),
    ("browser", "IE", "Internet Explorer"),
    ("browser", "IE Mobile", "Internet Explorer"),
    ("browser", "IE Large Screen", "Internet Explorer"),
    ("browser", "Opera Mobile", "Opera"),
    ("browser", "DuckDuckGo Mobile", "DuckDuckGo"),
    ("browser", "Ecosia Android", "Ecosia"),
    ("browser", "Ecosia iOS", "Ecosia"),
    ("browser", "QQ Browser Mobile", "QQ Browser"),
)
_RENAMED: Final[dict[str, dict[str, str]]] = {
    prop: {old: new for kind, old, new in RENAMES if kind == prop} for prop in ("os", "browser")
}
_OS: Final = _RENAMED["os"]
_BROWSER: Final = _RENAMED["browser"]


def canonical_os(name: str) -> str:
    """The operating system's name as its maker uses it today ("Mac OS X" -> "macOS")."""
    return _OS.get(name, name)


def canonical_browser(name: str) -> str:
    """The browser's family, without a platform qualifier ("Chrome Mobile iOS" -> "Chrome")."""
    return _BROWSER.get(name, name)


def canonical_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A stored event's fields with `os` and `browser` under today's names (changed in place)."""
    if (os := fields.get("os")) is not None:
        fields["os"] = _OS.get(os, os)
    if (browser := fields.get("browser")) is not None:
        fields["browser"] = _BROWSER.get(browser, browser)
    return fields


def canonical_rows(prop: str, rows: Iterable[list[Any]]) -> list[list[Any]]:
    """A rollup table's rows ([value, metric, ...]) under today's names, rows of one name merged.

    Only the `os` and `browser` tables have renamed values; two stored rows whose names
    became one ("Mac OS X" and "macOS") are one row with their metrics added, in the
    position of the first. Other tables come back as they are.
    """
    renamed = _RENAMED.get(prop)
    if renamed is None:
        return rows if isinstance(rows, list) else list(rows)
    merged: dict[Any, list[Any]] = {}
    for value, *metrics in rows:
        name = renamed.get(value, value)
        row = merged.get(name)
        if row is None:
            merged[name] = [name, *metrics]
        else:
            for index, metric in enumerate(metrics, start=1):
                row[index] += metric
    return list(merged.values())
