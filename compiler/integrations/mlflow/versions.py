"""A model version in the MLflow registry: registered with the digests of what was judged, promoted by alias, and
verified: the version an environment's alias points at must be today's model version with today's evidence.

A registered version carries tags, all strings:
- `charter.model` and `charter.model-version`: the Model spec's name and `version`;
- `charter.spec-digest`: what the gates judge today (the model spec, its contracts, its suite and the policy set:
  compiler/evidence/digest.py), so a spec changed since registration no longer matches;
- `charter.evidence.<gate>`: the SHA-256 of each committed evidence record of the version
  (`evidence/<model>/<version>/<gate>.json`), byte for byte.
Its source is the model's `serving.storageUri`: what serving reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from compiler.core import repofs
from compiler.evidence.store import ModelEvidence
from compiler.integrations.mlflow.client import Registry, RegistryError, Version

TAG_MODEL = "charter.model"
TAG_MODEL_VERSION = "charter.model-version"
TAG_SPEC = "charter.spec-digest"
TAG_EVIDENCE = "charter.evidence."


@dataclass(frozen=True)
class Identity:
    """What a registered version must say it is: the model, its version, today's digests and its storage."""

    model: str
    version: str
    spec_digest: str
    evidence: dict[str, str]
    source: str

    def tags(self) -> dict[str, str]:
        tags = {TAG_MODEL: self.model, TAG_MODEL_VERSION: self.version, TAG_SPEC: self.spec_digest}
        tags.update({f"{TAG_EVIDENCE}{gate}": digest for gate, digest in sorted(self.evidence.items())})
        return tags


def identity(evidence: ModelEvidence, root: Path, source: str) -> Identity:
    """Today's identity of a model version from its committed evidence (RegistryError when it has none)."""
    if not evidence.records:
        raise RegistryError(
            f"{evidence.model} {evidence.version} has no committed evidence: a version is registered with its "
            "evidence (record the gates' reports first)",
            unregistered=True,
        )
    stale = sorted(gate for gate, record in evidence.records.items() if not record.current)
    if stale:
        raise RegistryError(
            f"the {', '.join(stale)} evidence of {evidence.model} {evidence.version} is stale (the specs changed "
            "since it was measured): a version is registered with evidence of what it is",
            unregistered=True,
        )
    digests = {
        gate: "sha256:" + hashlib.sha256(repofs.read_bytes(root, record.path)).hexdigest()
        for gate, record in sorted(evidence.records.items())
    }
    return Identity(evidence.model, evidence.version, evidence.today.digest, digests, source)


def differences(version: Version, wanted: Identity) -> list[str]:
    """The tags of `version` that are not what `wanted` says, as `key: registered != today` (empty: it matches)."""
    expected = wanted.tags()
    keys = sorted(set(expected) | {key for key in version.tags if key.startswith(TAG_EVIDENCE)})
    return [
        f"{key}: {version.tags.get(key, 'missing')} != {expected.get(key, 'missing')}"
        for key in keys
        if version.tags.get(key) != expected.get(key)
    ]


def register(registry: Registry, name: str, wanted: Identity, run_id: str | None = None) -> tuple[Version, bool]:
    """The version registered with this identity, registering it (from the MLflow run `run_id`, when given) when
    none is; True when it was created now."""
    registry.ensure_model(name)
    for version in registry.versions(name):
        if not differences(version, wanted):
            return version, False
    description = f"{wanted.model} {wanted.version}, registered by charter with its evidence"
    return registry.create_version(name, wanted.source, wanted.tags(), description, run_id), True


def promote(registry: Registry, name: str, wanted: Identity, alias: str) -> Version:
    """Point `alias` at the registered version with this identity (RegistryError when none is registered)."""
    for version in registry.versions(name):
        if not differences(version, wanted):
            registry.set_alias(name, alias, version.version)
            return version
    raise RegistryError(
        f"no version of {name} is registered as {wanted.model} {wanted.version} with today's spec and evidence "
        "digests: register it first (`charter model register`)",
        unregistered=True,
    )
