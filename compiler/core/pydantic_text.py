"""Charter's words for pydantic's errors, built from each error's type and context, never its message.

pydantic's messages are English for Python programmers ("a valid dictionary") and may be reworded in any
release; an error's `type` and `ctx` are its structured, documented part (pydantic's "Validation Errors"
reference). So the code (`compiler.core.error_codes`), the message and the hint are all chosen from those.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

# What a type error expected, in YAML's words: mapping and list, not dictionary and tuple.
_EXPECTED = {
    **dict.fromkeys(("string_type", "string_unicode"), "a valid string"),
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "a valid integer"),
    **dict.fromkeys(("float_type", "float_parsing", "decimal_type", "decimal_parsing"), "a valid number"),
    **dict.fromkeys(("bool_type", "bool_parsing"), "a valid boolean"),
    **dict.fromkeys(("list_type", "tuple_type", "set_type", "frozen_set_type", "iterable_type"), "a valid list"),
    **dict.fromkeys(
        ("dict_type", "mapping_type", "model_type", "model_attributes_type", "dataclass_type"), "a mapping"
    ),
    "none_required": "null",
    "date_type": "a valid date",
    "datetime_type": "a valid date and time",
}
STRING_TYPES = frozenset({"string_type", "string_unicode"})
BOOLEAN_TYPES = frozenset({"bool_type", "bool_parsing"})
NUMBER_TYPES = frozenset(
    {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "decimal_type", "decimal_parsing"}
)


def expected(error_type: str) -> str:
    """`a valid string` for the type error `string_type`; every CH202 type has a phrase or a neutral one."""
    return _EXPECTED.get(error_type, "a value of another type")


def _plural(count: Any, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _reason(ctx: dict[str, Any]) -> str:
    """The parser's reason (`day value is outside expected range`), shown as it is, never interpreted."""
    return f", {ctx['error']}" if isinstance(ctx.get("error"), str) else ""


_REQUIREMENTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "greater_than": lambda ctx: f"must be greater than {ctx['gt']}",
    "greater_than_equal": lambda ctx: f"must be greater than or equal to {ctx['ge']}",
    "less_than": lambda ctx: f"must be less than {ctx['lt']}",
    "less_than_equal": lambda ctx: f"must be less than or equal to {ctx['le']}",
    "multiple_of": lambda ctx: f"must be a multiple of {ctx['multiple_of']}",
    "finite_number": lambda ctx: "must be a finite number",
    "string_too_short": lambda ctx: f"must have at least {_plural(ctx['min_length'], 'character')}",
    "string_too_long": lambda ctx: f"must have at most {_plural(ctx['max_length'], 'character')}",
    "string_pattern_mismatch": lambda ctx: f"must match the pattern `{ctx['pattern']}`",
    "too_short": lambda ctx: f"must have at least {_plural(ctx['min_length'], 'item')}",
    "too_long": lambda ctx: f"must have at most {_plural(ctx['max_length'], 'item')}",
    "date_parsing": lambda ctx: "must be a date (YYYY-MM-DD)" + _reason(ctx),
    "date_from_datetime_parsing": lambda ctx: "must be a date (YYYY-MM-DD)" + _reason(ctx),
    "date_from_datetime_inexact": lambda ctx: "must be a date without a time",
    "datetime_parsing": lambda ctx: "must be a date and time (ISO 8601)" + _reason(ctx),
    "url_parsing": lambda ctx: "must be a URL",
    "url_scheme": lambda ctx: f"must be a URL with the scheme {ctx['expected_schemes']}",
}


def requirement(detail: dict[str, Any]) -> str | None:
    """What the value must be (`must be greater than 0`), or the model's own words for a rule of its own.

    None for an error type with no structured phrase; the caller then says only that the value is invalid.
    """
    ctx = detail.get("ctx") or {}
    error_type = detail["type"]
    if error_type in ("value_error", "assertion_error") and ctx.get("error") is not None:
        return str(ctx["error"])  # raised by Charter's own validators: Charter's own words
    phrase = _REQUIREMENTS.get(error_type)
    if phrase is None:
        return None
    try:
        return phrase(ctx)
    except KeyError:
        return None


def choices(annotation: Any) -> list[str]:
    """The values a `Literal[...]` or Enum field allows, from the model itself."""
    if typing.get_origin(annotation) is typing.Literal:
        return [str(choice) for choice in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []
