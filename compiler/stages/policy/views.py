"""What policy expressions see: a spec and what it refers to, as plain data.

Charter kinds are dumped from their models, so every optional field is
present (as null or its default) and expressions need fewer `has()` guards.
Contracts keep their ODCS fields and gain `columns`, a flat list of every
column with its table, for rules such as "no PII column is a feature".
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass
from typing import Any

from compiler.core.resolved import Resolved
from compiler.core.specs import Spec
from compiler.evidence.store import EvidenceByModel, policy_view

MODEL_RELATED = ("training", "validation", "suite", "evaluationData", "environments", "evidence")
SUITE_RELATED = ("dataset", "models")
USERS_RELATED = ("models",)
_RECORD_BYTES = 256
"""About what one evidence record's view holds, beside the names of what changed since it was measured."""


def related_keys(kind: str) -> tuple[str, ...]:
    """The keys of `related` for a spec of this kind, in the order `Views.related_values` gives their values."""
    if kind == "Model":
        return MODEL_RELATED
    return SUITE_RELATED if kind == "EvaluationSuite" else USERS_RELATED


@dataclass(frozen=True, slots=True)
class _Evidence:
    model: str


_Source = Spec | tuple[Spec | None, ...] | _Evidence | None
"""Where a value of `related` comes from: a spec, a list of them, or a model's evidence."""


class Views:
    """Views of the specs of one run, each built once: many specs share a contract or an environment.

    The same spec gives the same view object, and the same specs (the environments models deploy to) the same
    list, so that a batch of specs converts each into the engine once (`compiler.stages.policy.batches`).
    """

    def __init__(self, resolved: Resolved, evidence: EvidenceByModel | None = None):
        self.resolved = resolved
        self.evidence = evidence or {}
        self._views: dict[int, Any] = {}
        self._lists: dict[tuple[int, ...], list[Any]] = {}

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
        related = dict(zip(related_keys(spec.kind), self.related_values(spec), strict=True))
        return {"object": self.of(spec), "kind": spec.kind, "name": spec.name, "related": related}

    def size(self, spec: Spec) -> int:
        """About how many views `context(spec)` holds: what converting it into the engine costs."""
        if spec.kind == "Model":
            links = self.resolved.links.get(spec.name)
            return 1 if links is None else 5 + len(links.environments)
        return 2 + len(self.resolved.users_of(spec))

    def related_values(self, spec: Spec, wanted: Collection[str] | None = None) -> list[Any]:
        """The values of the spec's `related`, in `related_keys` order; with `wanted`, null for other keys."""
        sources = self._sources(spec)
        if wanted is None:
            return [self._value(source) for source in sources]
        keys = related_keys(spec.kind)
        return [self._value(source) if key in wanted else None for key, source in zip(keys, sources, strict=True)]

    def weighed(self, spec: Spec) -> list[tuple[Hashable, int]]:
        """What converting the spec's context costs, part by part, without building a view: for its view, then
        each value of its `related`, a key (the same for the same part) and about how many bytes of text the
        part comes from (a spec's whole file: an upper bound)."""
        parts: list[tuple[Hashable, int]] = [(id(spec), _text_bytes(spec))]
        for source in self._sources(spec):
            if isinstance(source, _Evidence):
                entry = self.evidence.get(source.model)
                records = entry.records.values() if entry is not None else ()
                weight = sum(_RECORD_BYTES + sum(map(len, record.changed)) for record in records)
                parts.append((f"evidence:{source.model}", weight))
            elif isinstance(source, tuple):
                parts.append((tuple(map(id, source)), sum(map(_text_bytes, source))))
            else:
                parts.append((id(source), _text_bytes(source)))
        return parts

    def _sources(self, spec: Spec) -> list[_Source]:
        resolved = self.resolved
        if spec.kind == "Model":
            links = resolved.links.get(spec.name)
            evidence = _Evidence(spec.name)
            if links is None:
                return [None, None, None, None, (), evidence]
            suite_dataset = resolved.suite_datasets.get(links.suite.name) if links.suite else None
            environments = tuple(links.environments.values())
            return [links.training, links.validation, links.suite, suite_dataset, environments, evidence]
        users = tuple(resolved.get("Model", name) for name in resolved.users_of(spec))
        if spec.kind == "EvaluationSuite":
            return [resolved.suite_datasets.get(spec.name), users]
        return [users]

    def _value(self, source: _Source) -> Any:
        if isinstance(source, _Evidence):
            return policy_view(self.evidence.get(source.model))
        if isinstance(source, tuple):
            return self._list(source)
        return self.of(source)

    def _list(self, specs: tuple[Spec | None, ...]) -> list[Any]:
        """The views of these specs as one list: the same list for the same specs."""
        key = tuple(map(id, specs))
        if key not in self._lists:
            self._lists[key] = [self.of(spec) for spec in specs]
        return self._lists[key]


def _text_bytes(spec: Spec | None) -> int:
    """The length of the text a spec's view comes from: its whole file's (an upper bound)."""
    return 0 if spec is None else len(spec.document.text)


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
