"""The `filters=` parameter's grammar (Plausible Stats API v1's), parsed into `Condition`s. Pure.

    filters   = condition *( ";" condition )
    condition = property ( "==" / "!=" ) value *( "|" value )
    property  = "event:page" / "event:goal" / "event:props:" key / "visit:" name
    value     = 1*( character other than | ; \\  /  "\\|" / "\\;" / "\\\\" )

`*` and `**` in a value are wildcards (aizen.patterns); `(none)` is a missing value. Every
problem is a ValueError naming the position (1 = the first character) and what was expected;
the parameter tables turn it into `400 invalid_request` (docs/stats.md, Filters).
"""

from aizen.vocabulary import Condition

# Public name -> the engine's name of the property (visit:source is Aizen's referrer too).
CONDITION_PROPERTIES: dict[str, str] = {
    "event:page": "page",
    "event:goal": "goal",
    "visit:entry_page": "entry_page",
    "visit:exit_page": "exit_page",
    "visit:referrer": "referrer",
    "visit:source": "referrer",
    "visit:channel": "channel",
    "visit:country": "country",
    "visit:region": "region",
    "visit:city": "city",
    "visit:device": "device",
    "visit:browser": "browser",
    "visit:os": "os",
}
PROPS_PREFIX = "event:props:"
OPERATORS = ("==", "!=")
_ESCAPED = ("|", ";", "\\")
_PROPERTY_END = "=!;|\\"
# The grammar as a JSON-schema (ECMA) pattern, for docs/openapi.json and its property tests.
_PROPERTY_PATTERN = (
    r"(event:page|event:goal|event:props:[^=!;|\\]+|visit:("
    + "|".join(name.removeprefix("visit:") for name in CONDITION_PROPERTIES if name.startswith("visit:"))
    + "))"
)
_VALUE_PATTERN = r"([^|;\\]|\\[|;\\])+"
_CONDITION_PATTERN = rf"{_PROPERTY_PATTERN}(==|!=){_VALUE_PATTERN}(\|{_VALUE_PATTERN})*"
FILTERS_PATTERN = rf"^{_CONDITION_PATTERN}(;{_CONDITION_PATTERN})*$"
_LISTED = ", ".join([*list(CONDITION_PROPERTIES)[:2], f"{PROPS_PREFIX}<key>", *list(CONDITION_PROPERTIES)[2:]])


def public_name(condition: Condition) -> str:
    """The property as a filter string names it (visit:source reads back as visit:referrer)."""
    if condition.property == "props":
        return f"{PROPS_PREFIX}{condition.key}"
    prefix = "event" if condition.property in ("page", "goal") else "visit"
    return f"{prefix}:{condition.property}"


def parse_filters(text: str) -> tuple[Condition, ...]:
    """`visit:country==US|DE;event:page!=/blog/**` -> its conditions, in order."""
    conditions: list[Condition] = []
    position = 0
    while True:
        condition, position = _condition(text, position)
        conditions.append(condition)
        if position == len(text):
            return tuple(conditions)
        position += 1  # past the ";" that ended the condition


def _found(text: str, position: int) -> str:
    return "the end" if position >= len(text) else repr(text[position])


def _condition(text: str, start: int) -> tuple[Condition, int]:
    end = start
    while end < len(text) and text[end] not in _PROPERTY_END:
        end += 1
    name = text[start:end]
    if not name:
        raise ValueError(f"expected a property ({_LISTED}) at position {start + 1}, found {_found(text, start)}")
    key: str | None = None
    if name.startswith(PROPS_PREFIX):
        key = name[len(PROPS_PREFIX) :]
        if not key:
            raise ValueError(f"expected a custom property's key after {PROPS_PREFIX} at position {end + 1}")
        prop = "props"
    elif name in CONDITION_PROPERTIES:
        prop = CONDITION_PROPERTIES[name]
    else:
        raise ValueError(f"unknown property {name} at position {start + 1}; expected one of {_LISTED}")
    operator = text[end : end + 2]
    if operator not in OPERATORS:
        raise ValueError(f"expected == or != after {name} at position {end + 1}, found {_found(text, end)}")
    patterns, position = _values(text, end + 2)
    return Condition(prop, operator == "!=", patterns, key), position


def _values(text: str, position: int) -> tuple[tuple[str, ...], int]:
    """The `|`-separated values from `position` to the condition's end (a `;` or the end)."""
    values: list[str] = []
    current: list[str] = []
    while True:
        if position == len(text) or text[position] in "|;":
            if not current:
                raise ValueError(f"expected a value at position {position + 1}, found {_found(text, position)}")
            values.append("".join(current))
            if position < len(text) and text[position] == "|":
                current = []
                position += 1
                continue
            return tuple(values), position
        character = text[position]
        if character == "\\":
            escaped = text[position + 1 : position + 2]
            if escaped not in _ESCAPED:
                raise ValueError(
                    f"expected |, ; or \\ after the \\ at position {position + 1} (a \\ escapes one of them), "
                    f"found {_found(text, position + 1)}"
                )
            current.append(escaped)
            position += 2
            continue
        current.append(character)
        position += 1
