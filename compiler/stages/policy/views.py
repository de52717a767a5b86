"""What policy expressions see: a spec and what it refers to, as plain data.

Charter kinds are dumped from their models, so every optional field is
present (as null or its default) and expressions need fewer `has()` guards.
Contracts keep their ODCS fields and gain `columns`, a flat list of every
column with its table, for rules such as "no PII column is a feature".
"""

from __future__ import annotations

from typing import Any

from compiler.core.resolved import Resolved
from compiler.core.specs import Spec
from compiler.evidence.store import EvidenceByModel, policy_view


class Views:
    """Views of the specs of one run, each built once: many specs share a contract or an environment."""

    def __init__(self, resolved: Resolved, evidence: EvidenceByModel | None = None):
        self.resolved = resolved
        self.evidence = evidence or {}
        self._views: dict[int, Any] = {}

    def of(self, spec: Spec | None) -> Any:
        if spec is None:
            return None
        key = id(spec)
        if key not in self._views:
            self._views[key] = _build(spec)
        return self._views[key]

    def context(self, spec: Spec | None) -> dict[str, Any]:
        if spec is None:
            return {}
        return {"object": self.of(spec), "kind": spec.kind, "name": spec.name, "related": self._related(spec)}

    def size(self, spec: Spec) -> int:
        """About how many views `context(spec)` holds: what converting it into the engine costs."""
        if spec.kind == "Model":
            links = self.resolved.links.get(spec.name)
            return 1 if links is None else 5 + len(links.environments)
        return 2 + len(self.resolved.users_of(spec))

    def _related(self, spec: Spec) -> dict[str, Any]:
        resolved = self.resolved
        if spec.kind == "Model":
            links = resolved.links.get(spec.name)
            evidence = policy_view(self.evidence.get(spec.name))
            if links is None:
                return {
                    "training": None,
                    "validation": None,
                    "suite": None,
                    "evaluationData": None,
                    "environments": [],
                    "evidence": evidence,
                }
            suite_dataset = resolved.suite_datasets.get(links.suite.name) if links.suite else None
            return {
                "training": self.of(links.training),
                "validation": self.of(links.validation),
                "suite": self.of(links.suite),
                "evaluationData": self.of(suite_dataset),
                "environments": [self.of(env) for env in links.environments.values()],
                "evidence": evidence,
            }
        users = [self.of(resolved.get("Model", name)) for name in resolved.users_of(spec)]
        if spec.kind == "EvaluationSuite":
            return {"dataset": self.of(resolved.suite_datasets.get(spec.name)), "models": users}
        return {"models": users}


def _build(spec: Spec) -> Any:
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
