"""`charter contract import`: an ODCS v3 contract written from the data itself, not by hand.

The columns, their types and what the data shows of them (no nulls: `required`; every value
different: `unique`) come from one aggregate query inside the engine that holds the data: DuckDB
for CSV and Parquet files, the server itself for a PostgreSQL table, as the gates read them (only
aggregates come back). What the data cannot show is left for the contract's owner, and the file
says so: classification, `pii` and `protected` tags, quality rules, service levels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import Source, columns, connection, open_source, query, quote

API_VERSION = "v3.1.0"
# DuckDB's type names (also what the database gate reads PostgreSQL's columns as) -> ODCS logicalType.
_INTEGER = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
_NUMBER = re.compile(r"^(FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Column:
    """One column as the data shows it."""

    name: str
    physical_type: str
    rows: int
    nulls: int
    distinct: int

    @property
    def logical_type(self) -> str:
        return logical_type(self.physical_type)

    @property
    def required(self) -> bool:
        return self.rows > 0 and self.nulls == 0

    @property
    def unique(self) -> bool:
        # One row proves nothing: every column of it is "unique".
        return self.rows > 1 and self.nulls == 0 and self.distinct == self.rows


def logical_type(physical: str) -> str:
    """The ODCS logicalType of a DuckDB type: string, date, timestamp, time, number, integer, object, array, boolean."""
    kind = physical.upper().strip()
    if kind.endswith("]"):
        return "array"
    if kind.startswith(("STRUCT", "MAP", "UNION", "JSON")):
        return "object"
    if kind == "BOOLEAN":
        return "boolean"
    if _INTEGER.match(kind):
        return "integer"
    if _NUMBER.match(kind):
        return "number"
    if kind == "DATE":
        return "date"
    if kind.startswith("TIMESTAMP"):
        return "timestamp"
    if kind.startswith("TIME"):
        return "time"
    return "string"


def profile_files(paths: Sequence[str]) -> tuple[Source, list[Column]]:
    """Every column of CSV or Parquet files, with its type, null count and distinct count."""
    source = open_source(paths)
    with connection() as con:
        types = columns(con, source)
        row = query(con, f"SELECT {_aggregates(types)} FROM {source.relation()}", source).fetchone()
    return source, _columns(types, row)


def profile_table(database: Any, schema: str, table: str) -> list[Column]:
    """Every column of a PostgreSQL table (`compiler.gates.io.database.Database`), counted on the server."""
    types = database.columns(schema, table)
    relation = f"{quote(schema)}.{quote(table)}"
    row = database.execute(f"SELECT {_aggregates(types)} FROM {relation}").fetchone()
    return _columns(types, row)


def _aggregates(types: dict[str, str]) -> str:
    # One scan: the row count, then per column its nulls and its distinct values.
    # Lists and structures are never `unique` here (PostgreSQL's json cannot even be compared).
    parts = ["count(*)"]
    for name, kind in types.items():
        distinct = "0" if logical_type(kind) in ("array", "object") else f"count(DISTINCT {quote(name)})"
        parts += [f"count(*) - count({quote(name)})", distinct]
    return ", ".join(parts)


def _columns(types: dict[str, str], row: Sequence[Any] | None) -> list[Column]:
    if row is None:
        raise UnusableInput("the data returned no counts")
    rows = int(row[0])
    return [
        Column(name, kind, rows, int(row[1 + 2 * i]), int(row[2 + 2 * i]))
        for i, (name, kind) in enumerate(types.items())
    ]


def contract_id(name: str) -> str:
    """A contract id from a file or table name: lower case, words joined by `-`."""
    slug = _SLUG.sub("-", name.lower()).strip("-")
    return slug or "imported"


def contract(
    identifier: str, table: str, found: Sequence[Column], *, server: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ODCS v3 document: one schema object, a property per column, in the data's order."""
    properties = []
    for column in found:
        entry: dict[str, Any] = {
            "name": column.name,
            "logicalType": column.logical_type,
            "physicalType": column.physical_type,
        }
        if column.required:
            entry["required"] = True
        if column.unique:
            entry["unique"] = True
        properties.append(entry)
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": identifier,
        "name": identifier,
        "version": "0.1.0",
        "status": "draft",
    }
    if server is not None:
        document["servers"] = [server]
    document["schema"] = [{"name": table, "physicalName": table, "properties": properties}]
    return document


def to_yaml(document: dict[str, Any], origin: str, rows: int) -> str:
    header = (
        f"# Imported by `charter contract import` from {origin} ({rows} rows): columns, types, and\n"
        "# `required` / `unique` where every row showed it. For the owner to add: the `team`, `classification`\n"
        "# (public | internal | confidential | restricted) and tags (`pii`, `protected`) per column,\n"
        "# a description, `quality` rules and `slaProperties`; then set `status: active`.\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return header + body


def table_name(paths: Sequence[str]) -> str:
    """The schema object's name for files: the first file's name without its extensions."""
    return Path(paths[0].rstrip("/")).name.split(".")[0] or "data"
