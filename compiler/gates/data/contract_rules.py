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

from compiler.core.odcs import Property, read_odcs
from compiler.core.quality import is_number

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
    return [
        TableRules(
            name=table.name,
            physical_name=table.physical_name,
            columns=tuple(_column(prop) for prop in table.properties),
            quality=tuple(rule.raw for rule in table.quality),
        )
        for table in read_odcs(data).schema
    ]


def _column(prop: Property) -> ColumnRules:
    allowed, source = _allowed_values(prop)
    return ColumnRules(
        name=prop.name,
        physical_name=prop.physical_name,
        logical_type=prop.logical_type,
        options=prop.type_options,
        required=prop.required,
        unique=prop.unique,
        allowed=allowed,
        allowed_from=source,
        quality=tuple(rule.raw for rule in prop.quality),
    )


def _allowed_values(prop: Property) -> tuple[tuple[Any, ...] | None, str | None]:
    """Allowed values that are not already a quality rule (those are checked as rules)."""
    if prop.enum:
        return tuple(prop.enum), "enum"
    custom = prop.custom_allowed
    if custom is not None:
        return tuple(custom[1]), f"customProperties.{custom[0]}"
    return None, None


def rule_label(rule: dict[str, Any], fallback: str) -> str:
    for key in ("name", "id"):
        if isinstance(rule.get(key), str):
            return str(rule[key])
    return fallback


def freshness_rules(data: Any, table: TableRules, single_table: bool) -> list[Freshness | str]:
    """Freshness SLAs that apply to this table: a Freshness, or why one cannot be checked."""
    out: list[Freshness | str] = []
    odcs = read_odcs(data)
    for sla in odcs.sla:
        if not isinstance(sla.name, str) or sla.name.lower() not in FRESHNESS_PROPERTIES:
            continue
        written_unit = "d" if sla.unit is None else sla.unit
        value, unit = sla.value, str(written_unit).strip().lower()
        text = f"{sla.name} {value} {written_unit}"
        element = sla.element or odcs.sla_default_element
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
            out.append(Freshness(column, float(value or 0) * _UNIT_SECONDS[unit], text, sla.raw))
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
