"""How the eval gate words a value against its bounds, in its checks and its summary."""

from __future__ import annotations

from typing import Any

from compiler.reporters.gate import show


def against(value: float | None, low: float | None, high: float | None) -> tuple[Any, str]:
    if value is None:
        return "no-verdict", "undefined on this data"
    if low is not None and value < low:
        return "fail", f"below the minimum {show(low)}"
    if high is not None and value > high:
        return "fail", f"above the maximum {show(high)}"
    return "pass", ""


def bounds_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{show(low)} ≤ x ≤ {show(high)}"
    return f"≥ {show(low)}" if low is not None else f"≤ {show(high)}"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
