"""A project checked at one revision: findings, specs and generated files.

A revision is checked through the same door as the working tree
(`compiler.stages.pipeline.check`), with its files read from git objects
(`ls-tree`, then one `cat-file --batch` for what the globs select): nothing
is checked out or written anywhere. Discovery, globs, excludes, policy
directories and packs behave exactly as they do on a working tree, and every
path is shown as the working tree shows it, so a comparison between two
revisions shows the change, never a difference between two ways of reading.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from compiler.core.diagnostics import Diagnostic, exit_code
from compiler.core.documents import Document
from compiler.core.outputs import Output
from compiler.core.sources import GitTree, Sources
from compiler.core.specs import Spec
from compiler.integrations.gitops.git import Repo
from compiler.stages import Checked, check, check_path, render_outputs

WORKING_TREE = "working tree"


@dataclass(frozen=True, slots=True)
class Located:
    """A spec of a snapshot; its file is shown as the working tree shows it, whichever revision it came from."""

    spec: Spec

    @property
    def file(self) -> str:
        return self.spec.file

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
    result: Checked
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
    return _finish(Snapshot(WORKING_TREE, None, result), outputs=outputs, today=today)


def at_revision(
    path: Path, rev: str, today: datetime.date, *, repo: Repo | None = None, outputs: bool = True
) -> Snapshot:
    """Check the project at `path` as it was at `rev`, without checking anything out."""
    repo = repo or Repo.discover(path)
    commit = repo.resolve(rev)
    label = repo.short(commit)
    sources = Sources(GitTree(repo.entries(commit), repo), repo.prefix(path), path, label=label)
    return _finish(Snapshot(label, commit, check(sources, today)), outputs=outputs, today=today)


def _finish(snapshot: Snapshot, *, outputs: bool, today: datetime.date) -> Snapshot:
    result = snapshot.result
    seen = {spec.file for spec in result.specs}
    snapshot.specs.extend(Located(spec) for spec in result.specs)
    # Policies read from policy directories and packs are not among the project's specs.
    snapshot.specs.extend(Located(policy) for policy in result.policies if policy.file not in seen)
    if not outputs or result.resolved is None:
        return snapshot
    try:
        rendered = render_outputs(result.resolved, result.project, today, result.evidence)
    except Exception as error:  # noqa: BLE001 - specs with errors may not render; the plan says so
        snapshot.render_note = f"{snapshot.label} does not render ({type(error).__name__}): fix its errors first"
        return snapshot
    snapshot.outputs = rendered
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
