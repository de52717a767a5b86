"""The one door: `check(sources) -> Checked`; stages in order: discover -> load -> validate -> resolve -> check.

Every command (check, build, plan, changed-only, github report, the gates, policy tests) enters here with a
`Sources` (a directory, a git revision or editor buffers) and gets back a frozen `Checked`. Data flows one
way; every stage returns Diagnostics rather than raising, and one file's failure never stops the others.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from compiler.core.cache import Store
from compiler.core.diagnostics import Diagnostic, exit_code, sort_diagnostics
from compiler.core.installed import Installation
from compiler.core.models.project import Project
from compiler.core.sources import Sources
from compiler.core.specs import Spec
from compiler.stages import incremental
from compiler.stages.cached import (
    GLOBAL_KINDS,
    by_unit,
    dated,
    evidence_digests,
    file_digests,
    reading_related,
    shared_digest,
    summaries_of,
    texts_of,
    waived_targets,
)
from compiler.stages.capped import cap_per_document
from compiler.stages.charter_pin import pin_findings
from compiler.stages.check import check as evaluate_policies
from compiler.stages.discovery import Run, load_project, project_entries, project_file, spec_files
from compiler.stages.endpoints import untrusted_servers
from compiler.stages.evidence.store import EvidenceByModel, load_evidence
from compiler.stages.governed import Governance
from compiler.stages.incremental import Graph, Recorded, Summary, digest_of, users_reading_kinds
from compiler.stages.overlaps import name_collisions, path_collisions, refused_output_dirs
from compiler.stages.parallel_load import load_files
from compiler.stages.policy_loading import load_policies
from compiler.stages.render import Output, render
from compiler.stages.resolve import Resolved, resolve
from compiler.stages.training_job import unreachable_registries, untrusted_model_stores
from compiler.stages.unchecked import Entry, unchecked_specs
from compiler.stages.workflow_home import home, unread_workflows

__all__ = ["Checked", "build", "check", "check_path", "current_date", "project_entries", "spec_files"]

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
    counted: int | None = None  # how many specs the project holds, when `specs` holds only those read again
    read: frozenset[str] = frozenset()  # with `counted`: the files read again (`sources` may hold more texts)

    @property
    def spec_count(self) -> int:
        return len(self.specs) if self.counted is None else self.counted

    @property
    def complete(self) -> bool:
        """Whether `specs` and `resolved` hold the whole project (a cached check reads only what changed)."""
        return self.counted is None

    @property
    def root(self) -> Path:
        """The project root as the working tree shows it."""
        return self.input.shown_as


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
    into specs again (`compiler.stages.cached`): the findings are the same, `specs` holds only what was read.
    With `governance` (another revision's, `compiler.stages.governed`), the specs are judged by it instead of
    by their own Project, policies and waivers: the plan's cross check, never cached.
    """
    run = Run(sources)
    project = project_file(sources)
    load_project(run, project)
    candidates, files = _discover(run, project)
    if cache is not None and sources.only is None and governance is None:
        checked = _check_cached(run, Discovered(candidates, files, project), today, cache, extra_policies, progress)
    else:
        sources.prefetch(files)
        # The project file was read and validated first, for its globs and settings.
        load_files(run, [file for file in files if file != project], progress)
        policies = load_policies(run, files, extra_policies)
        if governance is not None:
            run.specs, run.project, policies = (
                governance.judge(run.specs),
                governance.project,
                list(governance.policies),
            )
        checked = finish(run, len(files), policies, today)
    # Capped last, on the whole list, so that cached and editor checks show what a cold check shows.
    return replace(checked, diagnostics=sort_diagnostics(cap_per_document(checked.diagnostics)))


@dataclass(frozen=True)
class Discovered:
    """What a run may read (`entries`), the spec files among them, and the project file."""

    entries: list[Entry]
    files: list[str]
    project: str | None


def _discover(run: Run, project: str | None) -> tuple[list[Entry], list[str]]:
    sources = run.sources
    candidates = [] if sources.only else project_entries(sources, run.project)
    files = [sources.inside(sources.only)] if sources.only else spec_files(candidates, run.project)
    if project is not None and project not in files:
        # Globs that miss charter.yaml must not hide its findings (a `${{` in it, say).
        files.insert(0, project)
    if sources.only is None:
        run.diagnostics.extend(unchecked_specs(sources, candidates, files))
    if not files:
        shown = sources.display(sources.project)
        run.diagnostics.append(Diagnostic.of("CH901", "no spec files found", shown))
    return candidates, files


def finish(
    run: Run,
    files: int,
    policies: list[Spec],
    today: datetime.date,
    *,
    spec_dirs: Sequence[str] | None = None,
    targets: Collection[str] | None = None,
) -> Checked:
    """The cross-file stages on what `run` read: resolve, collisions, evidence, policies and waivers.

    `spec_dirs` lists every file holding a valid spec when `run` read only some of them; `targets` limits
    policy evaluation to the specs of these files.
    """
    resolved = resolve(run.specs, [spec.name for spec in policies])
    run.diagnostics.extend(resolved.diagnostics)
    run.diagnostics.extend(name_collisions(resolved, run.project))
    if run.project is not None or project_file(run.sources) is None:
        # A charter.yaml that failed validation has its own error; judging every server against an empty list
        # would add one finding per server for the same mistake (the gates still refuse on their own).
        run.diagnostics.extend(untrusted_servers(run.specs, run.project))
        run.diagnostics.extend(unreachable_registries(run.specs, run.project))
        run.diagnostics.extend(untrusted_model_stores(run.specs, run.project))
    project_spec = next((spec for spec in run.specs if spec.kind == "Project"), None)
    loaded = [spec.file for spec in run.specs if spec.kind != "Project"] if spec_dirs is None else spec_dirs
    run.diagnostics.extend(refused_output_dirs(project_spec, run.project, loaded))
    evidence, evidence_findings = load_evidence(run.sources, resolved, policies, run.project)
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


def _check_cached(
    run: Run,
    found: Discovered,
    today: datetime.date,
    cache: Store,
    extra_policies: Sequence[Path],
    progress: Progress | None,
) -> Checked:
    """Hash the spec files (those whose signature was recorded are not even read); read into specs only the
    files whose findings may have changed, and what they depend on (`compiler.stages.incremental`); take
    the other files' findings from the cache."""
    sources, recorded = run.sources, Recorded.of(cache.read())
    by_shown = {sources.display(file): file for file in found.files}
    digests, signatures = file_digests(sources, by_shown, recorded.signatures)
    recorded_summaries = {shown: recorded.summary_of(digest) for shown, digest in digests.items()}
    read = {shown for shown, summary in recorded_summaries.items() if _read_every_run(summary)}
    project = {sources.display(found.project)} if found.project else set()  # read and validated already
    _load(run, sorted(read - project), by_shown, progress)
    read |= project
    policies = load_policies(run, found.files, extra_policies)
    summaries = summaries_of(run, read, recorded_summaries)
    global_files = {file for file in read if _read_every_run(summaries.get(file))}
    units = {file: summaries.get(file, []) for file in by_shown if file not in global_files}
    gitops = run.project is not None and run.project.spec.deployment.mode == "gitops"
    graph = Graph(units, gitops, users_reading_kinds(reading_related(policies)))
    shared, dates = shared_digest(run, policies, extra_policies, global_files), dated(policies, today)
    evidence, evidence_signatures = evidence_digests(sources, found.entries, graph, recorded.signatures)
    inputs = digest_of([digests, shared, sorted(dates[0]), dates[1], evidence, graph.gitops])
    keys = recorded.keys_for(inputs, units) or {
        unit: incremental.key(unit, graph, digests, shared, dates, evidence) for unit in units
    }
    cached = {unit: recorded.findings_of(unit_key) for unit, unit_key in keys.items() if digests[unit]}
    stale = {unit for unit in units if cached.get(unit) is None}
    context = set().union(*(graph.dependencies(unit) for unit in stale)) if stale else set()
    _load(run, sorted((stale | context) - read), by_shown, progress)
    targets = stale | global_files | waived_targets(graph, stale & graph.by_kind.get("Waiver", set()))
    spec_dirs = [file for file, summary in summaries.items() if any(entry["k"] != "Project" for entry in summary)]
    checked = finish(run, len(found.files), policies, today, spec_dirs=spec_dirs, targets=targets)
    fresh = by_unit(checked.diagnostics, graph, sources, stale)
    diagnostics = fresh.pop("", [])
    for unit in units:
        diagnostics.extend(fresh.setdefault(unit, []) if unit in stale else cached[unit] or [])
    written = {unit: fresh[unit] for unit in stale if digests[unit]}
    document = recorded.next(summaries, digests, keys, written, {**signatures, **evidence_signatures}, inputs)
    if stale or document != recorded.document():  # an unchanged project leaves the cache as it was
        cache.write(document)
    shown = {finding.file for finding in diagnostics} - run.texts.keys()
    texts = texts_of(sources, {file: by_shown[file] for file in shown if file in by_shown})
    return replace(
        checked,
        diagnostics=sort_diagnostics(diagnostics),
        sources={**texts, **run.texts},
        counted=sum(len(summary) for summary in summaries.values()),
        read=frozenset(run.texts),
    )


def _load(run: Run, files: list[str], by_shown: Mapping[str, str], progress: Progress | None) -> None:
    load_files(run, [by_shown[shown] for shown in files], progress)


def _read_every_run(summary: Summary | None) -> bool:
    """Files not yet summarised, and those holding a Project or a Policy, which every key depends on."""
    return summary is None or any(entry["k"] in GLOBAL_KINDS for entry in summary)


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
    outputs = render(checked.resolved, checked.project, today, checked.evidence, home(checked.project, root))
    collisions = path_collisions(outputs)
    project_spec = next((spec for spec in checked.specs if spec.kind == "Project"), None)
    pins = pin_findings(project_spec, checked.project, charter) if charter else []
    pins += unread_workflows(project_spec, checked.project, root) if root else []
    return replace(checked, diagnostics=sort_diagnostics([*checked.diagnostics, *collisions, *pins])), outputs


def current_date() -> datetime.date:
    """CHARTER_TODAY pins the date, so that waiver expiry is reproducible in tests."""
    pinned = os.environ.get("CHARTER_TODAY")
    return datetime.date.fromisoformat(pinned) if pinned else datetime.date.today()
