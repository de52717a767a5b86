"""A project checked at one revision: findings, specs and generated files.

A revision's spec files are read from git objects (`ls-tree`, one
`cat-file --batch`) and written to a private temporary directory, where the
unchanged pipeline (`check_path`) runs on them: discovery, globs, excludes,
policy directories and packs behave exactly as they do on a working tree,
so a comparison between two revisions shows the change, never a difference
between two ways of reading specs. Paths are then mapped back to what the
same files show in the working tree, so findings compare across revisions.
"""

from __future__ import annotations

import datetime
import fnmatch
import posixpath
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from compiler.diagnostics import Diagnostic, exit_code
from compiler.evidence import EVIDENCE_DIR
from compiler.gitops.git import Repo, TreeEntry
from compiler.load import Document, load_bytes, load_text
from compiler.models.project import DEFAULT_SPEC_GLOBS, Project
from compiler.pipeline import CheckResult, check_path
from compiler.render import Output, render
from compiler.specs import Spec
from compiler.validate import validate
from compiler.workspace import PROJECT_FILES, display_path

WORKING_TREE = "working tree"


@dataclass(frozen=True, slots=True)
class Located:
    """A spec, and the file it is in as the working tree would show it."""

    spec: Spec
    file: str

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class Snapshot:
    label: str  # a short commit id, or "working tree"
    commit: str | None
    result: CheckResult
    specs: list[Located] = field(default_factory=list)
    outputs: list[Output] | None = None
    render_note: str | None = None

    @property
    def blocked(self) -> bool:
        return bool(exit_code(self.result.diagnostics))

    def target_of(self, diagnostic: Diagnostic) -> Located | None:
        """The spec a finding is about, by its file and document."""
        for located in self.specs:
            if located.file == diagnostic.file and located.spec.document.index == diagnostic.document:
                return located
        return None

    def targets(self) -> dict[tuple[str, int], Located]:
        return {(located.file, located.spec.document.index): located for located in self.specs}


def at_worktree(path: Path, today: datetime.date, *, outputs: bool = True) -> Snapshot:
    result = check_path(path, today=today)
    return _finish(Snapshot(WORKING_TREE, None, result), result, today, lambda text: text, outputs=outputs)


def at_revision(
    path: Path, rev: str, today: datetime.date, *, repo: Repo | None = None, outputs: bool = True
) -> Snapshot:
    """Check the project at `path` as it was at `rev`, without checking anything out."""
    repo = repo or Repo.discover(path)
    commit = repo.resolve(rev)
    prefix = repo.prefix(path)
    entries = repo.tree(commit)
    chosen = _select(repo, entries, prefix)
    blobs = repo.read(entry.sha for entry in chosen)
    with tempfile.TemporaryDirectory(prefix="charter-rev-") as temporary:
        root = Path(temporary)
        for entry in chosen:
            target = root / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blobs[entry.sha])
        project_dir = root / prefix if prefix else root
        project_dir.mkdir(parents=True, exist_ok=True)
        # The top of the checkout, as in the working tree: policy directories may not leave it.
        (root / ".git").mkdir(exist_ok=True)
        result = check_path(project_dir, today=today)
        mapper = _mapper(display_path(root), repo.root)
        _remap(result, mapper)
        result.root = path
        snapshot = Snapshot(repo.short(commit), commit, result)
        return _finish(snapshot, result, today, mapper, outputs=outputs)


# --- which blobs a revision needs ---------------------------------------------


def _select(repo: Repo, entries: list[TreeEntry], prefix: str) -> list[TreeEntry]:
    """The files `check_path` may read: spec globs (generously matched), policy dirs, the Project."""
    under = [entry for entry in entries if not prefix or entry.path.startswith(prefix + "/")]
    relative = {entry.path: entry.path[len(prefix) + 1 :] if prefix else entry.path for entry in under}
    globs: list[str] = list(DEFAULT_SPEC_GLOBS)
    policy_dirs: list[str] = []
    project_files = {posixpath.join(prefix, name) if prefix else name for name in PROJECT_FILES}
    project_entry = next((entry for entry in under if entry.path in project_files), None)
    if project_entry is not None:
        project = _project(repo.read([project_entry.sha])[project_entry.sha], project_entry.path)
        if project is not None:
            globs = list(project.spec.specs)
            policy_dirs = list(project.spec.policies.paths)
    chosen = {entry.path: entry for entry in under if _may_match(relative[entry.path], globs)}
    # Committed evidence: model cards and evidence policies read it (compiler/evidence/store.py).
    chosen.update(
        {
            entry.path: entry
            for entry in under
            if relative[entry.path].startswith(EVIDENCE_DIR + "/") and entry.path.endswith(".json")
        }
    )
    if project_entry is not None:
        chosen[project_entry.path] = project_entry
    for directory in policy_dirs:
        folder = posixpath.normpath(posixpath.join(prefix, directory)) if prefix else posixpath.normpath(directory)
        if folder == ".." or folder.startswith("../"):
            continue  # outside the repository: nothing a revision can hold
        for entry in entries:
            if (folder == "." or entry.path.startswith(folder + "/")) and entry.path.endswith((".yaml", ".yml")):
                chosen[entry.path] = entry
    return sorted(chosen.values(), key=lambda entry: entry.path)


def _project(raw: bytes, display: str) -> Project | None:
    for document in load_bytes(raw, display).documents:
        if isinstance(document.data, dict) and document.data.get("kind") == "Project":
            spec, _ = validate(document)
            if spec is not None and isinstance(spec.model, Project):
                return spec.model
    return None


def _may_match(relative: str, patterns: list[str]) -> bool:
    """A superset of what `Path.glob` matches; `check_path` applies the exact globs."""
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, pattern.removeprefix("**/")):
            return True
        if "**" in pattern and fnmatch.fnmatchcase(name, pattern.rsplit("/", 1)[-1]):
            return True
    return False


# --- paths: from the temporary directory back to the working tree's ---------------


def _mapper(temporary_display: str, repo_root: Path) -> Callable[[str], str]:
    prefix = temporary_display.rstrip("/") + "/"
    pattern = re.compile(re.escape(prefix) + r"([^\s:()`'\",\]\[]+)")

    def mapped(text: str) -> str:
        if prefix not in text:
            return text
        return pattern.sub(lambda match: display_path(repo_root / match.group(1)), text)

    return mapped


def _remap(result: CheckResult, mapped: Callable[[str], str]) -> None:
    result.diagnostics = [
        d.with_changes(file=mapped(d.file), message=mapped(d.message), hint=mapped(d.hint) if d.hint else d.hint)
        for d in result.diagnostics
    ]
    result.sources = {mapped(path): text for path, text in result.sources.items()}


def _finish(
    snapshot: Snapshot, result: CheckResult, today: datetime.date, mapped: Callable[[str], str], *, outputs: bool
) -> Snapshot:
    seen: set[str] = set()
    for spec in result.specs:
        located = Located(spec, mapped(spec.file))
        snapshot.specs.append(located)
        seen.add(located.file)
    # Policies read from policy directories and packs are not in `result.specs`.
    for file, text in sorted(result.sources.items()):
        if file in seen:
            continue
        for document in load_text(text, file).documents:
            if not isinstance(document.data, dict) or document.data.get("kind") != "Policy":
                continue
            policy, _ = validate(document)
            if policy is not None:
                snapshot.specs.append(Located(policy, file))
    if not outputs:
        return snapshot
    if result.resolved is None:
        return snapshot
    try:
        rendered = render(result.resolved, result.project, today, result.evidence)
    except Exception as error:  # noqa: BLE001 - specs with errors may not render; the plan says so
        snapshot.render_note = f"{snapshot.label} does not render ({type(error).__name__}): fix its errors first"
        return snapshot
    snapshot.outputs = [Output(output.path, mapped(output.text), mapped(output.source)) for output in rendered]
    if snapshot.blocked:
        snapshot.render_note = f"{snapshot.label} has errors: `charter build` writes nothing until they are fixed"
    return snapshot


def document_key(document: Document) -> tuple[str, str] | None:
    """(kind, name) of a raw document, valid or not: what a finding on it is about."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None
    kind = data["kind"]
    if kind == "DataContract":
        return (kind, str(data["id"])) if data.get("id") is not None else None
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return (kind, name) if isinstance(name, str) else None


def relocate(spec: Spec, file: str) -> Spec:
    return replace(spec, document=replace(spec.document, file=file))
