"""An ODCS quality rule's threshold (`mustBe`, `mustBeLessThan`, `mustBeBetween`...): how the data gate judges a
count, and how `charter check` judges a committed record's count again (compiler/evidence/verify.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from compiler.core.contracts import QUALITY_OPERATORS as OPERATORS

_UNITS = {"rows": False, "row": False, "percent": True, "%": True, "pct": True}
_WARNING_SEVERITIES = ("warning", "warn", "info", "minor", "low")


def rule_kind(rule: dict[str, Any]) -> str:
    declared = rule.get("type")
    if isinstance(declared, str):
        return declared
    return "library" if ("metric" in rule or "rule" in rule) else "text"


def rule_metric(rule: dict[str, Any]) -> str | None:
    metric = rule.get("metric", rule.get("rule"))
    return metric if isinstance(metric, str) else None


def rule_is_warning(rule: dict[str, Any]) -> bool:
    severity = rule.get("severity")
    return isinstance(severity, str) and severity.lower() in _WARNING_SEVERITIES


@dataclass(frozen=True)
class Threshold:
    operator: str
    bound: Any
    percent: bool = False
    """`unit: percent`: the bound is a percentage of all rows, not a count of rows."""

    @property
    def boolean(self) -> bool:
        """`mustBe: true` (or false, or `mustNotBe`): ODCS lets a `sql` rule's query return a boolean."""
        return isinstance(self.bound, bool)

    def holds(self, value: float | bool) -> bool:
        bound = self.bound
        if self.boolean or isinstance(value, bool):
            same = isinstance(value, bool) and self.boolean and value is bound
            return same if self.operator == "mustBe" else not same
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
        if self.boolean:
            return f"{'=' if self.operator == 'mustBe' else '≠'} {str(self.bound).lower()}"
        symbol = {
            "mustBe": "=",
            "mustNotBe": "≠",
            "mustBeGreaterThan": ">",
            "mustBeGreaterOrEqualTo": "≥",
            "mustBeLessThan": "<",
            "mustBeLessOrEqualTo": "≤",
        }[self.operator]
        return f"{symbol} {_num(self.bound)}{unit}"


def threshold(rule: dict[str, Any], *, boolean: bool = False) -> Threshold | str:
    """The rule's one operator and unit, or why there is none usable.

    `boolean`: the rule's value may be a boolean (`sql` rules), compared with `mustBe` or `mustNotBe` only."""
    percent = _percent(rule)
    if isinstance(percent, str):
        return percent
    found = _operator(rule, boolean=boolean)
    return found if isinstance(found, str) else Threshold(found.operator, found.bound, percent)


def _percent(rule: dict[str, Any]) -> bool | str:
    """Whether the rule counts in percent of all rows; ODCS knows `rows` (the default) and `percent`."""
    unit = rule.get("unit", "rows")
    if not isinstance(unit, str) or unit.strip().lower() not in _UNITS:
        return f"`unit: {unit}` is neither `rows` nor `percent`"
    percent = _UNITS[unit.strip().lower()] and rule_kind(rule) != "sql"  # a query returns the number it means
    if percent and rule_metric(rule) == "rowCount":
        return "`rowCount` counts rows; `unit: percent` would be a percentage of itself"
    return percent


def _operator(rule: dict[str, Any], *, boolean: bool) -> Threshold | str:
    present = [op for op in OPERATORS if op in rule]
    if not present:
        return "no operator (mustBe, mustBeLessThan, mustBeBetween...)"
    if len(present) > 1:
        return f"several operators ({', '.join(present)}); ODCS allows one"
    op = present[0]
    bound = rule[op]
    if op in ("mustBeBetween", "mustNotBeBetween"):
        if not (isinstance(bound, list) and len(bound) == 2 and all(is_number(b) for b in bound)):
            return f"`{op}` needs two numbers"
        return Threshold(op, (min(bound), max(bound)))
    if isinstance(bound, bool) and boolean and op in ("mustBe", "mustNotBe"):
        return Threshold(op, bound)
    if not is_number(bound):
        if isinstance(bound, bool):
            return f"`{op}` needs a number, not {str(bound).lower()}" + (
                "; a boolean is compared with `mustBe` or `mustNotBe` only" if boolean else ""
            )
        return f"`{op}` needs a number, not {bound!r}"
    return Threshold(op, bound)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
