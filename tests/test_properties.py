"""Properties of the loader and the validator, checked with Hypothesis.

1. Nothing a user can put in a file makes `load_text`, `load_bytes` or
   `validate` raise: arbitrary text, arbitrary bytes, and YAML-shaped text
   built from the characters that drive the parser (indentation, `-`, `:`,
   brackets, anchors, aliases, tags, quotes, directives) all end in
   Diagnostics, whose positions lie inside the file.
2. The published JSON Schemas and the pydantic models agree: every document
   hypothesis-jsonschema generates from `compiler.schema.kind_schema(kind)`
   (with its `$defs` references) is accepted by the model, except where a
   rule cannot be written in JSON Schema (listed in CROSS_FIELD_RULES and
   filtered out with `assume`).
3. JSON is YAML 1.2: a document written as JSON loads to the same data, and
   a schema-valid document written as JSON passes `validate` with no finding.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Callable
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema, from_schema
from hypothesis_jsonschema._encode import encode_canonical_json

from compiler.diagnostics import Diagnostic
from compiler.load import SourceFile, load_bytes, load_text
from compiler.metrics import FAIRNESS, PERFORMANCE
from compiler.models import KINDS
from compiler.schema import kind_schema
from compiler.validate import validate

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
SCHEMA = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    database=None,
)


# --- hypothesis-jsonschema on this Hypothesis ---------------------------------------
#
# hypothesis-jsonschema 0.23.1 (the latest release) calls `many.more()`, a private
# Hypothesis API that Hypothesis 6.170 replaced with an iterator; without this
# adapter every object schema fails with AttributeError. It also rebuilds the
# strategy of every sub-schema on every draw; caching them (strategies are
# immutable) makes generation about ten times faster. Both touch only the
# `hypothesis_jsonschema._from_schema` module.


class _Many(conjecture_utils.many):
    """The old `while elements.more():` protocol on top of the new iterator."""

    _iterator: Any = None

    def more(self) -> bool:
        if self._iterator is None:
            self.__enter__()
            self._iterator = iter(self)
        try:
            next(self._iterator)
        except StopIteration:
            self.__exit__(None)
            return False
        return True


def _adapt_hypothesis_jsonschema() -> None:
    if not hasattr(conjecture_utils.many, "more") and not isinstance(_from_schema.cu, types.SimpleNamespace):
        _from_schema.cu = types.SimpleNamespace(many=_Many)  # type: ignore[attr-defined]
    original = getattr(_from_schema, "__from_schema")
    if getattr(original, "cached", False):
        return
    cache: dict[tuple[str, int, int], Any] = {}

    def cached(schema: Any, *, alphabet: Any, custom_formats: Any) -> Any:
        key = (encode_canonical_json(schema), id(alphabet), id(custom_formats))
        if key not in cache:
            cache[key] = original(schema, alphabet=alphabet, custom_formats=custom_formats)
        return cache[key]

    cached.cached = True  # type: ignore[attr-defined]
    setattr(_from_schema, "__from_schema", cached)


_adapt_hypothesis_jsonschema()


# --- 1. nothing raises ----------------------------------------------------------------


def check_everything(source: SourceFile, text: str) -> None:
    """Validate every document; every finding is a Diagnostic placed inside the file."""
    findings: list[Diagnostic] = list(source.diagnostics)
    for document in source.documents:
        _, more = validate(document)
        findings.extend(more)
    lines = len(text.splitlines()) + 1
    for finding in findings:
        assert isinstance(finding, Diagnostic)
        assert finding.file == "fuzz.yaml"
        assert 0 <= finding.line <= lines, finding
        assert (finding.line == 0) == (finding.column == 0), finding
        if finding.line:
            assert finding.end_line >= finding.line, finding


@FUZZ
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    check_everything(load_text(text, "fuzz.yaml"), text)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    source = load_bytes(raw, "fuzz.yaml")
    check_everything(source, source.text or raw.decode("utf-8", errors="replace"))


KEYS = ["apiVersion", "kind", "metadata", "name", "spec", "tier", "features", "label", "<<", "? a", "1", "a b"]
SCALARS = [
    "charter/v1alpha1",
    "Model",
    "Environment",
    "EvaluationSuite",
    "Waiver",
    "Policy",
    "Project",
    "DataContract",
    "v3.0.2",
    "yes",
    "no",
    "on",
    "~",
    "null",
    "1.10",
    "0x1f",
    "0o17",
    "1e3",
    ".nan",
    "-.inf",
    "2024-02-30",
    "9" * 50,
    "${{ secrets.X }}",
    "a: b",
    "#",
    "%",
    "@",
    "`",
    "|",
    ">-",
    "\t",
    "\ufeff",
    "é",
]
TOKENS = st.sampled_from(
    [
        "- ",
        "-",
        ": ",
        ":",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "&b ",
        "*a",
        "*b",
        "!!str ",
        "!!int ",
        "!!map ",
        "!!seq ",
        "!Ref ",
        "!!python/object/apply:os.system ",
        '"',
        "'",
        '"\\u00e9"',
        "'it''s'",
        "? ",
        "<<: *a",
        " ",
        "  ",
    ]
)
PIECE = st.one_of(TOKENS, st.sampled_from(KEYS + SCALARS), st.text(alphabet="ab:-[]{}\"' \t#&*!|>", max_size=6))
LINE = st.one_of(
    st.sampled_from(["---", "...", "%YAML 1.1", "%YAML 1.2", "%TAG ! tag:x,2000:", "# comment", ""]),
    st.builds(
        lambda indent, pieces: " " * indent + "".join(pieces),
        st.integers(0, 10),
        st.lists(PIECE, min_size=1, max_size=6),
    ),
)
ENVELOPES = st.sampled_from(
    ["", *(f"apiVersion: charter/v1alpha1\nkind: {kind}\n" for kind in KINDS), "apiVersion: v3.0.2\nkind: DataContract\n"]
)


@FUZZ
@given(ENVELOPES, st.lists(LINE, max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_yaml_shaped_text_never_raises(envelope: str, lines: list[str], newline: str) -> None:
    text = envelope + newline.join(lines)
    check_everything(load_text(text, "fuzz.yaml"), text)


@FUZZ
@given(st.integers(1, 200), st.sampled_from(["[", "{", "- ", "a:\n", "? "]), st.sampled_from(["", "&a ", "*a "]))
def test_nesting_never_raises(levels: int, opener: str, decoration: str) -> None:
    text = "".join(" " * (2 * i if opener.endswith("\n") else 0) + decoration + opener for i in range(levels))
    check_everything(load_text(text, "fuzz.yaml"), text)


# --- 2. the published schemas and the models agree -----------------------------------------

# Python's `re` (which hypothesis-jsonschema generates with), Rust's regex (which
# pydantic checks with) and ECMA-262 (which editors check the published schema
# with) disagree on what `\s` matches: Python adds U+001C-U+001F, Rust U+0085,
# ECMA-262 U+FEFF. Generation uses `\s` = whitespace everywhere, `\S` = whitespace
# nowhere, so a generated string means the same to all three.
_SPACE_EVERYWHERE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_SPACE_ANYWHERE = _SPACE_EVERYWHERE + "\\x1c-\\x1f\\x85\\ufeff"


def portable_pattern(pattern: str) -> str:
    out: list[str] = []
    in_class = negated = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escape = pattern[i : i + 2]
            if escape == "\\s" and in_class:
                # In `[^\s@]` every engine's space must be excluded; in `[\s@]` only shared ones.
                out.append(_SPACE_ANYWHERE if negated else _SPACE_EVERYWHERE)
            elif escape == "\\s":
                out.append(f"[{_SPACE_EVERYWHERE}]")
            elif escape == "\\S":
                assert not in_class, f"`\\S` inside a class is not handled: {pattern}"
                out.append(f"[^{_SPACE_ANYWHERE}]")
            else:
                out.append(escape)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class, negated = True, pattern.startswith("[^", i)
            if negated:
                out.append("[^")
                i += 2
                continue
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def generation_schema(kind: str) -> dict[str, Any]:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: portable_pattern(value) if key == "pattern" and isinstance(value, str) else walk(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    schema = walk(kind_schema(kind))
    assert "$defs" in schema, "expected the schema to use $defs references"
    for name, conditions in EXPRESSIBLE_RULES.items():
        if name in schema["$defs"]:
            definition = schema["$defs"][name]
            definition["allOf"] = [*definition.get("allOf", []), *conditions]
    for name in ("MetricBound", "FairnessCheck"):
        if name in schema["$defs"]:
            for bound in ("min", "max"):  # [0, 1] is inside the range of every metric
                schema["$defs"][name]["properties"][bound] = {"anyOf": [_UNIT, {"type": "null"}]}
    return schema


def _either(*branches: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": list(branches)}


def _present(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": [name], "properties": {name: schema}}


_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
# Cross-field rules of the models that JSON Schema *can* state, stated: generation
# then rarely makes a document the model refuses (the published schemas could
# carry these too, so that editors flag them). The rules JSON Schema cannot state
# are filtered with `assume` (CROSS_FIELD_RULES below).
EXPRESSIBLE_RULES: dict[str, list[dict[str, Any]]] = {
    "ModelSpec": [
        _either({"properties": {"task": {"const": "generation"}}}, _present("label", {"type": "string"})),
        _either({"properties": {"deployments": {"maxItems": 0}}}, _present("serving", {"type": "object"})),
    ],
    "Serving": [_either({"properties": {"runtime": {"const": "kserve"}}}, _present("image", {"type": "string"}))],
    "DeploymentConfig": [_either({"properties": {"mode": {"const": "push"}}}, _present("repoUrl", {"type": "string"}))],
    "MetricBound": [_either(_present("min", _UNIT), _present("max", _UNIT))],
    "FairnessCheck": [_either(_present("min", _UNIT), _present("max", _UNIT))],
}


def _bounds_ok(items: list[dict[str, Any]], registry: dict[str, Any]) -> bool:
    for item in items:
        low, high = item.get("min"), item.get("max")
        if low is None and high is None:
            return False  # "needs `min` or `max`"
        info = registry[item["metric"]]
        for bound in (low, high):
            if bound is None:
                continue
            if (info.low is not None and bound < info.low) or (info.high is not None and bound > info.high):
                return False  # "outside the range of the metric"
        if low is not None and high is not None and low > high:
            return False  # "`min` is above `max`"
    return True


def _model_rules(document: dict[str, Any]) -> bool:
    spec = document["spec"]
    if spec["task"] != "generation" and spec.get("label") is None:
        return False  # "task X needs `label`"
    serving = spec.get("serving")
    if serving is not None and serving["runtime"] == "kubernetes" and serving.get("image") is None:
        return False  # "runtime `kubernetes` needs `image`"
    deployments = spec.get("deployments") or []
    if deployments and serving is None:
        return False  # "deployments need `serving`"
    names = [deployment["environment"] for deployment in deployments]
    if len(names) != len(set(names)):
        return False  # "environment X is listed twice"
    for deployment in deployments:
        scaling = deployment.get("autoscaling")
        if scaling is not None and scaling["maxReplicas"] < scaling["minReplicas"]:
            return False  # "maxReplicas is below minReplicas"
    return True


def _suite_rules(document: dict[str, Any]) -> bool:
    spec = document["spec"]
    return _bounds_ok(spec["metrics"], PERFORMANCE) and _bounds_ok(spec.get("fairness") or [], FAIRNESS)


def _project_rules(document: dict[str, Any]) -> bool:
    deployment = (document.get("spec") or {}).get("deployment") or {}
    return not (deployment.get("mode") == "gitops" and deployment.get("repoUrl") is None)  # "needs `repoUrl`"


# The models' `model_validator`s: rules across fields that the generated JSON
# Schemas do not state. Some could be stated (`anyOf` of required `min`/`max`,
# `if`/`then` for `kubernetes` needing `image` or `gitops` needing `repoUrl`);
# `min <= max` and unique environments across items cannot.
CROSS_FIELD_RULES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "Project": _project_rules,
    "Model": _model_rules,
    "EvaluationSuite": _suite_rules,
}
# Every validator the rules above stand for: a new one needs a rule here too.
KNOWN_VALIDATORS = {
    ("DeploymentConfig", "_repo_for_gitops"),
    ("ModelSpec", "_consistent"),
    ("Serving", "_image_for_kubernetes"),
    ("Autoscaling", "_ordered"),
    ("MetricBound", "_bounds"),
    ("FairnessCheck", "_bounds"),
}


def test_every_cross_field_validator_has_a_rule_here() -> None:
    found: set[tuple[str, str]] = set()
    seen: set[type] = set()

    def walk(annotation: Any) -> None:
        for argument in typing.get_args(annotation):
            walk(argument)
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel) and annotation not in seen:
            seen.add(annotation)
            decorators = annotation.__pydantic_decorators__
            for name in [*decorators.model_validators, *decorators.field_validators]:
                found.add((annotation.__name__, name))
            for info in annotation.model_fields.values():
                walk(info.annotation)

    for model in KINDS.values():
        walk(model)
    assert found == KNOWN_VALIDATORS, "mirror new validators in CROSS_FIELD_RULES, then list them here"


def _no_expression(document: Any) -> bool:
    return "${{" not in json.dumps(document, ensure_ascii=False)


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_documents_are_accepted_by_the_model(kind: str) -> None:
    rules = CROSS_FIELD_RULES.get(kind, lambda document: True)

    @SCHEMA
    @given(from_schema(generation_schema(kind)))
    def accepted(document: dict[str, Any]) -> None:
        assume(rules(document))
        KINDS[kind].model_validate(document)
        # The same document, written as JSON (a YAML 1.2 subset), passes the whole
        # front end: loader and validator, with no finding at all.
        assume(_no_expression(document))
        source = load_text(as_json(document), "spec.json")
        assert not source.diagnostics
        assert source.documents[0].data == document
        spec, findings = validate(source.documents[0])
        assert not findings
        assert spec is not None
        assert spec.model is not None

    accepted()


# --- 3. JSON is YAML 1.2 -------------------------------------------------------------------

# YAML does not allow the first group of characters unescaped, and JSON writers
# do not escape them; JSON's surrogate-pair escapes (`\ud83d\ude00`) are not YAML,
# so astral characters stay as they are. libyaml reads the second group (NEL,
# LINE SEPARATOR, PARAGRAPH SEPARATOR) as line breaks, as YAML 1.1 does: in a
# quoted string they would fold into a space (YAML 1.2 keeps them as text).
_NOT_PRINTABLE = re.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff]|[\x85\u2028\u2029]")


def as_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return _NOT_PRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@FUZZ
@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_json_documents_load_to_the_same_data(document: dict[str, Any]) -> None:
    assume(_no_expression(document))
    assume(all(abs(value) < 10**4000 for value in _numbers(document) if isinstance(value, int)))
    text = as_json(document)
    source = load_text(text, "spec.json")
    assert not source.diagnostics
    if document:
        assert source.documents[0].data == document
        assert _types(source.documents[0].data) == _types(document)


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _types(value: Any) -> Any:
    """The shape with types, so that 1 == 1.0 == True do not hide a wrong type."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    if isinstance(value, float) and math.isfinite(value):
        return ("float", value)
    return (type(value).__name__, value)
