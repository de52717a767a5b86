"""The fingerprint of what a gate judged: the model spec, its contracts, its suite and the policy set.

Each part is the SHA-256 of the document's data as canonical JSON (sorted keys, no
whitespace), so a comment or a re-indented file leaves evidence current while any change
of a value (a bound, a column, a policy parameter) makes it stale. The parts are kept
separately so that a card can say *what* changed since the evidence was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compiler.core.canonical import sha256
from compiler.core.models.project import Project
from compiler.core.resolved import Resolved
from compiler.core.specs import Spec

# Part names, in the order people read them. `model-identity` covers what the model is (its version, task, data,
# features, label, training and serving), not how it is deployed or monitored: evidence of one model is no
# evidence of another (compiler/evidence/verify.py), while a replica count may change under it.
IDENTITY_FIELDS = ("task", "version", "data", "features", "label", "sensitiveFeatures", "training", "serving")
PARTS = ("model", "model-identity", "suite", "training-data", "validation-data", "evaluation-data", "policies")


@dataclass(frozen=True, slots=True)
class Judged:
    """`digest` covers every part; `parts` maps a part name to its own digest."""

    digest: str
    parts: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "parts": dict(self.parts)}


def judged_by_model(
    resolved: Resolved,
    model_name: str,
    policies: Sequence[Spec],
    project: Project | None,
    *,
    policy_digest: str | None = None,
) -> Judged | None:
    """What the gates of `model_name` judge today; None when no such model resolves.

    `policy_digest`: `policy_set_digest(policies, project)` when the caller has it (one per run, not per model).
    Each spec's part is its document's digest, taken once where the document was read (`Document.digest`): a
    contract that trains and evaluates a model, or that many models share, is serialised once.
    """
    model = resolved.get("Model", model_name)
    if model is None:
        return None
    links = resolved.links.get(model_name)
    suite = links.suite if links is not None else None
    documents: dict[str, Spec | None] = {
        "model": model,
        "suite": suite,
        "training-data": links.training if links is not None else None,
        "validation-data": links.validation if links is not None else None,
        "evaluation-data": resolved.suite_datasets.get(suite.name) if suite is not None else None,
    }
    parts = {name: spec.document.digest for name, spec in documents.items() if spec is not None}
    parts = {"model": parts.pop("model"), "model-identity": sha256(model_identity(model.data)), **parts}
    parts["policies"] = policy_digest or policy_set_digest(policies, project)
    return Judged(sha256(parts), parts)


def model_identity(data: Any) -> dict[str, Any]:
    """The fields of a model's spec that say which model it is (IDENTITY_FIELDS), as written."""
    document = data if isinstance(data, dict) else {}
    metadata, spec = document.get("metadata"), document.get("spec")
    body = spec if isinstance(spec, dict) else {}
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return {"name": name} | {key: body.get(key) for key in IDENTITY_FIELDS}


def judged_by_contract(contract: Spec, policies: Sequence[Spec], project: Project | None) -> Judged:
    """What the data gate judges when no model is named: the contract and the policy set."""
    parts = {"training-data": contract.document.digest, "policies": policy_set_digest(policies, project)}
    return Judged(sha256(parts), parts)


def policy_set_digest(policies: Sequence[Spec], project: Project | None) -> str:
    """Every policy in force (built-in packs and the organisation's) and the Project's settings for them."""
    settings: dict[str, Any] = {}
    if project is not None:
        settings = project.spec.policies.model_dump(mode="json", by_alias=True)
    in_force = {spec.name: spec.document.digest for spec in policies}
    return sha256({"policies": dict(sorted(in_force.items())), "settings": settings})


def changed_parts(recorded: dict[str, str], today: Judged) -> list[str]:
    """The parts whose digest differs (or that appeared or went away), in reading order."""
    names = [name for name in PARTS if name in recorded or name in today.parts]
    names += sorted((set(recorded) | set(today.parts)) - set(PARTS))
    return [name for name in names if recorded.get(name) != today.parts.get(name)]
