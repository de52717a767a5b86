"""The one door: `check(sources) -> Checked`; stages in order: discover -> load -> validate -> resolve -> check.

Every command (check, build, plan, changed-only, github report, the gates, policy tests) enters here with a
`Sources` (a directory, a git revision or editor buffers) and gets back a frozen `Checked`. Data flows one
way; every stage returns Diagnostics rather than raising, and one file's failure never stops the others.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import posixpath
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic, PathSegment, Severity, exit_code, sort_diagnostics
from compiler.core.models.policy import Policy
from compiler.core.models.project import DEFAULT_SPEC_GLOBS, Project, output_dirs
from compiler.core.sources import LINK_HINT, PROJECT_FILES, Kind, Sources, display_path
from compiler.core.specs import Spec
from compiler.core.suggest import did_you_mean
from compiler.stages.check import check as evaluate_policies
from compiler.stages.evidence.store import EvidenceByModel, load_evidence
from compiler.stages.load import SourceFile, load_file
from compiler.stages.overlaps import name_collisions, path_collisions, refused_output_dirs
from compiler.stages.packs import builtin_packs, policy_files
from compiler.stages.reading import load_repo_file
from compiler.stages.render import Output, render
from compiler.stages.resolve import Resolved, resolve
from compiler.stages.unchecked import Entry, unchecked_specs
from compiler.stages.validate import validate

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Checked:
    """What the door gives every command: never changed after the fact (use `dataclasses.replace`)."""

    input: Sources
    diagnostics: list[Diagnostic]
    sources: Mapping[str, str]  # display path -> the text that was read, for excerpts
    files: int
    specs: list[Spec]  # every valid spec of the project, the Project included
    project: Project | None
    resolved: Resolved | None
    policies: list[Spec]  # what was evaluated: the project's, its directories' and the packs' Policy specs
    evidence: EvidenceByModel  # per model: the committed evidence of its current version
    applied: frozenset[tuple[str, str, str]]  # (policy, kind, name) for every policy whose match held on a spec

    @property
    def root(self) -> Path:
        """The project root as the working tree shows it."""
        return self.input.shown_as


@dataclass
class _Run:
    """The pipeline's working state, frozen into `Checked` at the end."""

    sources: Sources
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    specs: list[Spec] = field(default_factory=list)
    project: Project | None = None

    def take(self, source: SourceFile) -> None:
        self.texts[source.path] = source.text
        self.diagnostics.extend(source.diagnostics)
        for document in source.documents:
            try:
                spec, findings = validate(document)
            except Exception as error:  # noqa: BLE001 - one document's bug must not stop the run
                self.diagnostics.append(_internal(error, source.path))
                continue
            self.diagnostics.extend(findings)
            if spec is not None:
                self.specs.append(spec)


def check_path(
    path: Path,
    progress: Progress | None = None,
    today: datetime.date | None = None,
    extra_policies: Sequence[Path] = (),
) -> Checked:
    """A directory or one file of the working tree."""
    return check(Sources.from_path(path), today or current_date(), progress=progress, extra_policies=extra_policies)


def check(
    sources: Sources,
    today: datetime.date,
    *,
    progress: Progress | None = None,
    extra_policies: Sequence[Path] = (),
) -> Checked:
    run = _Run(sources)
    project_file = _project_file(sources)
    _load_project(run, project_file)
    candidates = [] if sources.only else project_entries(sources, run.project)
    files = [sources.inside(sources.only)] if sources.only else spec_files(candidates, run.project)
    if project_file is not None and project_file not in files:
        # Globs that miss charter.yaml must not hide its findings (a `${{` in it, say).
        files.insert(0, project_file)
    if sources.only is None:
        run.diagnostics.extend(unchecked_specs(sources, candidates, files))
    if not files:
        shown = sources.display(sources.project)
        run.diagnostics.append(Diagnostic.of("CH901", "no spec files found", shown))
    sources.prefetch(files)
    for done, file in enumerate(files, 1):
        if file != project_file:  # read and validated first, for its globs and settings
            run.take(_safe_load(sources, file))
        if progress is not None:
            progress(done, len(files))
    policies = _load_policies(run, files, extra_policies)
    resolved = resolve(run.specs, [spec.name for spec in policies])
    run.diagnostics.extend(resolved.diagnostics)
    run.diagnostics.extend(name_collisions(resolved, run.project))
    project_spec = next((spec for spec in run.specs if spec.kind == "Project"), None)
    loaded = [spec.file for spec in run.specs if spec.kind != "Project"]
    run.diagnostics.extend(refused_output_dirs(project_spec, run.project, loaded))
    evidence, evidence_findings = load_evidence(sources, resolved, policies, run.project)
    run.diagnostics.extend(evidence_findings)
    applied: set[tuple[str, str, str]] = set()
    run.diagnostics.extend(
        evaluate_policies(resolved, policies, run.project, today, run.texts, evidence=evidence, applied=applied)
    )
    return Checked(
        input=sources,
        diagnostics=sort_diagnostics(run.diagnostics),
        sources=run.texts,
        files=len(files),
        specs=run.specs,
        project=run.project,
        resolved=resolved,
        policies=policies,
        evidence=evidence,
        applied=frozenset(applied),
    )


def build(checked: Checked, today: datetime.date) -> tuple[Checked, list[Output]]:
    """What `charter build` writes, or nothing when the check has errors; two outputs at one path are errors."""
    if exit_code(checked.diagnostics) or checked.resolved is None:
        return checked, []
    outputs = render(checked.resolved, checked.project, today, checked.evidence)
    collisions = path_collisions(outputs)
    return replace(checked, diagnostics=sort_diagnostics([*checked.diagnostics, *collisions])), outputs


def current_date() -> datetime.date:
    """CHARTER_TODAY pins the date, so that waiver expiry is reproducible in tests."""
    pinned = os.environ.get("CHARTER_TODAY")
    return datetime.date.fromisoformat(pinned) if pinned else datetime.date.today()


# --- discover ---------------------------------------------------------------------------------------------


def _project_file(sources: Sources) -> str | None:
    if sources.only is not None:
        return None
    for name in PROJECT_FILES:
        relative = sources.inside(name)
        # A charter.yaml that is a link is still the project file: loading it reports the link.
        if sources.kind(relative) in (Kind.FILE, Kind.LINK, Kind.OTHER):
            return relative
    return None


def project_entries(sources: Sources, project: Project | None) -> list[Entry]:
    """What a run may read under the project, listed once: not hidden, not excluded, not in an output directory."""
    excluded = list(project.spec.exclude) if project else []
    outputs = [PurePosixPath(out) for out in output_dirs(project)]
    base = sources.project
    entries = []
    for path, kind in sources.walk(base):
        relative = PurePosixPath(path[len(base) + 1 :] if base else path)
        if relative.name.startswith(".") or any(relative.match(pattern) for pattern in excluded):
            continue
        if not any(relative.is_relative_to(out) for out in outputs):
            entries.append(Entry(path, relative, kind))
    return entries


def spec_files(entries: list[Entry], project: Project | None) -> list[str]:
    """Every entry the globs match, links and special files included: loading them reports why they are refused."""
    globs = [_parts(pattern) for pattern in (project.spec.specs if project else DEFAULT_SPEC_GLOBS)]
    return sorted(entry.path for entry in entries if any(_glob_match(entry.relative.parts, glob) for glob in globs))


def _parts(pattern: str) -> tuple[str, ...] | None:
    """A glob as components, None when it would leave the root (refused where charter.yaml is validated)."""
    try:
        repofs.relative_parts(pattern)
    except repofs.Refused:
        return None
    return tuple(part for part in PurePosixPath(pattern).parts if part != ".")


def _glob_match(parts: tuple[str, ...], glob: tuple[str, ...] | None) -> bool:
    """`Path.glob` semantics on a file's path: `**` is zero or more directories, `*` stays in one component."""
    if glob is None:
        return False
    if not glob:
        return not parts
    if glob[0] == "**":
        # A trailing `**` matches directories only, never a file.
        return len(glob) > 1 and any(_glob_match(parts[skip:], glob[1:]) for skip in range(len(parts)))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], glob[0]) and _glob_match(parts[1:], glob[1:])


# --- load -------------------------------------------------------------------------------------------------


def _load_project(run: _Run, project_file: str | None) -> None:
    if project_file is None:
        return
    source = _safe_load(run.sources, project_file)
    run.take(source)
    run.project = next((spec.model for spec in run.specs if isinstance(spec.model, Project)), None)
    if run.project is None and not any(d.severity is Severity.ERROR for d in source.diagnostics):
        run.diagnostics.append(
            Diagnostic.of(
                "CH406",
                "charter.yaml holds no valid Project spec; defaults apply",
                source.path,
                hint="run `charter init` to see a complete Project spec",
            )
        )


def _safe_load(sources: Sources, relative: str) -> SourceFile:
    display = sources.display(relative)
    try:
        return load_repo_file(sources, relative, display)
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(_internal(error, display))
        return source


def _internal(error: Exception, file: str) -> Diagnostic:
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    origin = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Diagnostic.of(
        "CH900",
        f"internal error: {type(error).__name__}: {error}{origin}",
        file,
        hint="please report this with the file that caused it",
    )


# --- policies ---------------------------------------------------------------------------------------------


def _load_policies(run: _Run, spec_paths: list[str], extra_policies: Sequence[Path]) -> list[Spec]:
    """Built-in packs the Project turns on, its own policy directories, and Policy specs in the project."""
    project_spec = next((spec for spec in run.specs if spec.kind == "Project"), None)
    loaded = _Run(run.sources)
    for path in dict.fromkeys([*extra_policies, *_pack_files(run, project_spec)]):
        # Built-in packs and policy files named on the command line come from the installation.
        loaded.take(_load_installed(path))
    seen = set(spec_paths)
    for relative in _organisation_files(run, project_spec):
        if relative not in seen:
            loaded.take(_safe_load(run.sources, relative))
    run.diagnostics.extend(loaded.diagnostics)
    run.texts.update(loaded.texts)
    project_policies = [spec for spec in run.specs if spec.kind == "Policy"]
    policies = project_policies + [spec for spec in loaded.specs if spec.kind == "Policy"]
    if project_spec is not None and run.project is not None:
        run.diagnostics.extend(_check_settings(project_spec, run.project, policies))
    return policies


def _load_installed(path: Path) -> SourceFile:
    display = display_path(path)
    try:
        return load_file(path, display)
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(_internal(error, display))
        return source


def _pack_files(run: _Run, project_spec: Spec | None) -> list[Path]:
    config = run.project.spec.policies if run.project else None
    available = builtin_packs()
    files: list[Path] = []
    for index, pack in enumerate(config.packs if config else []):
        if pack in available:
            files.extend(policy_files(available[pack]))
        elif project_spec is not None:
            run.diagnostics.append(
                project_spec.finding(
                    "CH506",
                    f"no policy pack named `{pack}`",
                    ["spec", "policies", "packs", index],
                    hint=did_you_mean(pack, available) or f"built-in packs: {', '.join(available)}",
                )
            )
    return files


def _organisation_files(run: _Run, project_spec: Spec | None) -> list[str]:
    """The Policy files of the Project's own policy directories, inside the checkout, links refused."""
    files: list[str] = []
    for index, directory in enumerate(run.project.spec.policies.paths if run.project else []):
        at: list[PathSegment] = ["spec", "policies", "paths", index]
        relative = run.sources.inside(directory.rstrip("/") or ".")
        refusal, kind = _policy_directory(run.sources, relative, directory)
        if project_spec is None:
            continue
        if refusal is not None:
            run.diagnostics.append(project_spec.finding("CH120", f"not read: {refusal}", at, hint=LINK_HINT))
        elif kind is not Kind.DIRECTORY:
            message = f"no policy directory `{directory}`"
            run.diagnostics.append(project_spec.finding("CH401", message, at))
        else:
            files.extend(_policy_files_in(run.sources, relative))
    return files


def _policy_directory(sources: Sources, relative: str, directory: str) -> tuple[str | None, Kind | None]:
    """Why a policy directory is refused (outside the checkout, or a link on its way), and its kind."""
    if relative == ".." or relative.startswith("../"):
        return f"`{directory}` lies outside the repository", None
    try:
        kind = sources.kind(relative)
    except repofs.Refused as refused:
        return refused.reason, None
    if kind is Kind.LINK:
        return f"`{directory.rstrip('/')}` is a symbolic link; Charter does not follow links", None
    return None, kind


def _policy_files_in(sources: Sources, folder: str) -> list[str]:
    """Like `packs.policy_files`: the YAML files below a folder, not those of its `tests/`."""
    found = []
    for path, _ in sources.walk("" if folder == "." else folder):
        inner = posixpath.relpath(path, folder) if folder not in ("", ".") else path
        if path.endswith((".yaml", ".yml")) and "tests" not in inner.split("/")[:-1]:
            found.append(path)
    return sorted(found)


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
