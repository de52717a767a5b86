"""The server's state: the project, the editor's unsaved buffers, the last check, what was published.

Every check goes through `Workspace.check`, the one call of the pipeline's door `compiler.stages`
(`check(sources.with_buffers(buffers), today)`): a whole-project check on the editor's buffers, so
an edit to a contract re-checks the models, suites and waivers that depend on it. The last finished
`Checked` serves completion, hover and definitions while the next check runs.

The server starts from the project's signed cache (`.charter/cache/`, what `charter check` and the last
server left): the first findings then come from a cached check, which reads only the files that changed
(issue 26: start to first diagnostics). Completion and hover need every spec, so a check that reads the whole
project follows when the editor is idle (`partial`); the cache is written back after the first check.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from lsprotocol import types
from pygls import uris

from compiler.core import repofs
from compiler.core.cache import DirectoryStore, MemoryStore
from compiler.core.collector import freeze_long_lived
from compiler.core.lines import Lines, editor_lines
from compiler.core.sources import ListedTree, Sources, repository_top
from compiler.core.specs import Spec
from compiler.lsp.convert import from_utf16, to_lsp
from compiler.lsp.cursor import Cursor, locate_cursor
from compiler.stages import Checked, check, current_date, project_file


class Stale(Exception):
    """A newer edit arrived while a check ran: its result would be thrown away, so it stops early."""


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.sources = Sources.from_path(self.root)
        self.top = repository_top(self.root)
        self._real_root = os.path.realpath(self.root)
        self.buffers: dict[str, bytes] = {}  # top-relative path -> the editor's text
        self.checked: Checked | None = None
        # The lines of the last check's texts, split once per file for every finding and location in it.
        self.lines = Lines({}, editor_lines)
        self.disk = DirectoryStore(self.root)
        self.cache = MemoryStore()
        self.cache.document = self.disk.read()  # signed with this user's key, else empty
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.partial = False  # the specs of the last check are not the whole project's
        self._listed: Sources | None = None  # the listing an edit's check may take again (`listing_holds`)
        self._write_due = self._freeze_due = False  # left for `settle()`

    # --- buffers ------------------------------------------------------------------------------------------

    def relative(self, uri: str) -> str | None:
        """The top-relative path of a file URI inside the checkout, None outside it."""
        path = uris.to_fs_path(uri)
        if path is None:
            return None
        relative = os.path.relpath(os.path.abspath(path), self.top)
        return None if relative.startswith("..") else Path(relative).as_posix()

    def update(self, uri: str, text: str) -> None:
        relative = self.relative(uri)
        if relative is not None:
            self.buffers[relative] = text.encode("utf-8")

    def close(self, uri: str) -> None:
        """A closed buffer is read from disk again (what the editor saved, or not)."""
        relative = self.relative(uri)
        if relative is not None:
            self.buffers.pop(relative, None)

    # --- the check ----------------------------------------------------------------------------------------

    def check(
        self,
        buffers: Mapping[str, bytes],
        stale: Callable[[], bool] | None = None,
        *,
        whole: bool = False,
        settle_later: bool = False,
        reuse_listing: bool = False,
    ) -> Checked:
        """The one door: the whole project with these buffers; `Stale` when `stale()` turns true on the way.
        `whole` reads every file (no cache), for a workspace whose specs are `partial`. With `settle_later`,
        writing the cache and freezing the first check's objects wait for `settle()` (the server calls it
        once the findings are published: start to first diagnostics, issue 26). With `reuse_listing`, the
        files are those the last check listed, with the signatures it found (an edit in the editor changes a
        buffer, not the listing; `listing_holds` tells, after the findings are out, whether the disk did)."""

        def progress(done: int, total: int) -> None:
            if stale is not None and stale():
                raise Stale

        # One result cache for the server's life: a one-file change re-does only what depends on that file.
        if not reuse_listing or whole or self._listed is None:
            self._listed = self.sources.listed()
        sources = self._listed.with_buffers(buffers)
        seeded = self.cache.document
        cache = None if whole else self.cache
        checked = check(sources, current_date(), progress=progress, cache=cache)
        merged = _merge(self.checked, checked)
        first = self.checked is None
        self.checked = merged
        self.lines = Lines(merged.sources, editor_lines)
        whole_project = checked.complete or len(checked.specs) >= checked.spec_count
        self.partial = (self.partial or first) and not whole_project
        if first and self.cache.document is not seeded and project_file(self.sources) is not None:
            self._write_due = True  # the next server starts from it (in a Charter project only)
        self._freeze_due = self._freeze_due or first or whole
        if not settle_later:
            self.settle()
        return merged

    def settle(self) -> None:
        """What a first (or whole) check leaves to do: write the cache, and take what it made out of the
        cyclic collector's sight. Most of it lives as long as the server; frozen, it is not traversed again
        by every full collection, which took 300-400 ms at 1,000 specs and landed on an edit now and then."""
        self.write_cache()
        if self._freeze_due:
            self._freeze_due = False
            freeze_long_lived()

    def write_cache(self) -> None:
        """The first half of `settle`: the cache the next server starts from (15 ms of CPU at 1,000 specs;
        freezing takes 450 ms, and waits for the editor to be idle)."""
        if self._write_due:
            self._write_due = False
            self.disk.write(self.cache.document)

    def answers(self, checked: Checked, buffers: Mapping[str, bytes]) -> bool:
        """Whether `checked`, a check of `buffers`, is also the check of the buffers now: every buffer opened or
        changed since holds the text the check read of that file, and none was closed."""
        if not buffers.keys() <= self.buffers.keys():
            return False
        for relative, text in self.buffers.items():
            if buffers.get(relative) == text:
                continue
            read = checked.sources.get(self.sources.display(relative))
            if read is None or read.encode("utf-8") != text:
                return False
        return True

    def listing_holds(self) -> bool:
        """Whether the files on disk are still those the last listing found, with the same signatures; when not
        (a file added, removed or written outside the editor), the next check lists them again."""
        listed = self._listed.tree if self._listed is not None else None
        if not isinstance(listed, ListedTree) or listed.holds(Sources.from_path(self.root).tree):
            return True
        self._listed = None
        return False

    def diagnostics(self, checked: Checked) -> dict[str, list[types.Diagnostic]]:
        """The findings of a check by file URI, by position (then message, so that the order is total)."""
        found: dict[str, list[types.Diagnostic]] = {}
        lines = self.lines if checked is self.checked else Lines(checked.sources, editor_lines)
        for diagnostic in checked.diagnostics:
            if not diagnostic.file:
                continue
            uri = self.uri_of(diagnostic.file)
            found.setdefault(uri, []).append(to_lsp(diagnostic, lines.of(diagnostic.file)))
        for diagnostics in found.values():
            # The check's order, made total: findings at one place that differ only in their hints.
            diagnostics.sort(key=lambda d: (d.range.start.line, d.range.start.character, d.message))
        return found

    def to_publish(self, checked: Checked, always: set[str]) -> dict[str, list[types.Diagnostic]]:
        """What changed since the last publication, the files in `always` (just opened or edited) included;
        files that no longer have findings get an empty list, which clears them."""
        current = self.diagnostics(checked)
        changes = {uri: found for uri, found in current.items() if uri in always or self.published.get(uri) != found}
        for uri in [*self.published, *always]:
            if uri not in current:
                changes[uri] = []
        self.published = current
        return changes

    # --- files --------------------------------------------------------------------------------------------

    def uri_of(self, display: str) -> str:
        """A display path of the check (relative to the working directory, or absolute) as a file URI,
        spelt under the root the editor gave, so that it matches the editor's URIs."""
        return uris.from_fs_path(str(self.path_of(display))) or display

    def path_of(self, display: str) -> Path:
        absolute = os.path.realpath(os.path.join(os.getcwd(), display))
        inside = os.path.relpath(absolute, self._real_root)
        return Path(absolute) if inside.startswith("..") else self.root / inside

    def display_of(self, uri: str) -> str | None:
        relative = self.relative(uri)
        return None if relative is None else self.sources.display(relative)

    def text_of(self, uri: str) -> str | None:
        """The editor's buffer, else the text the last check read, else the file in the workspace.

        Nothing outside the checkout is read, whatever URI a request names (`/dev/zero` grew the server to
        24 GB; a FIFO hung it), and inside it only through the checks' reader (`compiler.core.repofs`): a
        regular file, never through a link, at most the cap of a spec file.
        """
        relative = self.relative(uri)
        if relative is None:
            return None
        if relative in self.buffers:
            return self.buffers[relative].decode("utf-8", errors="replace")
        display = self.sources.display(relative)
        if self.checked is not None and display in self.checked.sources:
            return self.checked.sources[display]
        try:
            return self.sources.read(relative).decode("utf-8")
        except (repofs.Refused, repofs.TooLarge, OSError, UnicodeDecodeError):
            return None

    def cursor(self, uri: str, position: types.Position) -> Cursor | None:
        """Where an LSP position (UTF-16 columns) is in the file's current text."""
        text = self.text_of(uri)
        lines = text.split("\n") if text is not None else []
        if text is None or position.line >= len(lines):
            return None
        return locate_cursor(text, position.line, from_utf16(lines[position.line], position.character))

    def specs_in(self, uri: str) -> list[Spec]:
        display = self.display_of(uri)
        if self.checked is None or display is None:
            return []
        every = {id(spec): spec for spec in [*self.checked.specs, *self.checked.policies]}
        return [spec for spec in every.values() if spec.file == display]

    def spec_at(self, uri: str, line: int, document: int) -> Spec | None:
        """The spec of the last check whose document holds `line` (0-based) of this file."""
        specs = self.specs_in(uri)
        if len(specs) == 1:
            return specs[0]
        for spec in specs:
            node = spec.document.node
            if node.start_mark.line <= line <= node.end_mark.line:
                return spec
        return next((spec for spec in specs if spec.document.index == document), None)


def _merge(last: Checked | None, checked: Checked) -> Checked:
    """A cached check reads again only the files whose findings may have changed: its findings are whole,
    its specs and texts are not. Completion, hover and definitions need every spec, so the specs and texts
    of the files it did not read again are taken from the last check."""
    if checked.complete or last is None:
        return checked
    read = checked.read
    specs = [spec for spec in last.specs if spec.file not in read] + checked.specs
    fresh = {(spec.file, spec.document.index) for spec in checked.policies}
    kept = [spec for spec in last.policies if spec.file not in read and (spec.file, spec.document.index) not in fresh]
    return dataclasses.replace(
        checked,
        specs=specs,
        policies=kept + checked.policies,
        sources={**last.sources, **checked.sources},
    )
