"""Wildcard patterns shared by goals (page goals) and filters: `*` is any characters except
`/`, `**` is any characters; everything else matches itself, case-sensitively.

The regex never backtracks more than once over a value: a plain translation (`.*a.*a.*b`)
takes seconds to minutes on a long value for a pattern like `**a**a**a**b`, and filter
patterns come from API requests. So each wildcard and the literal after it match as early
as possible and commit (an atomic group) wherever a later wildcard can take up what an
earlier match skipped: before `**` always, before `*` when the text skipped holds no `/`
(it cannot, after a `*`; after a `**`, the commit covers everything up to the next `**`).
Only the last wildcard before the end and the last `**` stay free to backtrack: O(n²) at
worst for a value of n characters.
"""

import re
from functools import lru_cache

_GAP = {"*": "[^/]*?", "**": ".*?"}


def _tokens(pattern: str) -> tuple[list[str], list[str]]:
    """(literals, wildcards): literals[0] wildcards[0] literals[1] … literals[-1], each run of
    wildcards as one (`**` if it holds one, else `*`)."""
    literals, wildcards = [""], []
    for part in re.split(r"(\*+)", pattern):
        if part.startswith("*"):
            wildcards.append("**" if "**" in part else "*")
            literals.append("")
        else:
            literals[-1] += part
    return literals, wildcards


@lru_cache(maxsize=1024)
def wildcard(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; use `.fullmatch(value)`: a pattern matches whole values only."""
    literals, wildcards = _tokens(pattern)
    last = len(wildcards) - 1
    regex = [re.escape(literals[0])]
    index = 0
    while index <= last:
        gap, literal = _GAP[wildcards[index]], re.escape(literals[index + 1])
        if index == last:
            regex.append(gap + literal)
            index += 1
        elif wildcards[index] == "*":
            regex.append(f"(?>{gap}{literal})")
            index += 1
        else:
            following = next((after for after in range(index + 1, last + 1) if wildcards[after] == "**"), None)
            group = [gap + literal]
            index += 1
            while index <= last and index != following:
                if index == last:
                    group.append(_GAP["*"] + re.escape(literals[index + 1]))
                else:
                    group.append(f"(?>{_GAP['*']}{re.escape(literals[index + 1])})")
                index += 1
            regex.append(f"(?>{''.join(group)})" if following is not None else "".join(group))
    return re.compile("".join(regex), re.DOTALL)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern
