"""What policy expressions see: a spec and what it refers to, as plain data.

Charter kinds are dumped from their models, so every optional field is
present (as null or its default) and expressions need fewer `has()` guards.
Contracts keep their ODCS fields and gain `columns`, a flat list of every
column with its table, for rules such as "no PII column is a feature".
"""

from __future__ import annotations

from typing import Any

from compiler.resolve import Resolved
from compiler.specs import Spec


def view(spec: Spec | None) -> Any:
    if spec is None:
        return None
    if spec.model is not None:
        return spec.model.model_dump(mode="json", by_alias=True)
    data = dict(spec.data)
    contract = spec.contract
    if contract is not None:
        data["columns"] = [
            {
                "name": column.name,
                "table": column.table,
                "logicalType": column.logical_type,
                "required": column.required,
                "unique": column.unique,
                "classification": column.classification,
                "tags": list(column.tags),
                "hasQuality": column.has_quality,
            }
            for column in contract.columns
        ]
    return data


def spec_context(spec: Spec | None, resolved: Resolved) -> dict[str, Any]:
    if spec is None:
        return {}
    return {"object": view(spec), "kind": spec.kind, "name": spec.name, "related": _related(spec, resolved)}


def _related(spec: Spec, resolved: Resolved) -> dict[str, Any]:
    if spec.kind == "Model":
        links = resolved.links.get(spec.name)
        if links is None:
            return {"training": None, "validation": None, "suite": None, "evaluationData": None, "environments": []}
        suite_dataset = resolved.suite_datasets.get(links.suite.name) if links.suite else None
        return {
            "training": view(links.training),
            "validation": view(links.validation),
            "suite": view(links.suite),
            "evaluationData": view(suite_dataset),
            "environments": [view(env) for env in links.environments.values()],
        }
    users = _users(spec, resolved)
    if spec.kind == "EvaluationSuite":
        return {"dataset": view(resolved.suite_datasets.get(spec.name)), "models": users}
    return {"models": users}


def _users(spec: Spec, resolved: Resolved) -> list[Any]:
    """The models that refer to this spec, as views."""
    models = []
    for name, links in sorted(resolved.links.items()):
        targets = [links.training, links.validation, links.suite, *links.environments.values()]
        if any(target is spec for target in targets):
            models.append(view(resolved.get("Model", name)))
    return models
