"""The official ODCS JSON Schema of every v3 release, and which one judges a contract.

`compiler/odcs/` holds the schemas byte for byte as published (their source,
version, licence and digest are in `compiler/odcs/sources.json`). A contract
is judged by the schema of the apiVersion it declares: ODCS releases remove
fields as well as add them, so one schema for all would reject valid v3.0.x
contracts and accept incomplete ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError

VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")
LATEST = VERSIONS[-1]
V3_PATTERN = re.compile(r"^v3\.\d+\.\d+$")


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a contract fares against the schemas.

    `errors` are those of the declared version (empty when it is valid);
    `later` the earliest later version the contract is valid for, when that
    excuses the errors (then the errors are not reported).
    """

    declared: str
    errors: tuple[ValidationError, ...] = ()
    later: str | None = None


def sources() -> list[dict[str, Any]]:
    text = resources.files("compiler").joinpath("odcs", "sources.json").read_text("utf-8")
    entries: list[dict[str, Any]] = json.loads(text)["schemas"]
    return entries


@cache
def official_schema(version: str) -> dict[str, Any]:
    """The schema as published, unchanged."""
    entry = next(entry for entry in sources() if entry["version"] == version)
    text = resources.files("compiler").joinpath("odcs", entry["file"]).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def schema(version: str) -> dict[str, Any]:
    """The schema Charter validates with: the official one, with its discriminators fixed."""
    fixed: dict[str, Any] = require_discriminators(official_schema(version))
    return fixed


def require_discriminators(node: Any) -> Any:
    """Make `if: {properties: {logicalType: {const: map}}}` apply only when logicalType is set.

    In JSON Schema an `if` whose property is absent holds vacuously, so the
    v3.2.0 schema's `then: {required: [map]}` fires on every column that has
    no `logicalType`. Requiring the property in such an `if` (one whose
    `then` requires a field) restores the intent; in the v3 schemas this
    changes exactly that one `if`, which tests/test_odcs_versions.py checks.
    """
    if isinstance(node, dict):
        condition, then = node.get("if"), node.get("then")
        if (
            isinstance(condition, dict)
            and isinstance(condition.get("properties"), dict)
            and isinstance(then, dict)
            and "required" in then
            and "required" not in condition
        ):
            keyed = [key for key, rule in condition["properties"].items() if isinstance(rule, dict) and "const" in rule]
            if keyed:
                node = {**node, "if": {**condition, "required": keyed}}
        return {key: require_discriminators(value) for key, value in node.items()}
    if isinstance(node, list):
        return [require_discriminators(item) for item in node]
    return node


@cache
def validator(version: str) -> jsonschema.protocols.Validator:
    """python-jsonschema: slow, but its errors say where and why."""
    fixed = schema(version)
    cls = jsonschema.validators.validator_for(fixed)
    cls.check_schema(fixed)
    return cls(fixed)


@cache
def fast_validator(version: str) -> Any:
    """jsonschema-rs answers valid-or-not about 20x faster than python-jsonschema.

    Most contracts are valid, so they never reach the slow validator, whose
    detailed errors are only needed when something is wrong.
    """
    return jsonschema_rs.Draft201909Validator(schema(version), validate_formats=False)


def closest_version(declared: str) -> str | None:
    """The release a short or unknown v3 apiVersion most likely means: `v3.1` is v3.1.0."""
    prefixed = [version for version in VERSIONS if version.startswith(declared.rstrip(".") + ".")]
    if prefixed:
        return prefixed[0]
    return LATEST if V3_PATTERN.match(declared) else None


def judge(data: dict[str, Any], declared: str) -> Verdict:
    """Validate against the declared version; on failure, see whether a later one would accept it.

    A later version excuses the errors only when none of them is a field
    missing at the top of the contract: a v3.0.2 contract without `status`
    (which v3.0.2 requires and v3.2.0 does not) uses nothing of v3.2.0, it
    omits something of v3.0.2. Deeper down, a missing field is how a
    later version's replacement shows (v3.0.2 requires a quality rule's
    `rule`, v3.1.0 names it `metric`).
    """
    if fast_validator(declared).is_valid(data):
        return Verdict(declared)
    # Should the two validators ever disagree on where, python-jsonschema looks at the whole contract.
    found = detailed_errors(declared, data) or list(validator(declared).iter_errors(data))
    errors = tuple(sorted(found, key=lambda error: list(map(str, error.absolute_path))))
    if not errors:  # they disagree on whether: trust the one that can say why (it found nothing)
        return Verdict(declared)
    if not any(error.validator == "required" and not error.absolute_path for error in errors):
        for later in VERSIONS[VERSIONS.index(declared) + 1 :]:
            if fast_validator(later).is_valid({**data, "apiVersion": later}):
                return Verdict(declared, errors, later)
    return Verdict(declared, errors)


_UNKNOWN_FIELDS = ("unevaluatedProperties", "additionalProperties")


def detailed_errors(version: str, data: Any) -> list[ValidationError]:
    """python-jsonschema's errors, computed only where jsonschema-rs found one.

    python-jsonschema evaluates `unevaluatedProperties` by re-validating every
    branch below it, which is exponential in nesting: a 3,000-line contract
    with deeply nested objects takes it three minutes, jsonschema-rs 60 ms.
    So jsonschema-rs says where each error is (the value and the subschema),
    and python-jsonschema, whose errors carry the context of every
    `oneOf`/`anyOf` branch, explains only that value against that subschema.
    An unknown-field error needs no explaining: Charter computes which
    fields are allowed itself (`compiler.core.contract_fields`).
    """
    detailed = validator(version)
    errors: list[ValidationError] = []
    seen: set[tuple[tuple[Any, ...], tuple[Any, ...]]] = set()
    for fast in fast_validator(version).iter_errors(data):
        instance_path, schema_path = tuple(fast.instance_path), tuple(fast.schema_path)
        if (instance_path, schema_path) in seen or not schema_path:
            continue
        seen.add((instance_path, schema_path))
        keyword = str(schema_path[-1])
        subschema, instance = _at(detailed.schema, schema_path[:-1]), _at(data, instance_path)
        if not isinstance(subschema, dict) or instance is _MISSING:
            return list(detailed.iter_errors(data))  # an unexpected location: explain the whole contract
        if keyword in _UNKNOWN_FIELDS:
            errors.append(
                ValidationError(
                    f"{keyword} fails",
                    validator=keyword,
                    path=instance_path,
                    instance=instance,
                    schema=subschema,
                    validator_value=subschema.get(keyword),
                )
            )
            continue
        for error in detailed.evolve(schema=subschema).iter_errors(instance):
            if error.validator == keyword:
                error.path.extendleft(reversed(instance_path))
                errors.append(error)
    return errors


_MISSING: Any = object()


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for segment in path:
        in_mapping = isinstance(node, dict) and segment in node
        in_sequence = isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)
        if not (in_mapping or in_sequence):
            return _MISSING
        node = node[segment]
    return node
