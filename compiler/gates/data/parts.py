"""Parts of the data gate that need no scan: a column as found in the data, a quality rule to judge,
logical types against physical ones, and the SQL and text the checks are written with."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from compiler.core import quality as odcs_rules
from compiler.core.gate_report import Check, check
from compiler.gates.data.contract_rules import ColumnRules
from compiler.gates.io.inputs import canonical, sql_literal, sql_string
from compiler.reporters.gate import show

_INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
)
_FLOAT_TYPES = frozenset(("FLOAT", "DOUBLE", "REAL"))


CAST_TYPES = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "time": "TIME",
}


@dataclass(frozen=True)
class QualityRule:
    check_id: str
    title: str
    target: str | None
    rule: dict[str, Any]
    threshold: odcs_rules.Threshold


@dataclass
class ScannedColumn:
    rules: ColumnRules
    data_name: str
    data_type: str
    raw: str
    typed: str
    numeric: bool
    nulls: int = -1


class Skipped(Exception):
    """A quality rule the gate does not judge, with the code and the reason its skipped check shows."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def count_code(key: str) -> str:
    """A count of offending rows: nulls in a required column (CH702), or values outside what the column allows."""
    return "CH702" if key == "required" else "CH704"


def not_checkable(check_id: str, title: str, target: str, kind: str, rule: dict[str, Any]) -> Check:
    what = rule.get("description") or rule.get("query") or rule.get("engine") or ""
    return check(
        "CH707",
        check_id,
        title,
        "skipped",
        target=target,
        message=f"not checkable: a `{kind}` rule" + (f" ({str(what).strip()[:120]})" if what else ""),
    )


def parsed_as(text: str, logical: str) -> str:
    """SQL that parses a text value as the logical type; NULL when it does not parse."""
    if logical == "integer":
        return f"CASE WHEN TRY_CAST({text} AS DOUBLE) = TRY_CAST({text} AS BIGINT) THEN TRY_CAST({text} AS BIGINT) END"
    return f"TRY_CAST({text} AS {CAST_TYPES[logical]})"


def base_type(data_type: str) -> str:
    return re.sub(r"\(.*$", "", data_type.strip().upper())


def numeric_type(data_type: str) -> bool:
    base = base_type(data_type)
    return base in _INTEGER_TYPES or base in _FLOAT_TYPES or base == "DECIMAL"


def compatible_type(logical: str, data_type: str) -> bool:
    """Whether a DuckDB column type holds the contract's logical type."""
    upper = data_type.strip().upper()
    base = base_type(upper)
    if upper.endswith("]"):
        if logical == "vector":
            return numeric_type(upper[: upper.rindex("[")])
        return logical == "array"
    if logical == "string":
        return base in ("VARCHAR", "UUID", "ENUM", "JSON")
    if logical == "integer":
        return base in _INTEGER_TYPES or (base == "DECIMAL" and upper.replace(" ", "").endswith(",0)"))
    if logical == "number":
        return numeric_type(upper)
    if logical == "boolean":
        return base == "BOOLEAN"
    if logical == "date":
        return base == "DATE"
    if logical == "timestamp":
        return base.startswith("TIMESTAMP") or base == "DATETIME"
    if logical == "time":
        return base.startswith("TIME") and not base.startswith("TIMESTAMP")
    if logical == "object":
        return base in ("STRUCT", "JSON", "MAP")
    if logical == "map":
        return base == "MAP"
    return True


def membership(column: ScannedColumn, values: tuple[Any, ...]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "FALSE"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if column.numeric and numbers:
        return f"{column.typed} IN ({', '.join(sql_literal(v) for v in present)})"
    if column.rules.logical_type == "boolean" and all(isinstance(v, bool) for v in present):
        return f"{column.typed} IN ({', '.join(sql_literal(v) for v in present)})"
    return f"CAST({column.typed} AS VARCHAR) IN ({', '.join(sql_string(canonical(v)) for v in present)})"


def percent_of(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.3g}%" if whole else "n/a"


def duration_text(delta: datetime.timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{show(seconds / size)} {unit}"
    return f"{show(seconds)} s"


def rule_properties(rule: dict[str, Any]) -> list[str]:
    arguments = rule.get("arguments")
    properties = arguments.get("properties") if isinstance(arguments, dict) else None
    return [n for n in as_list(properties) if isinstance(n, str)]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
