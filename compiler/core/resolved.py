"""What resolution produced: each spec indexed by kind and name, each model linked to what it refers to.

The resolve stage (compiler/stages/resolve.py) builds it; the evidence, the policy views, the render stage,
the gates and the report read it, so it lives in the core that all of them import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.core.diagnostics import Diagnostic
from compiler.core.invalid import Invalid
from compiler.core.specs import Spec


@dataclass
class ModelLinks:
    """What one model refers to, resolved."""

    training: Spec | None = None
    validation: Spec | None = None
    suite: Spec | None = None
    environments: dict[str, Spec] = field(default_factory=dict)


@dataclass
class Resolved:
    specs: list[Spec]
    by_kind: dict[str, dict[str, Spec]]
    links: dict[str, ModelLinks]
    diagnostics: list[Diagnostic]
    suite_datasets: dict[str, Spec] = field(default_factory=dict)
    # Specs a reference of which did not land (on nothing, on several, or on a document that failed
    # validation), by (file, document index): policies do not judge them on half their facts.
    unresolved: set[tuple[str, int]] = field(default_factory=set)
    invalid: list[Invalid] = field(default_factory=list)  # documents that failed validation
    _users: dict[int, list[str]] | None = field(default=None, repr=False)
    _contracts: dict[str | None, list[Spec]] | None = field(default=None, repr=False)

    def contracts_named(self, name: object) -> list[Spec]:
        """The contracts whose id or name equals `name` (None: those without a name), in the order of `specs`;
        the index is built on first use (evidence records name their contract: a scan of every spec for each
        record made the evidence stage quadratic)."""
        if self._contracts is None:
            self._contracts = {}
            for spec in self.specs:
                if spec.contract is not None:
                    for key in dict.fromkeys((spec.contract.id, spec.contract.name)):
                        self._contracts.setdefault(key, []).append(spec)
        return self._contracts.get(name, []) if name is None or isinstance(name, str) else []

    def get(self, kind: str, name: str) -> Spec | None:
        return self.by_kind.get(kind, {}).get(name)

    def users_of(self, spec: Spec) -> list[str]:
        """Names of the models that refer to `spec`, sorted; the index is built on first use."""
        if self._users is None:
            index: dict[int, set[str]] = {}
            for name, links in self.links.items():
                for target in (links.training, links.validation, links.suite, *links.environments.values()):
                    if target is not None:
                        index.setdefault(id(target), set()).add(name)
            self._users = {key: sorted(names) for key, names in index.items()}
        return self._users.get(id(spec), [])
