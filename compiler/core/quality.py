"""An ODCS quality rule's threshold (`mustBe`, `mustBeLessThan`, `mustBeBetween`...): how the data gate judges a
count, and how `charter check` judges a committed record's count again (compiler/stages/evidence/verify.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from compiler.core.contracts import QUALITY_OPERATORS as OPERATORS

_WARNING_SEVERITIES = ("warning", "warn", "info", "minor", "low")


def rule_is_warning(rule: dict[str, Any]) -> bool:
    """A rule whose `severity` asks for a warning when it does not hold."""
    severity = rule.get("severity")
    return isinstance(severity, str) and severity.lower() in _WARNING_SEVERITIES


@dataclass(frozen=True)
class Threshold:
    operator: str
    bound: Any

    def holds(self, value: float) -> bool:
        bound = self.bound
        if self.operator in ("mustBeBetween", "mustNotBeBetween"):
            low, high = float(bound[0]), float(bound[1])
            inside = low <= value <= high
            return inside if self.operator == "mustBeBetween" else not inside
        target = float(bound)
        return {
            "mustBe": math.isclose(value, target, rel_tol=0, abs_tol=1e-12),
            "mustNotBe": not math.isclose(value, target, rel_tol=0, abs_tol=1e-12),
            "mustBeGreaterThan": value > target,
            "mustBeGreaterOrEqualTo": value >= target,
            "mustBeLessThan": value < target,
            "mustBeLessOrEqualTo": value <= target,
        }[self.operator]

    def text(self, unit: str = "") -> str:
        if self.operator in ("mustBeBetween", "mustNotBeBetween"):
            low, high = self.bound
            word = "between" if self.operator == "mustBeBetween" else "not between"
            return f"{word} {_num(low)}{unit} and {_num(high)}{unit}"
        symbol = {
            "mustBe": "=",
            "mustNotBe": "≠",
            "mustBeGreaterThan": ">",
            "mustBeGreaterOrEqualTo": "≥",
            "mustBeLessThan": "<",
            "mustBeLessOrEqualTo": "≤",
        }[self.operator]
        return f"{symbol} {_num(self.bound)}{unit}"


def threshold(rule: dict[str, Any]) -> Threshold | str:
    """The rule's one operator, or why there is none usable."""
    present = [op for op in OPERATORS if op in rule]
    if not present:
        return "no operator (mustBe, mustBeLessThan, mustBeBetween...)"
    if len(present) > 1:
        return f"several operators ({', '.join(present)}); ODCS allows one"
    op = present[0]
    bound = rule[op]
    if op in ("mustBeBetween", "mustNotBeBetween"):
        if not (isinstance(bound, list) and len(bound) == 2 and all(_is_number(b) for b in bound)):
            return f"`{op}` needs two numbers"
        return Threshold(op, (min(bound), max(bound)))
    if not _is_number(bound):
        return f"`{op}` needs a number, not {bound!r}"
    return Threshold(op, bound)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
