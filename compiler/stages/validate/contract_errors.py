"""ODCS schema errors as Diagnostics: every error, at its key, in YAML's words.

python-jsonschema reports a value inside `oneOf`/`anyOf` as one error on
the composite, with the failures of every branch as its context. The branch
the author meant is chosen (the one its discriminator, `type` or
`logicalType`, selects; else the one whose JSON type fits; else the most
relevant by jsonschema's best-match ordering) and its errors are reported,
each at the offending key. `if`/`then`, `allOf` and `$ref` need no descent:
jsonschema yields their errors directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from compiler.core import error_codes
from compiler.core.contract_fields import evaluated_fields, resolve
from compiler.core.diagnostics import Diagnostic, PathSegment, format_path
from compiler.core.specs import Spec
from compiler.core.suggest import closest, did_you_mean
from compiler.core.values import describe_value

_JSON_TYPES = {
    "array": "a sequence",
    "object": "a mapping",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_YAML11_BOOLEANS = {"yes": True, "y": True, "on": True, "no": False, "n": False, "off": False}
_DISCRIMINATORS = ("type", "logicalType")
_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
    "multipleOf": "a multiple of",
}
_COUNTS = {
    "minItems": ("at least", "item"),
    "maxItems": ("at most", "item"),
    "minProperties": ("at least", "field"),
    "maxProperties": ("at most", "field"),
    "minLength": ("at least", "character"),
    "maxLength": ("at most", "character"),
}


@dataclass(frozen=True, slots=True)
class _Found:
    """A finding, and what it is about, so that one mistake is reported once."""

    diagnostic: Diagnostic
    missing: tuple[str, ...] = ()  # fields reported missing at `diagnostic.path`
    unknown_suggestion: str | None = None  # for an unknown field: the field it is closest to


def contract_findings(spec: Spec, errors: Sequence[ValidationError], validator: Validator) -> list[Diagnostic]:
    """Every error of the contract, each at its key; a finding at 1:1 only for a fault of the root."""
    explainer = _Explainer(spec, validator)
    found: list[_Found] = []
    unexplained = []
    for error in errors:
        explained = explainer.explain(error)
        found.extend(explained)
        if not explained:
            unexplained.append(error)
    # Every path at or above a finding, so that each error below is one lookup (issue 26: linear).
    reported = {finding.diagnostic.path[:end] for finding in found for end in range(len(finding.diagnostic.path) + 1)}
    for error in unexplained:
        # An object whose every field is declared fails `unevaluatedProperties` because
        # one of them is wrong: that one is reported already, at or below the object.
        path = tuple(error.absolute_path)
        if path not in reported:
            generic = explainer.generic(error)
            found.append(generic)
            reported.update(generic.diagnostic.path[:end] for end in range(len(generic.diagnostic.path) + 1))
    return _without_consequences(found)


def _without_consequences(found: list[_Found]) -> list[Diagnostic]:
    """Drop "missing `mustBe`" beside an unknown `mustbe`: the misspelling is the one mistake."""
    misspelled = {
        (finding.diagnostic.path[:-1], finding.unknown_suggestion)
        for finding in found
        if finding.unknown_suggestion is not None
    }
    # `logicalType: null` breaks both `type: string` and the `enum`: the choices say more.
    choices = {finding.diagnostic.path for finding in found if finding.diagnostic.code == "CH203"}
    kept = [
        finding.diagnostic
        for finding in found
        if not any((finding.diagnostic.path, name) in misspelled for name in finding.missing)
        and not (finding.diagnostic.code == "CH202" and finding.diagnostic.path in choices)
    ]
    return list(dict.fromkeys(kept))


class _Explainer:
    def __init__(self, spec: Spec, validator: Validator) -> None:
        self.spec = spec
        self.validator = validator
        self.root: dict[str, Any] = validator.schema if isinstance(validator.schema, dict) else {}

    def explain(self, error: ValidationError) -> list[_Found]:
        keyword = str(error.validator)
        if keyword in ("oneOf", "anyOf") and error.context:
            return self._composite(error)
        path = tuple(error.absolute_path)
        if keyword in ("additionalProperties", "unevaluatedProperties"):
            return self._unknown_fields(error, path)
        if keyword == "required":
            return self._missing(error, path)
        if keyword == "dependentRequired":
            return self._dependencies(error, path)
        if keyword == "oneOf":
            return [self._several_alternatives(error, path)]
        message, hint = self._message(error, keyword, path)
        if message is None:
            return []
        return [_Found(self.spec.finding(error_codes.for_json_schema(keyword), message, path, hint=hint))]

    def generic(self, error: ValidationError) -> _Found:
        """The last resort, still at the failing value: the keyword the schema applies there."""
        keyword = str(error.validator)
        path = tuple(error.absolute_path)
        message = f"breaks the ODCS schema's `{keyword}` rule{_where(path)}"
        return _Found(self.spec.finding("CH300", message, path))

    # --- composites --------------------------------------------------------

    def _composite(self, error: ValidationError) -> list[_Found]:
        context = list(error.context)
        path = tuple(error.absolute_path)
        if all(sub.validator == "required" for sub in context) and isinstance(error.instance, dict):
            # Every branch wants a different field (`mustBe`, `mustBeLessThan`...): none is given.
            names = list(dict.fromkeys(name for sub in context for name in _missing_names(sub)))
            message = f"needs one of {', '.join(f'`{name}`' for name in names)}{_where(path)}"
            diagnostic = self.spec.finding("CH201", message, path, key=True)
            return [_Found(diagnostic, missing=tuple(names))]
        branch = self._best_branch(error)
        found: list[_Found] = []
        for sub in context:
            if sub.relative_schema_path and sub.relative_schema_path[0] == branch:
                found.extend(self.explain(sub))
        if found:
            return found
        chosen = [sub for sub in context if sub.relative_schema_path and sub.relative_schema_path[0] == branch]
        return [self.generic(chosen[0] if chosen else error)]

    def _best_branch(self, error: ValidationError) -> Any:
        branches = error.validator_value if isinstance(error.validator_value, list) else []
        candidates = list(
            dict.fromkeys(sub.relative_schema_path[0] for sub in error.context if sub.relative_schema_path)
        )
        instance = error.instance
        if isinstance(instance, dict):
            for key in _DISCRIMINATORS:
                if key in instance:
                    chosen = [i for i in candidates if self._selects(branches, i, key, instance[key])]
                    if chosen:
                        candidates = chosen
                        break
        typed = [i for i in candidates if self._accepts_type(branches, i, instance)]
        candidates = typed or candidates
        relevant = [
            sub for sub in error.context if sub.relative_schema_path and sub.relative_schema_path[0] in candidates
        ]
        best = best_match(relevant)
        return best.relative_schema_path[0] if best is not None and best.relative_schema_path else candidates[0]

    def _selects(self, branches: list[Any], index: Any, key: str, value: Any) -> bool:
        for part in self._parts(branches[index] if isinstance(index, int) and index < len(branches) else None):
            rule = part.get("properties", {}).get(key) if isinstance(part.get("properties"), dict) else None
            if isinstance(rule, dict) and ("const" in rule or "enum" in rule):
                return bool(rule.get("const") == value or value in rule.get("enum", []))
        return False

    def _accepts_type(self, branches: list[Any], index: Any, instance: Any) -> bool:
        for part in self._parts(branches[index] if isinstance(index, int) and index < len(branches) else None):
            declared = part.get("type")
            if declared is not None:
                names = [declared] if isinstance(declared, str) else list(declared)
                return any(self.validator.is_type(instance, str(name)) for name in names)
        return True

    def _parts(self, node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
        """The schema and what it is made of (`$ref`, `allOf`), outermost first."""
        node = resolve(node, self.root)
        if not isinstance(node, dict) or depth > 8:
            return
        yield node
        for member in node.get("allOf", []) if isinstance(node.get("allOf"), list) else []:
            yield from self._parts(member, depth + 1)

    # --- fields ---------------------------------------------------------------

    def _unknown_fields(self, error: ValidationError, path: tuple[PathSegment, ...]) -> list[_Found]:
        if not isinstance(error.instance, dict):
            return []
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = evaluated_fields(schema, error.instance, self.root, self.validator)
        if allowed is None:
            return []
        found = []
        for extra in (key for key in error.instance if key not in allowed):
            suggestion = closest(str(extra), sorted(allowed))
            diagnostic = self.spec.finding(
                "CH200",
                f"unknown field `{extra}`{_where(path)}",
                (*path, extra),
                key=True,
                hint=did_you_mean(str(extra), sorted(allowed)) or _allowed_hint(allowed),
            )
            found.append(_Found(diagnostic, unknown_suggestion=suggestion))
        return found

    def _missing(self, error: ValidationError, path: tuple[PathSegment, ...]) -> list[_Found]:
        found = []
        for name in _missing_names(error):
            diagnostic = self.spec.finding("CH201", f"missing required field `{name}`{_where(path)}", path, key=True)
            found.append(_Found(diagnostic, missing=(name,)))
        return found

    def _dependencies(self, error: ValidationError, path: tuple[PathSegment, ...]) -> list[_Found]:
        rules = error.validator_value if isinstance(error.validator_value, dict) else {}
        instance = error.instance if isinstance(error.instance, dict) else {}
        found = []
        for given, needed in rules.items():
            for name in (name for name in needed if given in instance and name not in instance):
                message = f"`{given}` needs `{name}` beside it{_where(path)}"
                diagnostic = self.spec.finding("CH201", message, (*path, given), key=True)
                found.append(_Found(diagnostic, missing=(name,)))
        return found

    def _several_alternatives(self, error: ValidationError, path: tuple[PathSegment, ...]) -> _Found:
        branches = error.validator_value if isinstance(error.validator_value, list) else []
        present = [
            key
            for branch in branches
            if isinstance(branch, dict) and isinstance(error.instance, dict)
            for key in branch.get("required", [])
            if key in error.instance
        ]
        message = "matches more than one of the alternatives the schema allows"
        if len(present) > 1:
            message += f": use only one of {', '.join(f'`{key}`' for key in dict.fromkeys(present))}"
        return _Found(self.spec.finding("CH300", message, path))

    # --- values ---------------------------------------------------------------

    def _message(
        self, error: ValidationError, keyword: str, path: tuple[PathSegment, ...]
    ) -> tuple[str | None, str | None]:
        value, rule = error.instance, error.validator_value
        text = self.spec.span(path).source_text
        shown = yaml_text(value, text)
        field = f"`{path[-1]}`" if path and isinstance(path[-1], str) else "the value"
        if keyword == "type" and isinstance(rule, (str, list)):
            wanted = [rule] if isinstance(rule, str) else rule
            expected = " or ".join(_JSON_TYPES.get(str(name), str(name)) for name in wanted)
            got = describe_value(value, yaml_text(value, text), sequence="a sequence", boolean="")
            return f"expected {expected}, got {got}", _type_hint(value, text, wanted)
        if keyword == "enum" and isinstance(rule, list):
            choices = [yaml_text(choice, None) for choice in rule]
            return f"`{shown}` is not one of: {', '.join(choices)}", did_you_mean(shown, choices)
        if keyword == "const":
            return f"{field} must be `{yaml_text(rule, None)}` (got `{shown}`)", None
        if keyword == "pattern":
            described = error.schema.get("description") if isinstance(error.schema, dict) else None
            hint = f"expected: {described}" if isinstance(described, str) else None
            return f"{field} does not match the pattern `{rule}` (got `{shown}`)", hint
        if keyword in _BOUNDS:
            return f"{field} must be {_BOUNDS[keyword]} {yaml_text(rule, None)} (got `{shown}`)", None
        if keyword in _COUNTS:
            bound, noun = _COUNTS[keyword]
            plural = "" if rule == 1 else "s"
            return f"{field} must have {bound} {rule} {noun}{plural}", None
        if keyword == "uniqueItems":
            return f"{field} lists the same item twice", None
        if keyword == "format":
            return f"{field} `{shown}` is not a valid {rule}", None
        if keyword in ("not", "contains", "propertyNames", "if", "dependentSchemas", "$ref"):
            return None, None
        return None, None


def _missing_names(error: ValidationError) -> list[str]:
    required = error.validator_value if isinstance(error.validator_value, list) else []
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [str(name) for name in required if name not in instance]


def _where(parent: Sequence[PathSegment]) -> str:
    return f" in `{format_path(parent)}`" if parent else ""


def _allowed_hint(allowed: set[str]) -> str | None:
    return f"allowed here: {', '.join(sorted(allowed))}" if 0 < len(allowed) <= 12 else None


def _type_hint(value: Any, source_text: str | None, wanted: list[Any]) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and source_text and "string" in wanted:
        return f'quote it: "{source_text}" (YAML reads it as a number)'
    if isinstance(value, str) and "boolean" in wanted and value.lower() in _YAML11_BOOLEANS:
        truth = "true" if _YAML11_BOOLEANS[value.lower()] else "false"
        return f"write `{truth}`: Charter reads YAML 1.2, where `{value}` is a string"
    return None


def yaml_text(value: Any, source_text: str | None) -> str:
    """A value as YAML writes it: `null`, `true`, `1.10` as typed, never Python's `None` or `True`."""
    if source_text is not None and not isinstance(value, (dict, list)):
        return source_text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a sequence"
    return str(value)
