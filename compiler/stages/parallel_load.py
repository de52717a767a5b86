"""Load and validate many files on every core: forked workers, each reading a run of files in order.

Loading is the largest cost of a cold check once policies are cheap, and each file's load and validation
depend on that file alone. A worker sends back texts, findings and specs; a spec's document travels
without its node tree (`compiler.core.documents`), which is composed again only for a document a finding
points into. Results are merged in file order, so the output is the same as a sequential run's
(`tests/test_parallel_load.py`). `CHARTER_JOBS=1` turns it off.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence

from compiler.core.diagnostics import Diagnostic
from compiler.core.invalid import Invalid
from compiler.core.sources import DirectoryTree, Sources
from compiler.core.specs import Spec
from compiler.stages.discovery import Run, safe_load
from compiler.stages.sandbox import shares

MIN_FILES = 256
"""Below this, starting workers costs more than it saves."""
CHUNK = 64
Loaded = tuple[dict[str, str], list[Diagnostic], list[Spec], list[Invalid]]

_sources: Sources | None = None  # what forked workers read from (set before the fork, never pickled)


def load_files(run: Run, files: Sequence[str], progress: Callable[[int, int], None] | None = None) -> None:
    """Every file into `run`, in order."""
    jobs = workers(run.sources, len(files))
    if jobs < 2:
        for done, file in enumerate(files, 1):
            run.take(safe_load(run.sources, file))
            if progress is not None:
                progress(done, len(files))
        return
    global _sources  # noqa: PLW0603 - handed to the forked workers by inheritance
    _sources = run.sources
    chunks = [list(files[start : start + CHUNK]) for start in range(0, len(files), CHUNK)]
    done = 0
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for chunk, (texts, diagnostics, specs, invalid) in zip(chunks, pool.imap(_load_chunk, chunks), strict=True):
                run.texts.update(texts)
                run.diagnostics.extend(diagnostics)
                run.specs.extend(specs)
                run.invalid.extend(invalid)
                done += len(chunk)
                if progress is not None:
                    progress(done, len(files))
    finally:
        _sources = None


def workers(sources: Sources, files: int) -> int:
    """How many processes to load with: 1 unless there are many files of a working tree and forking is safe."""
    # Forking a process that runs other threads (an editor's server) can deadlock in the child.
    if not hasattr(os, "fork") or threading.active_count() > 1 or not isinstance(sources.tree, DirectoryTree):
        return 1
    return shares(files, MIN_FILES)


def _load_chunk(files: list[str]) -> Loaded:
    assert _sources is not None
    run = Run(_sources)
    for file in files:
        run.take(safe_load(_sources, file))
    return run.texts, run.diagnostics, run.specs, run.invalid
