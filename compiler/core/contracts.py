"""Open Data Contract Standard v3 documents: schema validation and ML facts.

Contracts are validated against the official ODCS JSON Schema of their
apiVersion (`compiler.stages.validate.odcs_schemas`), so a team's existing contracts work
unchanged; Charter then reads the standard fields it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.core.odcs import read_odcs
from compiler.core.pickled import by_fields

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


@by_fields
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


@by_fields
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
    odcs = read_odcs(data)
    columns = [
        Column(
            name=prop.name,
            table=prop.table,
            path=prop.path,
            logical_type=prop.logical_type,
            required=prop.required,
            unique=prop.unique,
            classification=prop.classification,
            tags=prop.tags,
            has_quality=prop.has_quality,
        )
        for prop in odcs.properties
    ]
    by_key: dict[str, list[Column]] = {}
    for column in columns:
        by_key.setdefault(column.name, []).append(column)
        if column.table:
            by_key.setdefault(f"{column.table}.{column.name}", []).append(column)
    return Contract(
        id=odcs.id,
        name=odcs.name,
        version=odcs.version,
        status=odcs.status,
        columns=tuple(columns),
        tags=odcs.tags,
        by_key=by_key,
    )
