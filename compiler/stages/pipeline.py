"""The pipeline, top to bottom: read -> validate -> resolve -> policy -> render -> emit.

Every command (check, build, plan, changed-only, github report, the gates, policy tests) enters through the
door (`compiler.stages`) with a `Sources` (a directory, a git revision or editor buffers) and gets back a
frozen `Checked`. `check` reads the project file first (its globs and settings decide the rest), discovers
the spec files, reads and validates each one, loads the policies, then runs the cross-file stages
(`resolve_and_judge`: resolve, then policy). With a cache, the same stages run, on the files whose findings
may have changed only (`compiler.stages.cache.cached_run`). `build` renders a clean check; `plan_writes`
and `apply` emit it. Data flows one way; every stage returns Diagnostics rather than raising, and one
file's failure never stops the others.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from compiler.core import repofs
from compiler.core.cache import Store
from compiler.core.capped import cap_per_document
from compiler.core.collector import collector_paused
from compiler.core.diagnostics import Diagnostic, Severity, exit_code, sort_diagnostics
from compiler.core.documents import Document
from compiler.core.installed import Installation
from compiler.core.models.project import Outputs, Project
from compiler.core.outputs import Output
from compiler.core.sources import Kind, Sources
from compiler.core.specs import Spec
from compiler.core.write_plan import WritePlan
from compiler.evidence import EVIDENCE_DIR
from compiler.evidence.store import ReadRepoFile, load_evidence, record_paths
from compiler.stages.cache.cached_run import CachedRun
from compiler.stages.checked import Checked
from compiler.stages.emit import writes
from compiler.stages.emit.ownership import output_directories
from compiler.stages.policy.evaluate import check as evaluate_policies
from compiler.stages.policy.governed import Governance
from compiler.stages.policy.loading import load_policies
from compiler.stages.read.discovery import Discovered, discover, project_file, safe_load
from compiler.stages.read.dvc_data import dvc_findings, project_reader
from compiler.stages.read.load import SourceFile, load_bytes, load_file, load_text
from compiler.stages.read.parallel_load import PerFile, each_file
from compiler.stages.read.reading import load_repo_file
from compiler.stages.render.charter_pin import pin_findings
from compiler.stages.render.orchestration import unstored_training
from compiler.stages.render.outputs import render_outputs
from compiler.stages.render.training_job import unreachable_registries, untrusted_model_stores
from compiler.stages.render.workflow_home import home, unread_workflows
from compiler.stages.resolve.deploy_checks import strategy_findings
from compiler.stages.resolve.endpoints import untrusted_servers
from compiler.stages.resolve.overlaps import name_collisions, path_collisions, refused_output_dirs
from compiler.stages.resolve.references import resolve
from compiler.stages.resolve.retraining import retrain_findings
from compiler.stages.run import FileResult, Run
from compiler.stages.validate.specs import validate, validate_file

Progress = Callable[[int, int], None]


def check_path(
    path: Path,
    progress: Progress | None = None,
    today: datetime.date | None = None,
    extra_policies: Sequence[Path] = (),
    cache: Store | None = None,
) -> Checked:
    """A directory or one file of the working tree."""
    sources = Sources.from_path(path)
    return check(sources, today or current_date(), progress=progress, extra_policies=extra_policies, cache=cache)


def check(
    sources: Sources,
    today: datetime.date,
    *,
    progress: Progress | None = None,
    extra_policies: Sequence[Path] = (),
    cache: Store | None = None,
    governance: Governance | None = None,
) -> Checked:
    """Every finding of the project. With a `cache`, files whose findings cannot have changed are not read
    into specs again: the findings are the same, `specs` holds only what was read.
    With `governance` (another revision's, `compiler.stages.policy.governed`), the specs are judged by it
    instead of by their own Project, policies and waivers: the plan's cross check, never cached.
    """
    with collector_paused():  # a check makes millions of objects and few cycles (compiler.core.collector)
        return _check(sources, today, progress, extra_policies, cache, governance)


def _check(
    sources: Sources,
    today: datetime.date,
    progress: Progress | None,
    extra_policies: Sequence[Path],
    cache: Store | None,
    governance: Governance | None,
) -> Checked:
    # Read and validate: the project file first (its globs and settings decide the rest), then the spec files
    # it chooses; the cache path reads only those every key depends on and those whose findings may change.
    run, project = Run(sources), project_file(sources)
    _read_project(run, project)
    found, discovered = discover(sources, run.project, project)
    run.diagnostics.extend(discovered)
    incremental = cache is not None and sources.only is None and governance is None
    cached = CachedRun.start(run, found, cache) if cache is not None and incremental else None
    if cached is None:
        sources.prefetch(found.files)
        files = [file for file in found.files if file != found.project]
        _read_and_validate(run, files, progress, _with_records(_listed_files(found)))
    else:
        _read_and_validate(run, cached.first_reads(), progress)
    # The policies that judge: the project's, its packs' and directories', or another revision's governance.
    policies = load_policies(run, found.files, extra_policies)
    if governance is not None:
        run.specs, run.project, policies = governance.judge(run.specs), governance.project, list(governance.policies)
    spec_dirs, targets = None, None
    if cached is not None:
        _read_and_validate(run, cached.next_reads(policies, extra_policies, today), progress)
        spec_dirs, targets = cached.targets()
    # Resolve, then policy; the cache path adds the recorded findings of the files it did not read.
    checked = resolve_and_judge(
        run, len(found.files), policies, today, spec_dirs=spec_dirs, targets=targets, listed=_folders_listed(found, run)
    )
    if cached is not None:
        checked = cached.merged(checked)
    # Capped last, on the whole list, so that cached and editor checks show what a cold check shows.
    return replace(checked, diagnostics=sort_diagnostics(cap_per_document(checked.diagnostics)))


def read_and_validate(sources: Sources, file: str) -> FileResult:
    """Stages 1 and 2 for one file: read it within its caps, then validate each of its documents.

    Each spec's digest (what evidence records judged) is taken here, so that a large check takes them on every
    core rather than one by one when the evidence is loaded."""
    result = validate_file(safe_load(sources, file))
    for spec in result.specs:
        _ = spec.document.digest
    return result


def _read_and_validate(
    run: Run, files: list[str], progress: Progress | None, per_file: PerFile[FileResult] = read_and_validate
) -> None:
    for result in each_file(run.sources, files, per_file, progress):
        run.add(result)


def _listed_files(found: Discovered) -> frozenset[str]:
    return frozenset(entry.path for entry in found.entries if entry.kind is Kind.FILE)


def _folders_listed(found: Discovered, run: Run) -> dict[str, frozenset[str]] | None:
    """The names in each folder under `evidence/` of the run's listing, when it holds every entry of the folders
    it names: None where `exclude` patterns may have left a file out of the listing but not out of its folder.
    The listing also leaves out hidden names, which no record has, and output directories: one holding a folder
    leaves all of it out (then looked into as before), one inside a folder is not a record (`load_evidence`)."""
    if run.project is not None and run.project.spec.exclude:
        return None
    evidence = run.sources.inside(EVIDENCE_DIR) + "/"  # the only folders asked about
    folders: dict[str, set[str]] = {}
    for entry in found.entries:
        if entry.path.startswith(evidence):
            folder, _, name = entry.path.rpartition("/")
            folders.setdefault(folder, set()).add(name)
    return {folder: frozenset(names) for folder, names in folders.items()}


def _with_records(listed: frozenset[str]) -> PerFile[FileResult]:
    """`read_and_validate`, then the evidence records of the current version of each model the file holds, read
    there and then (on every core of a large check) rather than one by one when the evidence is loaded
    (`_records_first`). Only files the listing holds are read ahead, so a project whose globs leave the
    evidence out reads it as before."""

    def read(sources: Sources, file: str) -> FileResult:
        result = read_and_validate(sources, file)
        for path in map(sources.inside, record_paths(result.specs)):
            if path in listed:
                result.records[path] = load_repo_file(sources, path, sources.display(path))
        return result

    return read


def _records_first(records: Mapping[str, SourceFile]) -> ReadRepoFile:
    """The read stage's reader, answering from the records read ahead (`_read_records`) when it can."""

    def read(sources: Sources, relative: str, display: str) -> SourceFile:
        found = records.get(relative)
        return found if found is not None else load_repo_file(sources, relative, display)

    return read


def _read_project(run: Run, path: str | None) -> None:
    """The project file, read and validated before any other: its globs and settings decide the rest."""
    if path is None:
        return
    source = safe_load(run.sources, path)
    read = validate_file(source)
    run.add(read)
    run.project = next((spec.model for spec in run.specs if isinstance(spec.model, Project)), None)
    # A charter.yaml with errors of its own (a Project that failed validation, an unknown kind) is reported by
    # them: one mistake, one finding. CH406 is for a file that is fine and still holds no Project.
    if run.project is None and not any(d.severity is Severity.ERROR for d in read.diagnostics):
        run.diagnostics.append(
            Diagnostic.of(
                "CH406",
                "charter.yaml holds no valid Project spec; defaults apply",
                source.path,
                hint="run `charter init` to see a complete Project spec",
            )
        )


def resolve_and_judge(
    run: Run,
    files: int,
    policies: list[Spec],
    today: datetime.date,
    *,
    spec_dirs: Sequence[str] | None = None,
    targets: Collection[str] | None = None,
    listed: Mapping[str, frozenset[str]] | None = None,
) -> Checked:
    """Stages 3 and 4 on what `run` read: resolve, collisions, trusted endpoints, evidence, then the policies
    and waivers.

    `spec_dirs` lists every file holding a valid spec when `run` read only some of them; `targets` limits
    policy evaluation to the specs of these files; `listed` is what the run's listing holds (`_folders_listed`).
    """
    resolved = resolve(run.specs, [spec.name for spec in policies], run.invalid)
    run.diagnostics.extend(resolved.diagnostics)
    run.diagnostics.extend(name_collisions(resolved, run.project))
    gitops = run.project is not None and run.project.spec.deployment.mode == "gitops"
    run.diagnostics.extend(strategy_findings(resolved, gitops))
    run.diagnostics.extend(retrain_findings(resolved))
    if run.project is not None or project_file(run.sources) is None:
        # A charter.yaml that failed validation has its own error; judging every server against an empty list
        # would add one finding per server for the same mistake (the gates still refuse on their own).
        run.diagnostics.extend(untrusted_servers(run.specs, run.project))
        run.diagnostics.extend(unreachable_registries(run.specs, run.project))
        run.diagnostics.extend(untrusted_model_stores(run.specs, run.project))
        run.diagnostics.extend(unstored_training(run.specs))
    run.diagnostics.extend(dvc_findings(run.specs, project_reader(run.sources)))
    project_spec = next((spec for spec in run.specs if spec.kind == "Project"), None)
    loaded = [spec.file for spec in run.specs if spec.kind != "Project"] if spec_dirs is None else spec_dirs
    run.diagnostics.extend(refused_output_dirs(project_spec, run.project, loaded))
    read = _records_first(run.records)
    with repofs.held_open():  # each model's folder is looked into, in the order of their names
        evidence, evidence_findings = load_evidence(run.sources, resolved, policies, run.project, read, listed)
    run.diagnostics.extend(evidence_findings)
    applied: set[tuple[str, str, str]] = set()
    run.diagnostics.extend(
        evaluate_policies(
            resolved, policies, run.project, today, run.texts, evidence=evidence, applied=applied, targets=targets
        )
    )
    return Checked(
        input=run.sources,
        diagnostics=sort_diagnostics(run.diagnostics),
        sources=run.texts,
        files=files,
        specs=run.specs,
        project=run.project,
        resolved=resolved,
        policies=policies,
        evidence=evidence,
        applied=frozenset(applied),
    )


def build(
    checked: Checked, today: datetime.date, charter: Installation | None = None, root: Path | None = None
) -> tuple[Checked, list[Output]]:
    """What `charter build` writes, or nothing when the check has errors; two outputs at one path are errors.

    `charter`: the running Charter, compared with the one the workflows install (CH440); the output never
    depends on it, so `build --check` gives the same answer on every machine with the same Charter.
    `root`: the project directory on disk, to tell whether GitHub will read its workflows (CH442).
    """
    if not checked.complete:
        raise ValueError("build needs a complete check: check without a cache")
    if exit_code(checked.diagnostics) or checked.resolved is None:
        return checked, []
    outputs = render_outputs(checked.resolved, checked.project, today, checked.evidence, home(checked.project, root))
    collisions = path_collisions(outputs)
    project_spec = next((spec for spec in checked.specs if spec.kind == "Project"), None)
    pins = pin_findings(project_spec, checked.project, charter) if charter else []
    pins += unread_workflows(project_spec, checked.project, root) if root else []
    return replace(checked, diagnostics=sort_diagnostics([*checked.diagnostics, *collisions, *pins])), outputs


def plan_writes(checked: Checked, outputs: Sequence[Output], root: Path) -> WritePlan:
    """Stage 6, emit, first half: what writing `outputs` under `root` would create, update, remove or refuse."""
    settings = checked.project.spec.outputs if checked.project else Outputs()
    allow_extra = list(settings.allow_extra) if checked.project else []
    return writes.plan(root, outputs, output_directories(settings), allow_extra)


def apply(root: Path, outputs: Sequence[Output], build_plan: WritePlan) -> None:
    """Stage 6, emit: write what `plan_writes` planned (refused paths stay refused)."""
    writes.apply(root, outputs, build_plan)


@dataclass(frozen=True)
class Loaded:
    """One file on its own, read (stage 1): an editor's buffer, a file of another revision, a policy test."""

    path: str
    diagnostics: list[Diagnostic]  # reading's findings: syntax, caps, encoding
    documents: list[Document]

    def spec_of(self, document: Document) -> Spec | None:
        """The document validated (stage 2): its spec, or None when it is not valid or validation failed."""
        try:
            spec, _ = validate(document)
        except Exception:  # noqa: BLE001 - the check reports it (CH900); one file alone only needs the spec
            return None
        return spec


def load_document(content: str | bytes | Path, display: str) -> Loaded:
    """Read one file's YAML documents, shown as `display`; `Loaded.spec_of` validates one of them."""
    if isinstance(content, Path):
        source = load_file(content, display)
    else:
        source = load_text(content, display) if isinstance(content, str) else load_bytes(content, display)
    return Loaded(source.path, source.diagnostics, source.documents)


def current_date() -> datetime.date:
    """CHARTER_TODAY pins the date, so that waiver expiry is reproducible in tests."""
    pinned = os.environ.get("CHARTER_TODAY")
    return datetime.date.fromisoformat(pinned) if pinned else datetime.date.today()
