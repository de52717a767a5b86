"""What refers to what, by kind and field, and how a policy's labels match a spec: defined once.

Resolve (`stages/resolve.py`: every reference lands), the report's lineage, changed-only scope
(`gitops/scope.py`), breaking changes (`plan/rules.py`) and the policy engine's matching
(`stages/check.py`) read this module, so a new reference field is one line here: add it to the
function of its kind below, with the path of the field in the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.core.diagnostics import PathSegment
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.common import DataRef
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.project import Project
from compiler.core.models.suite import EvaluationSuite
from compiler.core.models.waiver import Waiver
from compiler.core.specs import Spec


@dataclass(frozen=True, slots=True)
class Reference:
    """A field of one spec that names another: the kind it names, the name, and where the field is."""

    kind: str
    name: str
    path: tuple[PathSegment, ...]
    data: DataRef | None = None  # a contract reference: also its version and server


def references(spec: Spec) -> Iterator[Reference]:
    """Every reference a spec makes, in field order."""
    kind_references = _BY_KIND.get(spec.kind)
    if kind_references is not None:
        yield from kind_references(spec.model)


def _data(ref: DataRef | None, *path: PathSegment) -> Iterator[Reference]:
    if ref is not None:
        yield Reference(CONTRACT_KIND, ref.contract, (*path, "contract"), ref)


def _model(model: Any) -> Iterator[Reference]:
    if not isinstance(model, Model):
        return
    body = model.spec
    yield from _data(body.data.training, "spec", "data", "training")
    yield from _data(body.data.validation, "spec", "data", "validation")
    yield from _data(body.data.production, "spec", "data", "production")
    if body.monitoring is not None:
        yield from _data(body.monitoring.reference, "spec", "monitoring", "reference")
        if body.monitoring.performance is not None:
            yield from _data(body.monitoring.performance.data, "spec", "monitoring", "performance", "data")
    yield Reference("EvaluationSuite", body.evaluation.suite, ("spec", "evaluation", "suite"))
    if body.training.environment is not None:
        yield Reference("Environment", body.training.environment, ("spec", "training", "environment"))
    for index, deployment in enumerate(body.deployments):
        yield Reference("Environment", deployment.environment, ("spec", "deployments", index, "environment"))


def _suite(model: Any) -> Iterator[Reference]:
    if isinstance(model, EvaluationSuite):
        yield from _data(model.spec.dataset, "spec", "dataset")


def _environment(model: Any) -> Iterator[Reference]:
    if isinstance(model, Environment) and model.spec.promotes_from is not None:
        yield Reference("Environment", model.spec.promotes_from, ("spec", "promotesFrom"))


def _waiver(model: Any) -> Iterator[Reference]:
    if isinstance(model, Waiver):
        yield Reference(model.spec.target.kind, model.spec.target.name, ("spec", "target", "name"))
        yield Reference("Policy", model.spec.policy, ("spec", "policy"))


def _project(model: Any) -> Iterator[Reference]:
    """The policies a Project tunes: `severityOverrides` keys (`policy` or `policy/rule`) and `params` keys."""
    if isinstance(model, Project):
        settings = model.spec.policies
        for key in settings.severity_overrides:
            yield Reference("Policy", key.split("/", 1)[0], ("spec", "policies", "severityOverrides", key))
        for key in settings.params:
            yield Reference("Policy", key, ("spec", "policies", "params", key))


@dataclass(frozen=True, slots=True)
class ColumnReference:
    """A field of one spec that names a column of a contract it refers to (`contract`)."""

    column: str
    path: tuple[PathSegment, ...]
    contract: Reference


def column_references(spec: Spec) -> Iterator[ColumnReference]:
    """Every column a spec names, in field order: a model's in its training contract, a suite's in its dataset."""
    model = spec.model
    if isinstance(model, Model):
        body = model.spec
        (data,) = _data(body.data.training, "spec", "data", "training")
        named: list[tuple[str, tuple[PathSegment, ...]]] = [
            (name, ("spec", "features", i)) for i, name in enumerate(body.features)
        ]
        if body.label is not None:
            named.append((body.label, ("spec", "label")))
        named += [(name, ("spec", "sensitiveFeatures", i)) for i, name in enumerate(body.sensitive_features)]
        if body.monitoring is not None:
            drift = body.monitoring.drift.features
            named += [(name, ("spec", "monitoring", "drift", "features", i)) for i, name in enumerate(drift)]
    elif isinstance(model, EvaluationSuite):
        (data,) = _data(model.spec.dataset, "spec", "dataset")
        named = [
            (check.sensitive_feature, ("spec", "fairness", i, "sensitiveFeature"))
            for i, check in enumerate(model.spec.fairness)
        ]
        named += [
            (name, ("spec", "fairness", i, "intersectWith", j))
            for i, check in enumerate(model.spec.fairness)
            for j, name in enumerate(check.intersect_with)
        ]
        named += [(piece.feature, ("spec", "slices", i, "feature")) for i, piece in enumerate(model.spec.slices)]
    else:
        return
    for name, path in named:
        yield ColumnReference(name, path, data)


_BY_KIND: dict[str, Callable[[Any], Iterator[Reference]]] = {
    "Model": _model,
    "EvaluationSuite": _suite,
    "Environment": _environment,
    "Waiver": _waiver,
    "Project": _project,
}


def labels_match(wanted: Mapping[str, str], target: Spec) -> bool:
    """A policy's `match.labels` against a spec's `metadata.labels`: every wanted label, with its value."""
    if not wanted:  # most policies: asked for every (spec, policy) pair of a check
        return True
    metadata = target.data.get("metadata") if isinstance(target.data, dict) else None
    labels = metadata.get("labels", {}) if isinstance(metadata, dict) else {}
    labels = labels if isinstance(labels, dict) else {}
    return all(labels.get(key) == value for key, value in wanted.items())
