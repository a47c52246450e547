"""Wildcard patterns shared by goals (page goals) and filters: `*` is any characters except
`/`, `**` is any characters; everything else matches itself, case-sensitively."""

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def wildcard(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; use `.fullmatch(value)`: a pattern matches whole values only."""
    parts = re.split(r"(\*\*|\*)", pattern)
    regex = "".join(".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part) for part in parts)
    return re.compile(regex, re.DOTALL)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern
