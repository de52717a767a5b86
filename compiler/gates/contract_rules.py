"""What an ODCS v3 contract promises about one table, read from its standard fields.

Columns: `logicalType` and `logicalTypeOptions`, `required`, `unique`, allowed
values (`enum` of ODCS v3.2, an `invalidValues` rule's `validValues`, or a
custom property `enum` / `validValues` / `allowedValues`), and `quality`
rules. The table: its `quality` rules. The contract: `slaProperties`
(freshness is `latency`, or its older name `freshness`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from compiler.core.contracts import QUALITY_OPERATORS as OPERATORS

LIBRARY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount")
_ENUM_PROPERTIES = ("enum", "validValues", "allowedValues")
_UNITS = {"rows": False, "row": False, "percent": True, "%": True, "pct": True}
_WARNING_SEVERITIES = ("warning", "warn", "info", "minor", "low")
FRESHNESS_PROPERTIES = ("latency", "ly", "freshness")
_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 7 * 86400),
    **dict.fromkeys(("mo", "mon", "month", "months"), 30 * 86400),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 365 * 86400),
}


@dataclass(frozen=True)
class ColumnRules:
    name: str
    physical_name: str | None
    logical_type: str | None
    options: dict[str, Any]
    required: bool
    unique: bool
    allowed: tuple[Any, ...] | None
    allowed_from: str | None
    quality: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class TableRules:
    name: str
    physical_name: str | None
    columns: tuple[ColumnRules, ...]
    quality: tuple[dict[str, Any], ...] = ()

    def column(self, name: str) -> ColumnRules | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Freshness:
    column: str
    seconds: float
    text: str
    raw: dict[str, Any] = field(default_factory=dict)


def tables(data: Any) -> list[TableRules]:
    found = []
    for table in _list(data.get("schema") if isinstance(data, dict) else None):
        if not isinstance(table, dict):
            continue
        columns = [_column(prop) for prop in _list(table.get("properties")) if isinstance(prop, dict)]
        found.append(
            TableRules(
                name=str(table.get("name", "")),
                physical_name=_str(table.get("physicalName")),
                columns=tuple(c for c in columns if c is not None),
                quality=tuple(q for q in _list(table.get("quality")) if isinstance(q, dict)),
            )
        )
    return found


def _column(prop: dict[str, Any]) -> ColumnRules | None:
    name = prop.get("name")
    if not isinstance(name, str):
        return None
    quality = tuple(q for q in _list(prop.get("quality")) if isinstance(q, dict))
    allowed, source = _allowed_values(prop)
    options = prop.get("logicalTypeOptions")
    return ColumnRules(
        name=name,
        physical_name=_str(prop.get("physicalName")),
        logical_type=_str(prop.get("logicalType")),
        options=options if isinstance(options, dict) else {},
        required=prop.get("required") is True,
        unique=prop.get("unique") is True,
        allowed=allowed,
        allowed_from=source,
        quality=quality,
    )


def _allowed_values(prop: dict[str, Any]) -> tuple[tuple[Any, ...] | None, str | None]:
    """Allowed values that are not already a quality rule (those are checked as rules)."""
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        values = [item.get("value") if isinstance(item, dict) else item for item in enum]
        return tuple(values), "enum"
    for custom in _list(prop.get("customProperties")):
        if (
            isinstance(custom, dict)
            and custom.get("property") in _ENUM_PROPERTIES
            and isinstance(custom.get("value"), list)
        ):
            return tuple(custom["value"]), f"customProperties.{custom['property']}"
    return None, None


def rule_kind(rule: dict[str, Any]) -> str:
    declared = rule.get("type")
    if isinstance(declared, str):
        return declared
    return "library" if ("metric" in rule or "rule" in rule) else "text"


def rule_metric(rule: dict[str, Any]) -> str | None:
    metric = rule.get("metric", rule.get("rule"))
    return metric if isinstance(metric, str) else None


def rule_label(rule: dict[str, Any], fallback: str) -> str:
    for key in ("name", "id"):
        if isinstance(rule.get(key), str):
            return str(rule[key])
    return fallback


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
        if not (isinstance(bound, list) and len(bound) == 2 and all(_is_number(b) for b in bound)):
            return f"`{op}` needs two numbers"
        return Threshold(op, (min(bound), max(bound)))
    if isinstance(bound, bool) and boolean and op in ("mustBe", "mustNotBe"):
        return Threshold(op, bound)
    if not _is_number(bound):
        if isinstance(bound, bool):
            return f"`{op}` needs a number, not {str(bound).lower()}" + (
                "; a boolean is compared with `mustBe` or `mustNotBe` only" if boolean else ""
            )
        return f"`{op}` needs a number, not {bound!r}"
    return Threshold(op, bound)


def freshness_rules(data: Any, table: TableRules, single_table: bool) -> list[Freshness | str]:
    """Freshness SLAs that apply to this table: a Freshness, or why one cannot be checked."""
    out: list[Freshness | str] = []
    if not isinstance(data, dict):
        return out
    default = _str(data.get("slaDefaultElement"))
    for sla in _list(data.get("slaProperties")):
        if not isinstance(sla, dict) or str(sla.get("property", "")).lower() not in FRESHNESS_PROPERTIES:
            continue
        value, unit = sla.get("value"), str(sla.get("unit", "d")).strip().lower()
        text = f"{sla.get('property')} {value} {sla.get('unit', 'd')}"
        element = _str(sla.get("element")) or default
        columns = _elements(element, table, single_table) if element else _time_columns(table)
        if element and not columns:
            continue  # the SLA is about another table
        if not _is_number(value) or unit not in _UNIT_SECONDS:
            out.append(f"{text}: cannot read the value and unit")
            continue
        if not columns:
            out.append(f"{text}: no element names the timestamp column, and the table has no single date column")
            continue
        for column in columns:
            out.append(Freshness(column, float(value or 0) * _UNIT_SECONDS[unit], text, sla))
    return out


def _elements(element: str, table: TableRules, single_table: bool) -> list[str]:
    """`table.column` names of this table; a bare `column` when it is a column of this table."""
    found = []
    for part in element.split(","):
        owner, _, column = part.strip().rpartition(".")
        if owner and owner not in (table.name, table.physical_name):
            continue
        if not owner and not single_table and table.column(column) is None:
            continue
        if table.column(column) is not None:
            found.append(column)
    return found


def _time_columns(table: TableRules) -> list[str]:
    stamps = [c.name for c in table.columns if c.logical_type == "timestamp"]
    if len(stamps) == 1:
        return stamps
    dates = [c.name for c in table.columns if c.logical_type == "date"]
    return dates if not stamps and len(dates) == 1 else []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
