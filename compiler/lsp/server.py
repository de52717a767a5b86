"""The pygls wiring: LSP messages in, the workspace's checks and answers out, over stdio.

Checks run one at a time in a worker thread, so completion and hover stay answered while a check runs. An
edit waits `debounce` seconds for the next one (opening and saving do not wait); every edit makes the
checks before it stale: a stale check stops while it still reads files, and its findings are never
published. Findings are published for the files just opened or edited and for every file whose findings
changed, so an edit to a contract shows (or clears) the findings of the models that use it.

An edit's check takes the files the last check listed again (an edit changes a buffer, not the disk); once its
findings are out and no edit came for `IDLE`, the disk is walked, and a file added, removed or written
outside the editor since then makes one more check, which lists the files again. Opening, saving and closing a
file always list them again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from compiler import __version__
from compiler.lsp import actions, completion, definition, hover
from compiler.lsp.workspace import Stale, Workspace

DEBOUNCE = 0.0
"""No fixed wait: checks run one at a time, and the edits made while one runs are checked together next."""
IDLE = 0.25
"""How long the editor is idle before the work a check leaves is done: freezing objects after the first check
(0.45 s of CPU at 1,000 specs, 1.3 s on a loaded machine, which the first edit waited for), and the walk that
verifies the listing edits take again (a third of an edit's check): between bursts of typing, not between
keystrokes."""
T = TypeVar("T")
log = logging.getLogger(__name__)


class CharterServer(LanguageServer):
    def __init__(self, debounce: float = DEBOUNCE) -> None:
        super().__init__("charter", __version__)
        self.debounce = debounce
        self.project: Workspace | None = None
        self.generation = 0
        self.touched: set[str] = set()
        self.answered = 0  # a generation whose check is not run: an older check's findings answer it
        self.list_again = True  # a file opened, saved or closed: the next check lists the files again
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charter-check")
        self._running: asyncio.Lock | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    def start(self, root: Path) -> None:
        self.project = Workspace(root)
        self.list_again = True
        self.schedule(None, 0.0)

    def edited(self, uri: str, delay: float, *, listed: bool = False) -> None:
        """A buffer's new text, checked after `delay`; `listed`: the files on disk are those of the last listing
        (a change to a buffer); an opened, saved or closed file lists them again."""
        if self.project is None:
            return
        self.list_again = self.list_again or not listed
        document = self.workspace.get_text_document(uri)
        self.project.update(uri, document.source)
        self.schedule(uri, delay)

    def schedule(self, uri: str | None, delay: float) -> None:
        """A check of the whole project after `delay`, unless a newer edit comes first."""
        self.generation += 1
        if uri is not None:
            self.touched.add(uri)
        self._spawn(self._check(self.generation, delay))

    async def _check(self, generation: int, delay: float, whole: bool = False) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self._running is None:
            self._running = asyncio.Lock()
        async with self._running:
            project = self.project
            if generation != self.generation or project is None or generation == self.answered:
                return
            buffers, touched, listed = dict(project.buffers), set(self.touched), not self.list_again
            self.list_again = False
            loop = asyncio.get_running_loop()
            # The first check is never abandoned: it reads the whole project into the cache, after which the
            # edit that made it stale (the first file opened, usually) is a cached check of what it touches.
            stale = None if project.checked is None else (lambda: self.generation != generation)
            try:
                checked = await loop.run_in_executor(
                    self.checker,
                    functools.partial(
                        project.check, buffers, stale, whole=whole, settle_later=True, reuse_listing=listed
                    ),
                )
            except Stale:
                self.list_again = self.list_again or not listed
                return
            except Exception:  # a check that fails must not take the server down
                log.exception("charter check failed")
                return
            if generation != self.generation:
                if not project.answers(checked, buffers):
                    return  # the newer check publishes (after a first check, from the cache it filled)
                # What changed since is buffers opened on the files as this check read them (the first check and
                # the files a client opens at start): its findings are the newer check's, which is not run.
                touched, self.answered = set(self.touched), self.generation
            self.touched -= touched
            for uri, found in project.to_publish(checked, touched).items():
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))
            await loop.run_in_executor(self.checker, project.write_cache)  # after publishing: nobody waits for it
            self._spawn(self._when_idle(generation, listed))
        if project.partial:
            # Started from the cache: read the whole project for completion and hover while nothing is edited.
            # An edit makes this check stale; the edit's own check comes first, then this one again.
            self._spawn(self._check(generation, 0.0, whole=True))

    async def _when_idle(self, generation: int, listed: bool) -> None:
        """Once no edit came for `IDLE` seconds after a check's findings were published: what that check left
        to do (`Workspace.settle`: freeze the first check's objects), then, when the check took
        the last listing again, walk the disk, and check again (listed again) when a file was added, removed or
        written outside the editor since. An edit typed meanwhile waits for neither: its check comes first,
        and it leaves the same work for when the editor is idle."""
        await asyncio.sleep(IDLE)
        if generation != self.generation or self.project is None or self._running is None:
            return
        project, loop = self.project, asyncio.get_running_loop()
        async with self._running:
            if generation != self.generation:
                return
            await loop.run_in_executor(self.checker, project.settle)
            holds = not listed or await loop.run_in_executor(self.checker, project.listing_holds)
        if not holds:
            self.schedule(None, 0.0)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def create_server(debounce: float = DEBOUNCE) -> CharterServer:
    server = CharterServer(debounce)
    _documents(server)
    _requests(server)
    return server


def _documents(server: CharterServer) -> None:
    @server.feature(types.INITIALIZED)
    def initialized(ls: CharterServer, params: types.InitializedParams) -> None:
        root = ls.workspace.root_path or (uris.to_fs_path(ls.workspace.root_uri) if ls.workspace.root_uri else None)
        ls.start(Path(root) if root else Path.cwd())

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CharterServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.edited(params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CharterServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.edited(params.text_document.uri, ls.debounce, listed=True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CharterServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.edited(params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CharterServer, params: types.DidCloseTextDocumentParams) -> None:
        if ls.project is not None:
            ls.project.close(params.text_document.uri)
            ls.list_again = True
            ls.schedule(None, 0.0)


def _requests(server: CharterServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", " ", "-", "["]))
    def complete(ls: CharterServer, params: types.CompletionParams) -> types.CompletionList | None:
        return _answer(ls, completion.complete, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: CharterServer, params: types.HoverParams) -> types.Hover | None:
        return _answer(ls, hover.hover, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: CharterServer, params: types.DefinitionParams) -> list[types.Location] | None:
        return _answer(ls, definition.definition, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def on_references(ls: CharterServer, params: types.ReferenceParams) -> list[types.Location] | None:
        return _answer(
            ls, definition.references, params.text_document.uri, params.position, params.context.include_declaration
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def on_code_action(ls: CharterServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return _answer(ls, actions.code_actions, params.text_document.uri, params.range)


def _answer(ls: CharterServer, handler: Callable[..., T], *args: Any) -> T | None:
    """A request's answer from the last check; nothing (rather than an error) before the first one."""
    if ls.project is None:
        return None
    try:
        return handler(ls.project, *args)
    except Exception:  # a bug in one answer must not take the server down
        log.exception("charter lsp: %s failed", getattr(handler, "__name__", handler))
        return None


def serve(debounce: float = DEBOUNCE) -> None:
    """Speak LSP on stdin and stdout until the client says exit."""
    create_server(debounce).start_io()
