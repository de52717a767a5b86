"""Open Data Contract Standard v3 documents: schema validation and ML facts.

Contracts are validated against the official ODCS JSON Schema shipped by the
`open-data-contract-standard` package, so a team's existing contracts work
unchanged; Charter then reads the standard fields it needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

SUPPORTED_API_VERSION = re.compile(r"^v3\.\d+\.\d+$")
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


@lru_cache(maxsize=1)
def odcs_schema() -> dict[str, Any]:
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = _require_discriminators(json.loads(text))
    return schema


@lru_cache(maxsize=1)
def odcs_validator() -> jsonschema.protocols.Validator:
    schema = odcs_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    """jsonschema-rs answers valid-or-not about 20x faster than python-jsonschema.

    Most contracts are valid, so they never reach the slow validator, whose
    detailed errors are only needed when something is wrong.
    """
    return jsonschema_rs.Draft201909Validator(odcs_schema(), validate_formats=False)


def _require_discriminators(node: Any) -> Any:
    """Make `if: {properties: {logicalType: {const: map}}}` apply only when logicalType is set.

    In JSON Schema an `if` whose property is absent holds vacuously, so the
    official schema's `then: {required: [map]}` fires on every column that
    has no `logicalType`. Requiring the property in the `if` restores the
    intent without touching anything else.
    """
    if isinstance(node, dict):
        condition = node.get("if")
        if isinstance(condition, dict) and isinstance(condition.get("properties"), dict):
            keyed = [key for key, rule in condition["properties"].items() if isinstance(rule, dict) and "const" in rule]
            if keyed and "required" not in condition:
                node = {**node, "if": {**condition, "required": keyed}}
        return {key: _require_discriminators(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_require_discriminators(item) for item in node]
    return node


def schema_errors(data: Any) -> Iterator[ValidationError]:
    """The most specific error for each failing part of the contract."""
    if _fast_validator().is_valid(data):
        return
    for error in odcs_validator().iter_errors(data):
        specific = error
        while specific.context:
            deeper = best_match(specific.context)
            if deeper is None:
                break
            specific = deeper
        yield specific


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
