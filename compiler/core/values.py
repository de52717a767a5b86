"""What a finding says a value is ("expected a mapping, got the number `3`"): one describer for every check."""

from __future__ import annotations

from typing import Any


def describe_value(value: Any, shown: str, *, sequence: str = "a list", boolean: str = "the boolean ") -> str:
    """`value` in words; `shown` is its text as the finding quotes it (the YAML source when it is known).

    `sequence` and `boolean` keep the words each finding has always used, which scripts may match on: the
    spec findings (CH202) say "a list" and "the boolean `true`", the data contract findings (CH300) say
    "a sequence", as the ODCS schema does, and quote a boolean bare.
    """
    if isinstance(value, bool):
        return f"{boolean}`{shown}`"
    if isinstance(value, (int, float)):
        return f"the number `{shown}`"
    if isinstance(value, str):
        return f"the string `{value}`" if len(value) < 60 else "a string"
    if value is None:
        return "null"
    return sequence if isinstance(value, list) else "a mapping"
