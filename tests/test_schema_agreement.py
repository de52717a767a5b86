"""The published JSON Schemas and the pydantic models agree, checked with Hypothesis (moved out of
tests/test_properties.py, whose loader properties stay there).

Every document hypothesis-jsonschema generates from `compiler.commands.schema.kind_schema(kind)` (with its
`$defs` references) is accepted by the model, except where a rule cannot be written in JSON Schema (listed
in CROSS_FIELD_RULES and filtered out with `assume`); the same document written as JSON passes the loader
and the validator with no finding.
"""

from __future__ import annotations

import copy
import itertools
import types
import typing
from collections.abc import Callable
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema, from_schema
from hypothesis_jsonschema._encode import encode_canonical_json
from test_properties import as_json, no_expression

from compiler.commands.schema import kind_schema
from compiler.core.metrics import FAIRNESS, PERFORMANCE, TASKS
from compiler.core.models import KINDS
from compiler.stages.read.load import load_text
from compiler.stages.validate.specs import validate

SCHEMA = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    database=None,
)


# --- hypothesis-jsonschema on this Hypothesis ---------------------------------------
#
# hypothesis-jsonschema 0.23.1 (the latest release) calls `many.more()`, a private
# Hypothesis API that later Hypothesis releases (6.170 here) replaced with an iterator; without this
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
    # The same schema object comes back on most draws: look it up by identity
    # (keeping it alive, so that its id is not reused) before encoding it.
    by_identity: dict[tuple[int, int, int], tuple[Any, Any]] = {}

    def cached(schema: Any, *, alphabet: Any, custom_formats: Any) -> Any:
        fast = (id(schema), id(alphabet), id(custom_formats))
        if fast in by_identity and by_identity[fast][0] is schema:
            return by_identity[fast][1]
        key = (encode_canonical_json(schema), id(alphabet), id(custom_formats))
        if key not in cache:
            cache[key] = original(schema, alphabet=alphabet, custom_formats=custom_formats)
        by_identity[fast] = (schema, cache[key])
        return cache[key]

    cached.cached = True  # type: ignore[attr-defined]
    setattr(_from_schema, "__from_schema", cached)


_adapt_hypothesis_jsonschema()

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
    for name, alternatives in EXPRESSIBLE_RULES.items():
        if name in schema["$defs"]:
            schema["$defs"][name] = _alternatives(schema["$defs"][name], alternatives)
    return schema


Alternative = dict[str, Any]  # property -> schema it must match; "!" prefix: also required


def _alternatives(definition: dict[str, Any], alternatives: list[list[Alternative]]) -> dict[str, Any]:
    """`definition` as an `anyOf` of whole variants, one per combination of alternatives.

    A rule such as "`kubernetes` needs `image`" could be written as an `anyOf`
    of small schemas beside the properties, but hypothesis-jsonschema then
    generates and filters, slowly; whole variants are generated directly.
    """
    variants = []
    for combination in itertools.product(*alternatives):
        variant = copy.deepcopy(definition)
        for patch in combination:
            for field, schema in patch.items():
                name = field.removeprefix("!")
                variant["properties"][name] = schema
                if field.startswith("!"):
                    variant["required"] = sorted({*variant.get("required", []), name})
        variants.append(variant)
    return {"anyOf": variants}


def _non_null(kind: str, name: str, definition: str) -> dict[str, Any]:
    """The non-null branch of an optional property, as the published schema has it."""
    schema = kind_schema(kind)["$defs"][definition]["properties"][name]
    branches = [branch for branch in schema.get("anyOf", [schema]) if branch.get("type") != "null"]
    assert len(branches) == 1, schema
    return {"anyOf": branches}


_UNIT = {"type": "number", "minimum": 0, "maximum": 1}  # inside the range of every metric
_UNIT_OR_NULL = {"anyOf": [_UNIT, {"type": "null"}]}
_TASKS_WITH_LABELS = [task for task in TASKS if task != "generation"]
_BOUNDS = [[{"!min": _UNIT, "max": _UNIT_OR_NULL}, {"min": _UNIT_OR_NULL, "!max": _UNIT}]]
# Cross-field rules of the models that JSON Schema *can* state, stated: each
# definition becomes the variants that satisfy them (the published schemas could
# carry these too, so that editors flag them). Rules JSON Schema cannot state are
# filtered with `assume` (CROSS_FIELD_RULES below), which also re-checks these.
EXPRESSIBLE_RULES: dict[str, list[list[Alternative]]] = {
    "ModelSpec": [
        [  # "task X needs `label`"
            {"task": {"const": "generation"}},
            {"task": {"enum": _TASKS_WITH_LABELS}, "!label": _non_null("Model", "label", "ModelSpec")},
        ],
        [  # "deployments need `serving`"
            {"deployments": {"type": "array", "maxItems": 0}},
            {"!serving": _non_null("Model", "serving", "ModelSpec")},
        ],
    ],
    "Serving": [  # "runtime `kubernetes` needs `image`"
        [
            {"runtime": {"const": "kserve"}},
            {"runtime": {"const": "kubernetes"}, "!image": _non_null("Model", "image", "Serving")},
        ]
    ],
    "DeploymentConfig": [  # "mode `gitops` needs `repoUrl`"
        [
            {"mode": {"const": "push"}},
            {"mode": {"const": "gitops"}, "!repoUrl": _non_null("Project", "repoUrl", "DeploymentConfig")},
        ]
    ],
    "MetricBound": _BOUNDS,  # "needs `min` or `max`"
    "FairnessCheck": _BOUNDS,
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
        if item.get("k") is not None and item["metric"] != "ndcg":
            return False  # "`k` goes with `ndcg` only"
        crossed = [item.get("sensitiveFeature"), *(item.get("intersectWith") or [])]
        if "intersectWith" in item and len(set(crossed)) < len(crossed):
            return False  # "`intersectWith` names each feature once, and not the sensitive feature itself"
        bins = item.get("bins") or []
        if any(b <= a for a, b in itertools.pairwise(bins)):
            return False  # "`bins` must be strictly ascending"
    return True


def _model_rules(document: dict[str, Any]) -> bool:
    spec = document["spec"]
    if spec["task"] != "generation" and spec.get("label") is None:
        return False  # "task X needs `label`"
    serving = spec.get("serving")
    if serving is not None and serving["runtime"] == "kubernetes" and serving.get("image") is None:
        return False  # "runtime `kubernetes` needs `image`"
    if (
        serving is not None
        and serving["runtime"] == "kubernetes"
        and ("servingRuntime" in serving or "protocolVersion" in serving)
    ):
        return False  # "`servingRuntime` and `protocolVersion` are KServe's"
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
        if deployment.get("canary") is not None and deployment.get("rollout") is not None:
            return False  # "choose `canary` or `rollout`, not both"
        if deployment.get("rollout") is not None and not _rollout_ok(deployment["rollout"]):
            return False
    training = spec.get("training")
    if training is not None and (training.get("orchestrator", "github-actions") == "github-actions") == (
        training.get("environment") is not None
    ):
        return False  # "`orchestrator: X` runs in a cluster: name its `environment`" / "`environment` is where..."
    retrain = (spec.get("monitoring") or {}).get("retrain")
    if retrain is not None and not _something_starts(retrain):
        return False  # "`retrain` needs a `schedule` or at least one of `triggers`"
    drift = (spec.get("monitoring") or {}).get("drift")
    # "`method: auto` chooses each column's threshold" / "`method: X` needs a `threshold`"
    return drift is None or (drift.get("method", "psi") == "auto") != (drift.get("threshold") is not None)


def _something_starts(retrain: dict[str, Any]) -> bool:
    triggers = retrain.get("triggers") or {}
    return retrain.get("schedule") is not None or bool(
        triggers.get("drift") or triggers.get("performanceDrop") is not None or triggers.get("dataVersion")
    )


def _rollout_ok(rollout: dict[str, Any]) -> bool:
    weights = [step["weight"] for step in rollout["steps"]]
    if any(b <= a for a, b in itertools.pairwise(weights)):
        return False  # "rollout step weights must increase"
    analysis = rollout["analysis"]
    interval = analysis.get("intervalMinutes", 1)
    if any(step.get("pauseMinutes", 5) < interval for step in rollout["steps"]):
        return False  # "every step's `pauseMinutes` must be at least the analysis `intervalMinutes`"
    metrics = analysis.get("metrics") or []
    names = [metric["name"] for metric in metrics]
    if {"error-rate", "latency"} & set(names) or len(set(names)) != len(names):
        return False  # "online metric name X is Charter's own" / "online metric names must be unique"
    for metric in metrics:
        low, high = metric.get("min"), metric.get("max")
        if (low is None and high is None) or (low is not None and high is not None and low > high):
            return False  # "needs `min`, `max` or both" / "`min` is above `max`"
    experiment = rollout.get("experiment")
    return experiment is None or experiment["metric"] in names  # "experiment metric X is not in analysis.metrics"


def _environment_rules(document: dict[str, Any]) -> bool:
    for toleration in (document["spec"].get("scheduling") or {}).get("tolerations") or []:
        exists = toleration.get("operator", "Equal") == "Exists"
        if (exists and toleration.get("value") is not None) or (toleration.get("key") is None and not exists):
            return (
                False  # "`operator: Exists` takes no `value`" / "a toleration without `key` needs `operator: Exists`"
            )
    return True


def _suite_rules(document: dict[str, Any]) -> bool:
    spec = document["spec"]
    return _bounds_ok(spec["metrics"], PERFORMANCE) and _bounds_ok(spec.get("fairness") or [], FAIRNESS)


def _endpoint_rules(endpoints: dict[str, Any]) -> bool:
    for entry in endpoints.get("s3") or []:
        plain = entry["url"].startswith("http://")
        if plain != (entry.get("tls") == "disabled"):
            return False  # "an `http://` endpoint needs `tls: disabled`, and `tls: disabled` an `http://` url"
        if entry.get("tls") == "disabled" and entry.get("reason") is None:
            return False  # "`tls: disabled` needs a `reason`"
    for entry in [*(endpoints.get("postgres") or []), *(endpoints.get("redshift") or [])]:
        tls, auth = entry.get("tls", "verify-full"), entry.get("auth", "scram-sha-256")
        if (tls != "verify-full" or auth != "scram-sha-256") and entry.get("reason") is None:
            return False  # "a host with weaker `tls` or `auth` needs a `reason`"
    return True


def _project_rules(document: dict[str, Any]) -> bool:
    spec = document.get("spec") or {}
    deployment = spec.get("deployment") or {}
    if deployment.get("mode") == "gitops" and deployment.get("repoUrl") is None:
        return False  # "needs `repoUrl`"
    return _endpoint_rules(spec.get("endpoints") or {})


# The models' `model_validator`s: rules across fields that the generated JSON
# Schemas do not state. Some could be stated (`anyOf` of required `min`/`max`,
# `if`/`then` for `kubernetes` needing `image` or `gitops` needing `repoUrl`);
# `min <= max` and unique environments across items cannot.
CROSS_FIELD_RULES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "Project": _project_rules,
    "Model": _model_rules,
    "EvaluationSuite": _suite_rules,
    "Environment": _environment_rules,
}
# Every validator the rules above stand for: a new one needs a rule here too.
KNOWN_VALIDATORS = {
    ("DeploymentConfig", "_repo_for_gitops"),
    ("ModelSpec", "_consistent"),
    ("Serving", "_image_for_kubernetes"),
    ("Autoscaling", "_ordered"),
    ("MetricBound", "_bounds"),
    ("FairnessCheck", "_bounds"),
    ("TrustedUrl", "_plain_http_is_explicit"),
    ("TrustedHost", "_weaker_settings_have_a_reason"),
    ("Drift", "_threshold"),
    ("Deployment", "_one_strategy"),
    ("RolloutStrategy", "_increasing"),
    ("OnlineMetric", "_bounded"),
    ("Analysis", "_unique"),
    ("Toleration", "_consistent"),
    ("Training", "_where"),
    ("Retrain", "_something_starts_it"),
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
        assume(no_expression(document))
        source = load_text(as_json(document), "spec.json")
        assert not source.diagnostics
        assert source.documents[0].data == document
        spec, findings = validate(source.documents[0])
        assert not findings
        assert spec is not None
        assert spec.model is not None

    accepted()
