"""The specs a gate judges against: the project is checked first, and must be clean."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from compiler.core.models.model import Model
from compiler.core.models.project import Project
from compiler.core.models.suite import EvaluationSuite
from compiler.core.resolved import Resolved
from compiler.core.specs import Spec
from compiler.core.suggest import did_you_mean
from compiler.gates.errors import UnusableInput


@dataclass(frozen=True)
class Reach:
    """The Project whose `spec.endpoints` decide which servers a gate may contact, and the root that a
    `type: local` server's `path` is read under."""

    project: Project | None
    root: Path


@dataclass(frozen=True)
class ProjectSpecs:
    root: Path
    resolved: Resolved
    policies: tuple[Spec, ...] = ()
    """The policy set in force: part of what a gate's evidence says it judged."""
    project: Project | None = None

    @property
    def reach(self) -> Reach:
        """What the gates may contact and read for this project: its trusted endpoints, local paths under its root."""
        return Reach(self.project, self.root)

    def contracts(self) -> list[Spec]:
        return [spec for spec in self.resolved.specs if spec.contract is not None]

    def contract(self, reference: str, version: str | None = None) -> Spec:
        """A contract by id or name (and version, when several share the id)."""
        found = [
            spec
            for spec in self.contracts()
            if spec.contract is not None
            and reference in (spec.contract.id, spec.contract.name)
            and (version is None or spec.contract.version == version)
        ]
        if len(found) == 1:
            return found[0]
        if not found:
            names = sorted({c.contract.id for c in self.contracts() if c.contract is not None})
            wanted = f"`{reference}`" + (f" version `{version}`" if version else "")
            raise UnusableInput(
                f"{self.root}: no data contract {wanted}",
                hint=did_you_mean(reference, names) or f"contracts: {', '.join(names) or 'none'}",
            )
        versions = ", ".join(sorted(str(s.contract.version) for s in found if s.contract is not None))
        raise UnusableInput(
            f"{self.root}: `{reference}` matches {len(found)} contracts (versions {versions})",
            hint="add --contract-version",
        )

    def model(self, name: str) -> tuple[Spec, Model]:
        spec = self.resolved.get("Model", name)
        if spec is None or not isinstance(spec.model, Model):
            names = sorted(self.resolved.by_kind.get("Model", {}))
            raise UnusableInput(
                f"{self.root}: no Model named `{name}`",
                hint=did_you_mean(name, names) or f"models: {', '.join(names) or 'none'}",
            )
        return spec, spec.model

    def suite_of(self, model_name: str) -> tuple[Spec, EvaluationSuite]:
        links = self.resolved.links.get(model_name)
        spec = links.suite if links is not None else None
        if spec is None or not isinstance(spec.model, EvaluationSuite):
            raise UnusableInput(f"{self.root}: model `{model_name}` has no evaluation suite that resolves")
        return spec, spec.model

    def training_contract(self, model_name: str) -> Spec | None:
        links = self.resolved.links.get(model_name)
        return links.training if links is not None else None

    def suite_dataset(self, suite_name: str) -> Spec | None:
        return self.resolved.suite_datasets.get(suite_name)


def load_project(path: str, err: TextIO | None = None) -> ProjectSpecs:
    """Check the project; refuse (UnusableInput) when it has error-level findings."""
    from compiler.evidence.store import stops_measurement
    from compiler.reporters.findings import Report
    from compiler.reporters.text import render
    from compiler.stages import check_path

    root = Path(path)
    if not root.exists():
        raise UnusableInput(f"{path}: no such project directory")
    result = check_path(root)
    errors = [d for d in result.diagnostics if stops_measurement(d, result.input)]
    if errors or result.resolved is None:
        report = Report(
            tuple(errors), files_checked=result.files, specs_checked=len(result.specs), sources=result.sources
        )
        (err or sys.stderr).write(render(report))
        raise UnusableInput(
            f"{path}: the project has {len(errors)} error(s); a gate judges only against specs that check clean",
            hint="run `charter check` and fix the errors first",
        )
    return ProjectSpecs(root, result.resolved, tuple(result.policies), result.project)


def bare(reference: str) -> str:
    return reference.rsplit(".", 1)[-1]
