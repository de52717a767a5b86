"""Outputs that would overwrite each other, or the specs: refused before anything renders.

Names are joined into paths and object names (THREATS.md): model `credit` in
environment `default-staging` and model `credit-default` in `staging` both
give the Argo CD Application `credit-default-staging`, and one of them would
silently be dropped. Two environments on one cluster and namespace would
make one model's objects overwrite each other. Each collision is reported
on the second deployment, naming the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from compiler.core.diagnostics import Diagnostic
from compiler.core.models import Environment, Model
from compiler.core.models.project import Project
from compiler.core.outputs import Output
from compiler.core.resolved import Resolved
from compiler.core.specs import Spec


@dataclass(frozen=True)
class _Claim:
    spec: Spec
    index: int
    environment: str

    @property
    def where(self) -> str:
        line = self.spec.finding("CH410", "", ["spec", "deployments", self.index, "environment"]).line
        return f"model `{self.spec.name}` in environment `{self.environment}` ({self.spec.file}:{line})"


def name_collisions(resolved: Resolved, project: Project | None) -> list[Diagnostic]:
    gitops = project is not None and project.spec.deployment.mode == "gitops"
    claims: dict[tuple[str, ...], _Claim] = {}
    findings: list[Diagnostic] = []
    models = sorted(resolved.by_kind.get("Model", {}).values(), key=lambda spec: (spec.file, spec.name))
    for spec in models:
        if not isinstance(spec.model, Model):
            continue
        for index, deployment in enumerate(spec.model.spec.deployments):
            env_spec = resolved.get("Environment", deployment.environment)
            if env_spec is None or not isinstance(env_spec.model, Environment):
                continue
            claim = _Claim(spec, index, env_spec.name)
            env = env_spec.model.spec
            keys: list[tuple[str, ...]] = [("objects", env.cluster, env.namespace, spec.name)]
            if gitops:
                keys.append(("argocd", f"{spec.name}-{env_spec.name}"))
            for key in keys:
                first = claims.setdefault(key, claim)
                if first is not claim:
                    findings.append(_collision(key, first, claim))
    return findings


def _collision(key: tuple[str, ...], first: _Claim, second: _Claim) -> Diagnostic:
    if key[0] == "argocd":
        what = f"the Argo CD Application `{key[1]}`"
    else:
        what = f"Kubernetes objects named `{key[3]}` in namespace `{key[2]}` of cluster `{key[1]}`"
    return second.spec.finding(
        "CH410",
        f"{what} would be rendered twice: for {first.where} and for {second.where}",
        ["spec", "deployments", second.index, "environment"],
        hint="rename one of the models or environments, or give the environments their own namespaces",
    )


def path_collisions(outputs: Sequence[Output]) -> list[Diagnostic]:
    """The last line of defence: two rendered files at one path, whatever produced them."""
    seen: dict[str, Output] = {}
    findings: list[Diagnostic] = []
    for output in outputs:
        first = seen.setdefault(output.path, output)
        if first is not output:
            message = f"`{output.path}` would be written twice: from {first.source} and from {output.source}"
            hint = "rename one of the sources"
            findings.append(Diagnostic.of("CH410", message, output.source, hint=hint))
    return findings


def _literal_prefix(pattern: str) -> str:
    parts = []
    for part in PurePosixPath(pattern).parts[:-1]:
        if any(char in part for char in "*?[{"):
            break
        parts.append(part)
    return "/".join(parts)


def refused_output_dirs(
    project_spec: Spec | None, project: Project | None, spec_files: Sequence[str]
) -> list[Diagnostic]:
    """An output directory that is, or lies inside, a directory holding specs (other than the root)."""
    if project_spec is None or project is None:
        return []
    root = PurePosixPath(project_spec.file).parent
    spec_dirs = {PurePosixPath(folder) for folder in {file.rpartition("/")[0] or "." for file in spec_files}}
    # The literal start of each glob (`models` of `models/*.yaml`): specs an output directory would hide.
    spec_dirs |= {root / prefix for prefix in map(_literal_prefix, project.spec.specs) if prefix}
    spec_dirs -= {root}
    findings = []
    for field in ("workflows", "deploy", "docs"):
        directory = root / getattr(project.spec.outputs, field)
        holder = next((d for d in sorted(spec_dirs) if directory == d or directory.is_relative_to(d)), None)
        if holder is not None:
            findings.append(
                project_spec.finding(
                    "CH411",
                    f"output directory `{getattr(project.spec.outputs, field)}` lies in `{holder}`, which holds specs",
                    ["spec", "outputs", field],
                    hint="the build deletes and overwrites files in its output directories; choose one of their own",
                )
            )
    return findings
