"""The stages in order: discover -> load -> validate -> resolve (-> check -> render).

Data flows one way; every stage returns Diagnostics rather than raising, and
one file's failure never stops the others.
"""

from __future__ import annotations

import datetime
import os
import stat
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler import repofs
from compiler.check import check
from compiler.diagnostics import Diagnostic, PathSegment, Severity, sort_diagnostics
from compiler.evidence.store import ModelEvidence, load_evidence
from compiler.load import SourceFile, load_file
from compiler.models.policy import Policy
from compiler.models.project import Project
from compiler.overlaps import name_collisions, refused_output_dirs
from compiler.packs import builtin_packs, policy_files
from compiler.resolve import Resolved, resolve
from compiler.specs import Spec
from compiler.suggest import did_you_mean
from compiler.unchecked import unchecked_specs
from compiler.validate import validate
from compiler.workspace import LINK_HINT, Layout, display_path, find_layout, load_repo_file, spec_files

Progress = Callable[[int, int], None]


@dataclass
class CheckResult:
    root: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files: int = 0
    specs: list[Spec] = field(default_factory=list)
    project: Project | None = None
    resolved: Resolved | None = None
    policies: list[Spec] = field(default_factory=list)
    """Every policy in force: the project's, its directories' and the built-in packs it turns on."""
    evidence: dict[str, ModelEvidence] = field(default_factory=dict)
    applied: set[tuple[str, str, str]] = field(default_factory=set)
    """(policy, kind, name) for every policy whose match held on a spec: what `charter report` lists."""
    """Per model: the committed evidence of its current version (compiler/evidence/store.py)."""


def check_path(
    path: Path,
    progress: Progress | None = None,
    today: datetime.date | None = None,
    extra_policies: Sequence[Path] = (),
) -> CheckResult:
    layout = find_layout(path)
    result = CheckResult(layout.root)
    project_source = _load_project(layout, result)
    files = [path] if path.is_file() else spec_files(layout, result.project)
    if layout.project_file is not None and layout.project_file not in files:
        # Globs that miss charter.yaml must not hide its findings (a `${{` in it, say).
        files.insert(0, layout.project_file)
    if not path.is_file():
        result.diagnostics.extend(unchecked_specs(layout, result.project, files))
    if not files:
        result.diagnostics.append(Diagnostic("CH901", Severity.WARNING, "no spec files found", display_path(path)))
    for done, file in enumerate(files, 1):
        if project_source is not None and layout.project_file is not None and file == layout.project_file:
            source = project_source
        else:
            source = _safe_load(file, layout.root)
        _take(result, source)
        if progress is not None:
            progress(done, len(files))
    result.files = len(files)
    policies = _load_policies(layout, result, files, extra_policies)
    known = [spec.name for spec in policies]
    result.resolved = resolve(result.specs, known)
    result.diagnostics.extend(result.resolved.diagnostics)
    result.diagnostics.extend(name_collisions(result.resolved, result.project))
    project_spec = next((spec for spec in result.specs if spec.kind == "Project"), None)
    loaded = [spec.file for spec in result.specs if spec.kind != "Project"]
    result.diagnostics.extend(refused_output_dirs(project_spec, result.project, loaded))
    result.policies = policies
    result.evidence, evidence_findings = load_evidence(layout.root, result.resolved, policies, result.project)
    result.diagnostics.extend(evidence_findings)
    result.diagnostics.extend(
        check(
            result.resolved,
            policies,
            result.project,
            today or current_date(),
            result.sources,
            evidence=result.evidence,
            applied=result.applied,
        )
    )
    result.diagnostics = sort_diagnostics(result.diagnostics)
    return result


def current_date() -> datetime.date:
    """CHARTER_TODAY pins the date, so that waiver expiry is reproducible in tests."""
    pinned = os.environ.get("CHARTER_TODAY")
    return datetime.date.fromisoformat(pinned) if pinned else datetime.date.today()


def _load_policies(
    layout: Layout, result: CheckResult, spec_paths: list[Path], extra_policies: Sequence[Path]
) -> list[Spec]:
    """Built-in packs the Project turns on, its own policy directories, and Policy specs in the project."""
    project_policies = [spec for spec in result.specs if spec.kind == "Policy"]
    project_spec = next((spec for spec in result.specs if spec.kind == "Project"), None)
    config = result.project.spec.policies if result.project else None
    available = builtin_packs()
    extra: list[Path] = list(extra_policies)
    organisation: set[Path] = set()
    for index, pack in enumerate(config.packs if config else []):
        if pack in available:
            extra.extend(policy_files(available[pack]))
        elif project_spec is not None:
            result.diagnostics.append(
                project_spec.finding(
                    "CH506",
                    f"no policy pack named `{pack}`",
                    ["spec", "policies", "packs", index],
                    hint=did_you_mean(pack, available) or f"built-in packs: {', '.join(available)}",
                )
            )
    for index, directory in enumerate(config.paths if config else []):
        folder = layout.root / directory
        linked = _linked_policy_directory(layout.root, directory)
        if linked is not None and project_spec is not None:
            at: list[PathSegment] = ["spec", "policies", "paths", index]
            result.diagnostics.append(project_spec.finding("CH120", f"not read: {linked}", at, hint=LINK_HINT))
        elif linked is None and folder.is_dir():
            extra.extend(policy_files(folder))
            organisation.update(policy_files(folder))
        elif project_spec is not None:
            result.diagnostics.append(
                project_spec.finding(
                    "CH401", f"no policy directory `{directory}`", ["spec", "policies", "paths", index]
                )
            )
    seen = {path.resolve() for path in spec_paths}
    loaded = CheckResult(layout.root)
    for path in dict.fromkeys(extra):
        if path.resolve() not in seen:
            # Built-in packs and policy files named on the command line come from the installation.
            trusted = path not in organisation
            _take(loaded, _safe_load(path, repository_root(layout.root), trusted=trusted))
    result.diagnostics.extend(loaded.diagnostics)
    result.sources.update(loaded.sources)
    policies = project_policies + [spec for spec in loaded.specs if spec.kind == "Policy"]
    if project_spec is not None and result.project is not None:
        result.diagnostics.extend(_check_settings(project_spec, result.project, policies))
    return policies


def _check_settings(project_spec: Spec, project: Project, policies: list[Spec]) -> list[Diagnostic]:
    """Overrides and parameters that name nothing would silently do nothing."""
    rules = {spec.name: spec.model for spec in policies if isinstance(spec.model, Policy)}
    names = list(rules) + [f"{name}/{rule.name}" for name, p in rules.items() for rule in p.spec.validations]
    findings = []
    config = project.spec.policies
    for key in config.severity_overrides:
        if key not in names:
            findings.append(
                project_spec.finding(
                    "CH507",
                    f"severity override for unknown policy or rule `{key}`",
                    ["spec", "policies", "severityOverrides", key],
                    key=True,
                    hint=did_you_mean(key, names),
                )
            )
    for policy_name, values in config.params.items():
        policy = rules.get(policy_name)
        if policy is None:
            findings.append(
                project_spec.finding(
                    "CH507",
                    f"parameters for unknown policy `{policy_name}`",
                    ["spec", "policies", "params", policy_name],
                    key=True,
                    hint=did_you_mean(policy_name, rules),
                )
            )
            continue
        for param in values:
            if param not in policy.spec.params:
                findings.append(
                    project_spec.finding(
                        "CH507",
                        f"policy `{policy_name}` has no parameter `{param}`",
                        ["spec", "policies", "params", policy_name, param],
                        key=True,
                        hint=did_you_mean(param, policy.spec.params)
                        or f"its parameters: {', '.join(policy.spec.params) or 'none'}",
                    )
                )
    return findings


def _load_project(layout: Layout, result: CheckResult) -> SourceFile | None:
    if layout.project_file is None:
        return None
    source = _safe_load(layout.project_file, layout.root)
    for document in source.documents:
        if isinstance(document.data, dict) and document.data.get("kind") == "Project":
            spec, _ = validate(document)
            if spec is not None and isinstance(spec.model, Project):
                result.project = spec.model
    if result.project is None and not any(d.severity is Severity.ERROR for d in source.diagnostics):
        source.diagnostics.append(
            Diagnostic(
                "CH406",
                Severity.WARNING,
                "charter.yaml holds no valid Project spec; defaults apply",
                source.path,
                hint="run `charter init` to see a complete Project spec",
            )
        )
    return source


def repository_root(root: Path) -> Path:
    """The checkout holding the project: policy directories may be beside it (`../org-policies`), not outside it."""
    here = Path(os.path.abspath(root))
    for candidate in (here, *here.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return here


def _linked_policy_directory(root: Path, directory: str) -> str | None:
    """Why a policy directory is refused (outside the checkout, or a link on its way), or None."""
    top = repository_root(root)
    relative = os.path.relpath(os.path.abspath(root / directory), top)
    if relative == ".." or relative.startswith("../"):
        return f"`{directory}` lies outside the repository"
    try:
        info = repofs.inspect(top, relative)
    except repofs.Refused as refused:
        return refused.reason
    if info is not None and stat.S_ISLNK(info.st_mode):
        return f"`{directory.rstrip('/')}` is a symbolic link; Charter does not follow links"
    return None


def _safe_load(file: Path, root: Path, *, trusted: bool = False) -> SourceFile:
    """Repository files through the safe door; built-in packs and explicit policy files from the installation."""
    display = display_path(file)
    try:
        if not trusted and _lexically_inside(file, root):
            return load_repo_file(root, file, display)
        return load_file(file, display)
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(_internal(error, display))
        return source


def _lexically_inside(file: Path, root: Path) -> bool:
    return Path(os.path.abspath(file)).is_relative_to(os.path.abspath(root))


def _take(result: CheckResult, source: SourceFile) -> None:
    result.sources[source.path] = source.text
    result.diagnostics.extend(source.diagnostics)
    for document in source.documents:
        try:
            spec, findings = validate(document)
        except Exception as error:  # noqa: BLE001 - one document's bug must not stop the run
            result.diagnostics.append(_internal(error, source.path))
            continue
        result.diagnostics.extend(findings)
        if spec is not None:
            result.specs.append(spec)


def _internal(error: Exception, file: str) -> Diagnostic:
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    origin = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Diagnostic(
        "CH900",
        Severity.ERROR,
        f"internal error: {type(error).__name__}: {error}{origin}",
        file,
        hint="please report this with the file that caused it",
    )
