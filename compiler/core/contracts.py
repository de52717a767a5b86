"""Open Data Contract Standard v3 documents: schema validation and ML facts.

Contracts are validated against the official ODCS JSON Schema of their
apiVersion (`compiler.stages.validate.odcs_schemas`), so a team's existing contracts work
unchanged; Charter then reads the standard fields it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The comparison operators of an ODCS quality rule.
QUALITY_OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    table: str
    path: tuple[str | int, ...]
    logical_type: str | None = None
    required: bool = False
    unique: bool = False
    classification: str | None = None
    tags: tuple[str, ...] = ()
    has_quality: bool = False


@dataclass(frozen=True, slots=True)
class Contract:
    """What Charter needs to know of a contract; positions come from the document."""

    id: str
    name: str | None
    version: str | None
    status: str | None
    columns: tuple[Column, ...] = ()
    tags: tuple[str, ...] = ()
    by_key: dict[str, list[Column]] = field(default_factory=dict, compare=False, hash=False)

    def find(self, reference: str) -> list[Column]:
        """Columns named `reference` (`column`, or `table.column`)."""
        return self.by_key.get(reference, [])

    @property
    def column_keys(self) -> list[str]:
        return list(self.by_key)


def read_contract(data: dict[str, Any]) -> Contract:
    columns: list[Column] = []
    for table_index, table in enumerate(_list(data.get("schema"))):
        if not isinstance(table, dict):
            continue
        table_name = str(table.get("name", ""))
        for column_index, prop in enumerate(_list(table.get("properties"))):
            if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
                continue
            quality = prop.get("quality")
            columns.append(
                Column(
                    name=prop["name"],
                    table=table_name,
                    path=("schema", table_index, "properties", column_index),
                    logical_type=_str_or_none(prop.get("logicalType")),
                    required=prop.get("required") is True,
                    unique=prop.get("unique") is True,
                    classification=_str_or_none(prop.get("classification")),
                    tags=tuple(str(tag) for tag in _list(prop.get("tags"))),
                    has_quality=bool(quality),
                )
            )
    by_key: dict[str, list[Column]] = {}
    for column in columns:
        by_key.setdefault(column.name, []).append(column)
        if column.table:
            by_key.setdefault(f"{column.table}.{column.name}", []).append(column)
    return Contract(
        id=str(data.get("id", "")),
        name=_str_or_none(data.get("name")),
        version=_str_or_none(data.get("version")),
        status=_str_or_none(data.get("status")),
        columns=tuple(columns),
        tags=tuple(str(tag) for tag in _list(data.get("tags"))),
        by_key=by_key,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
