"""`charter check --changed-since REV`: which objects a change can affect.

The check itself always runs in full; this module only chooses which of
its findings to report, so a changed-only check is exactly as strict as a
full check on the objects it reports on. Those objects are:

- every spec whose document changed since REV (added, removed, edited or
  moved to another file), compared by kind and name;
- everything that refers to one of them, transitively (the reverse of the
  reference graph: a contract's models and suites, a suite's models, an
  environment's models and the environments that promote from it, a
  target's waivers, the waivers and Project settings that name a policy);
- what a changed Model or Waiver refers to, whose findings see it (a
  suite's "metrics fit the task", a contract's `related.models`, a waived
  target);
- everything a changed Policy matches (by kinds and labels; its CEL
  conditions are not evaluated, which can only widen the scope);
- and, for findings that belong to no valid spec (a YAML syntax error, an
  empty file), the changed files themselves, as `("File", path)`.

A change to the Project file (`charter.yaml`) can change anything: the
scope is then None, which means a full check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.policy import Policy
from compiler.core.references import labels_match, references
from compiler.core.sources import PROJECT_FILES, Kind, Sources
from compiler.core.specs import Spec
from compiler.integrations.gitops.git import GitError, Repo
from compiler.integrations.gitops.snapshot import document_key
from compiler.stages import Checked, Loaded, check_path, load_document

Key = tuple[str, str]
FILE = "File"

__all__ = ["FILE", "GitError", "changed_scope", "in_scope", "restrict_to_changes"]


def restrict_to_changes(result: Checked, rev: str) -> Checked:
    """The findings of a full check (`result`) that are about what changed since `rev`."""
    return replace(result, diagnostics=in_scope(result, changed_scope(result.root, rev, head=result)))


def changed_scope(root: Path, rev: str, *, head: Checked | None = None) -> set[Key] | None:
    """The (kind, name) pairs to report on, or None for "everything" (a full check).

    `head` is the full check of `root` in the working tree, when the caller
    has already run it; otherwise it is run here. Raises GitError when
    `root` is not in a git repository or `rev` does not exist.
    """
    if root.is_file():
        return None
    repo = Repo.discover(root)
    commit = repo.resolve(rev)
    head = head or check_path(root)
    sources = head.input
    project_files = {sources.display(sources.inside(name)) for name in PROJECT_FILES}
    read = set(head.sources)
    before: dict[Key, tuple[str, Any]] = {}
    after: dict[Key, tuple[str, Any]] = {}
    old_specs: list[Spec] = []
    new_specs: list[Spec] = []
    scope: set[Key] = set()
    folders = _folders(repo, root, head)
    old_entries = repo.entries(commit)
    changed = _changed_files(repo, sources, old_entries, folders, read)
    old_blobs = _blobs_at(repo, old_entries, [relative for relative, _, _ in changed])
    for relative, display, exists in changed:
        if display in project_files:
            return None
        scope.add((FILE, display))
        if relative in old_blobs:
            _collect(load_document(old_blobs[relative], display), before, old_specs)
        if exists:
            _collect(_load_current(sources, relative, display), after, new_specs)
    changed_keys = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
    if any(kind == "Project" for kind, _ in changed_keys):
        return None
    current = _current_specs(head, new_specs)
    contracts = _contract_ids([*current, *old_specs])
    affected = set(changed_keys)
    for spec in [*old_specs, *new_specs]:
        if _key(spec) in changed_keys and spec.kind in ("Model", "Waiver"):
            affected.update(_refs(spec, contracts))
    for spec in [*old_specs, *new_specs]:
        if _key(spec) in changed_keys and isinstance(spec.model, Policy):
            affected.update(_key(target) for target in current if _matches(spec.model, target))
    _close_over_referrers(affected, current, contracts)
    return scope | affected


def in_scope(result: Checked, scope: set[Key] | None) -> list[Diagnostic]:
    """The findings of a full check that are about objects in `scope` (all of them when None).

    A finding is kept when the spec document it points at is in the scope by
    kind and name; when it points at no valid spec (a file that does not
    parse, a document that fails validation) and its file changed; or when
    it is about the run rather than a file that was read.
    """
    if scope is None:
        return list(result.diagnostics)
    targets = {(spec.file, spec.document.index): _key(spec) for spec in result.specs}
    kept = []
    for d in result.diagnostics:
        key = targets.get((d.file, d.document))
        if key is not None:
            if key in scope:
                kept.append(d)
        elif not d.file or d.file not in result.sources or (FILE, d.file) in scope:
            kept.append(d)
    return kept


# --- reading both versions of the changed files --------------------------------------------


def _folders(repo: Repo, root: Path, head: Checked) -> list[str]:
    """Where a deleted spec file could have been read from: the project and its policy directories."""
    folders = [repo.prefix(root)]
    for directory in head.project.spec.policies.paths if head.project else []:
        try:
            folders.append(repo.prefix(root / directory))
        except GitError:
            continue
    return folders


def _under(relative: str, folders: list[str]) -> bool:
    return any(not folder or relative.startswith(folder + "/") for folder in folders)


def _changed_files(
    repo: Repo, sources: Sources, old: dict[str, tuple[str, str]], folders: list[str], read: set[str]
) -> list[tuple[str, str, bool]]:
    """(top-relative path, display path, exists now) of every file the check read that differs from `old`
    (the revision's entries), and of every spec file there that is gone.

    The working tree is compared by hashing its files here, as git would without filters: git itself is
    never run on the working tree, where the checkout's attributes, filters and fsmonitor would apply.
    """
    paths = {path for path in old if _under(path, folders)}
    for folder in dict.fromkeys(folders):
        paths.update(path for path, kind in sources.walk(folder) if kind is Kind.FILE)
    changed = []
    for relative in sorted(paths):
        display = sources.display(relative)
        exists = _kind(sources, relative) is Kind.FILE
        deleted_spec = not exists and relative.endswith((".yaml", ".yml")) and relative in old
        if (display in read and (not exists or _differs(repo, sources, relative, old.get(relative)))) or deleted_spec:
            changed.append((relative, display, exists))
    return changed


def _kind(sources: Sources, relative: str) -> Kind | None:
    try:
        return sources.kind(relative)
    except repofs.Refused:
        return Kind.LINK


def _differs(repo: Repo, sources: Sources, relative: str, old: tuple[str, str] | None) -> bool:
    if old is None or old[0] not in ("100644", "100755"):
        return True
    try:
        return repo.blob_id(sources.read(relative)) != old[1]
    except (repofs.Refused, repofs.TooLarge, OSError):
        return True  # unreadable now: reported as changed, which can only widen the scope


def _blobs_at(repo: Repo, entries: dict[str, tuple[str, str]], paths: list[str]) -> dict[str, bytes]:
    """The revision's version of these files (blobs over the cap are sized and left unread)."""
    regular = {path: entries[path][1] for path in paths if path in entries and entries[path][0] in ("100644", "100755")}
    blobs = repo.read(regular.values(), repofs.DEFAULT_CAP)
    return {path: blobs[sha] for path, sha in regular.items() if sha in blobs}


def _load_current(sources: Sources, relative: str, display: str) -> Loaded:
    """The working tree's version, through the sources the check read (no link followed)."""
    try:
        return load_document(sources.read(relative), display)
    except (repofs.Refused, repofs.TooLarge, OSError):
        return Loaded(display, [], [])


def _collect(source: Loaded, into: dict[Key, tuple[str, Any]], specs: list[Spec]) -> None:
    for document in source.documents:
        key = document_key(document)
        if key is None:
            continue
        into.setdefault(key, (source.path, document.data))
        spec = source.spec_of(document)  # the full check reports a document that fails; the scope needs the key
        if spec is not None:
            specs.append(spec)


def _current_specs(head: Checked, changed_files_specs: list[Spec]) -> list[Spec]:
    """The head's specs, plus policies from policy directories (not among `head.specs`)."""
    seen = {(spec.file, spec.document.index) for spec in head.specs}
    extra = [spec for spec in changed_files_specs if (spec.file, spec.document.index) not in seen]
    return [*head.specs, *extra]


# --- the reference graph --------------------------------------------------------------------


def _key(spec: Spec) -> Key:
    return (spec.kind, spec.name)


def _contract_ids(specs: Iterable[Spec]) -> dict[str, set[str]]:
    """A contract reference (by id or name) -> the ids it can mean."""
    ids: dict[str, set[str]] = {}
    for spec in specs:
        if spec.contract is not None:
            ids.setdefault(spec.contract.id, set()).add(spec.contract.id)
            if spec.contract.name:
                ids.setdefault(spec.contract.name, set()).add(spec.contract.id)
    return ids


def _refs(spec: Spec, contracts: dict[str, set[str]]) -> set[Key]:
    return set(_references(spec, contracts))


def _references(spec: Spec, contracts: dict[str, set[str]]) -> Iterator[Key]:
    for reference in references(spec):
        if reference.kind == CONTRACT_KIND:
            # A contract is named by its id or its name; the scope speaks of ids.
            for contract_id in contracts.get(reference.name, {reference.name}):
                yield (CONTRACT_KIND, contract_id)
        else:
            yield (reference.kind, reference.name)


def _matches(policy: Policy, target: Spec) -> bool:
    return target.kind in policy.spec.match.kinds and labels_match(policy.spec.match.labels, target)


def _close_over_referrers(affected: set[Key], specs: list[Spec], contracts: dict[str, set[str]]) -> None:
    references = [(_key(spec), _refs(spec, contracts)) for spec in specs]
    grew = True
    while grew:
        grew = False
        for key, refs in references:
            if key not in affected and refs & affected:
                affected.add(key)
                grew = True
