"""Which fields a schema allows on one instance: what "unknown field" is measured against.

jsonschema counts a field as unevaluated whenever the subschema declaring it
fails, so a wrong value would make its valid neighbours "unknown" too. And
the fields every branch of a schema declares are too many: `port` is a field
of a PostgreSQL server, not of a Redshift one. The fields allowed on an
instance are those of the branches that apply to it: an `if`/`then` whose
condition holds, the `oneOf`/`anyOf` branch its discriminator selects.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema.protocols import Validator

_DISCRIMINATORS = ("type", "logicalType")
_MAX_DEPTH = 16


def resolve(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """Follow a local `$ref` (`#/$defs/...`), as the ODCS schemas use them."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < _MAX_DEPTH:
        ref: str = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return node
        extra = {key: value for key, value in node.items() if key != "$ref"}
        node = {**target, **extra} if extra else target
        depth += 1
    return node


def evaluated_fields(
    schema: dict[str, Any], instance: dict[str, Any], root: dict[str, Any], validator: Validator
) -> set[str] | None:
    """The fields `schema` declares for `instance`; None when it allows any field."""
    fields: set[str] = set()
    if not _collect(schema, instance, root, validator, fields, depth=0):
        return None
    return fields


def _collect(
    schema: Any, instance: dict[str, Any], root: dict[str, Any], validator: Validator, fields: set[str], *, depth: int
) -> bool:
    """Add what `schema` declares for `instance` to `fields`; False when it allows any field."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return True
    if isinstance(schema.get("properties"), dict):
        fields.update(schema["properties"])
    patterns = schema.get("patternProperties")
    if isinstance(patterns, dict):
        fields.update(key for key in instance if any(re.search(pattern, key) for pattern in patterns))
    if depth > 0 and schema.get("additionalProperties", False) is not False:
        return False  # a branch that allows anything evaluates every field
    applicable: list[Any] = list(schema.get("allOf", [])) if isinstance(schema.get("allOf"), list) else []
    for keyword in ("oneOf", "anyOf"):
        if isinstance(schema.get(keyword), list):
            applicable.extend(_chosen_branches(schema[keyword], instance, root, validator))
    if isinstance(schema.get("if"), dict):
        holds = _holds(schema["if"], instance, validator)
        applicable.append(schema["if"])
        branch = schema.get("then") if holds else schema.get("else")
        if branch is not None:
            applicable.append(branch)
    dependent = schema.get("dependentSchemas")
    if isinstance(dependent, dict):
        applicable.extend(rule for key, rule in dependent.items() if key in instance)
    return all(_collect(branch, instance, root, validator, fields, depth=depth + 1) for branch in applicable)


def _holds(condition: Any, instance: dict[str, Any], validator: Validator) -> bool:
    return bool(validator.evolve(schema=condition).is_valid(instance))


def _chosen_branches(
    branches: list[Any], instance: dict[str, Any], root: dict[str, Any], validator: Validator
) -> list[Any]:
    """The branches that hold; else the one the discriminator selects; else all of them."""
    holding = [branch for branch in branches if _holds(branch, instance, validator)]
    if holding:
        return holding
    for key in _DISCRIMINATORS:
        if key not in instance:
            continue
        selected = []
        for branch in branches:
            target = resolve(branch, root)
            rule = target.get("properties", {}).get(key) if isinstance(target, dict) else None
            if isinstance(rule, dict) and (rule.get("const") == instance[key] or instance[key] in rule.get("enum", [])):
                selected.append(branch)
        if selected:
            return selected
    return branches
