"""What an ODCS v3 contract promises about one table, read from its standard fields.

Columns: `logicalType` and `logicalTypeOptions`, `required`, `unique`, allowed
values (`enum` of ODCS v3.2, an `invalidValues` rule's `validValues`, or a
custom property `enum` / `validValues` / `allowedValues`), and `quality`
rules. The table: its `quality` rules. The contract: `slaProperties`
(freshness is `latency`, or its older name `freshness`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.core.contracts import QUALITY_OPERATORS as OPERATORS
from compiler.core.quality import Threshold, is_number, rule_is_warning, rule_kind, rule_metric, threshold

__all__ = ["OPERATORS", "Threshold", "rule_is_warning", "rule_kind", "rule_metric", "threshold"]

_ENUM_PROPERTIES = ("enum", "validValues", "allowedValues")
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


def rule_label(rule: dict[str, Any], fallback: str) -> str:
    for key in ("name", "id"):
        if isinstance(rule.get(key), str):
            return str(rule[key])
    return fallback


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
        if not is_number(value) or unit not in _UNIT_SECONDS:
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


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
