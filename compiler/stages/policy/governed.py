"""Judge one revision's specs by another revision's governance: the base decides.

In a pull request the rules that judge a change live in the change (THREATS.md, "Governance is part of the
pull request"): a policy's expression, a pack, a parameter, a severity override, a waiver, and the labels and
tiers a policy's `match` and bounds rely on. `Governance` holds what the **base** revision decides with; a
check given one (`pipeline.check(sources, today, governance=...)`) loads the head's specs as usual, then
evaluates them under the base's Project, policies and waivers, with the base's classification of every spec
the base knows (a Model's labels and risk tier, an Environment's tier and labels). What that check finds and
the head's own check does not is a governance change (`compiler.plan.crossed`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from compiler.core.documents import Document
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.project import Project
from compiler.core.specs import Spec

GOVERNANCE_KINDS = frozenset({"Project", "Policy", "Waiver"})
"""Kinds that decide how specs are judged: the head's are set aside, the base's take their place."""

Key = tuple[str, str]


@dataclass(frozen=True)
class Classification:
    """What a policy's `match` and bounds read of a spec besides its body: its labels and its tier."""

    labels: Mapping[str, str] = field(default_factory=dict)
    tier: str | None = None  # a Model's `riskTier`, an Environment's `tier`


@dataclass(frozen=True)
class Governance:
    """The governance of one revision: its Project, the policies it evaluates, its waivers, its classification."""

    project: Project | None
    specs: tuple[Spec, ...]  # the revision's own Project, Policy and Waiver specs
    policies: tuple[Spec, ...]  # every Policy the revision evaluates (its files, its directories, its packs)
    classes: Mapping[Key, Classification]

    @classmethod
    def of(cls, project: Project | None, specs: Sequence[Spec], policies: Sequence[Spec]) -> Governance:
        own = tuple(spec for spec in specs if spec.kind in GOVERNANCE_KINDS)
        classes = {(spec.kind, spec.name): found for spec in specs if (found := classification(spec)) is not None}
        return cls(project, own, tuple(policies), classes)

    def judge(self, specs: Sequence[Spec]) -> list[Spec]:
        """`specs` without their governance, classified as this revision classifies them, plus its governance."""
        judged = [self._classified(spec) for spec in specs if spec.kind not in GOVERNANCE_KINDS]
        return [*judged, *self.specs]

    def _classified(self, spec: Spec) -> Spec:
        decided = self.classes.get((spec.kind, spec.name))
        mine = classification(spec)
        if decided is None or mine is None or (decided.tier == mine.tier and _covers(mine.labels, decided.labels)):
            return spec
        return reclassified(spec, decided)


def classification(spec: Spec) -> Classification | None:
    model = spec.model
    if isinstance(model, Model):
        return Classification(dict(model.metadata.labels), model.spec.risk_tier)
    if isinstance(model, Environment):
        return Classification(dict(model.metadata.labels), model.spec.tier)
    return None


def _covers(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


def reclassified(spec: Spec, decided: Classification) -> Spec:
    """The spec with the deciding revision's labels on top of its own, and its tier: body and places unchanged."""
    model = spec.model
    assert isinstance(model, (Model, Environment))
    labels = {**model.metadata.labels, **decided.labels}
    metadata = model.metadata.model_copy(update={"labels": labels})
    tier_field = "risk_tier" if isinstance(model, Model) else "tier"
    body = model.spec.model_copy(update={tier_field: decided.tier})
    data = _reclassified_data(spec.data, labels, "riskTier" if isinstance(model, Model) else "tier", decided.tier)
    document = Document(spec.file, spec.document.index, data, None, spec.document.text)
    return replace(spec, document=document, model=model.model_copy(update={"metadata": metadata, "spec": body}))


def _reclassified_data(data: Any, labels: Mapping[str, str], tier_key: str, tier: str | None) -> Any:
    """The raw document with the labels and tier replaced (labels are matched on the raw document)."""
    if not isinstance(data, dict):
        return data
    out = copy.copy(data)
    metadata = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), dict) else {}
    metadata["labels"] = dict(labels)
    out["metadata"] = metadata
    if isinstance(out.get("spec"), dict) and tier is not None:
        out["spec"] = {**out["spec"], tier_key: tier}
    return out
