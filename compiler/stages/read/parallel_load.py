"""Read and validate many files on every core: the parent reads the first share, forked workers the rest.

Loading is the largest cost of a cold check once policies are cheap, and each file's load and validation
depend on that file alone. A worker takes runs of files in order and sends back texts, findings and specs;
what the parent reads itself is never pickled (pickling costs nearly half of what reading a file does). A
spec's document travels without its node tree (`compiler.core.documents`), which is composed again only for
a document a finding points into. Results are merged in file order, so the output is the same as a
sequential run's (`tests/test_parallel_load.py`). `CHARTER_JOBS=1` turns it off.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from compiler.core import repofs
from compiler.core.cores import shares
from compiler.core.sources import DirectoryTree, Sources

MIN_FILES = 256
"""Below this, starting workers costs more than it saves."""
CHUNK = 64

Result = TypeVar("Result")
PerFile = Callable[[Sources, str], Result]
"""What is done to each file: read it, then validate it (`compiler.stages.pipeline.read_and_validate`), and read
the evidence records of the models it holds (`compiler.stages.pipeline._with_records`)."""

_work: tuple[Sources, PerFile[Any]] | None = None  # what forked workers run (set before the fork, never pickled)


def each_file(
    sources: Sources,
    files: Sequence[str],
    per_file: PerFile[Result],
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Result]:
    """`per_file` on every file, the results in the order of `files`."""
    jobs = workers(sources, len(files))
    if jobs < 2:
        with repofs.held_open():
            for done, file in enumerate(files, 1):
                yield per_file(sources, file)
                if progress is not None:
                    progress(done, len(files))
        return
    global _work  # noqa: PLW0603 - handed to the forked workers by inheritance
    _work = (sources, per_file)
    # The parent is a worker too: it reads the first share while the forked processes read the rest.
    own = len(files) // jobs
    rest = files[own:]
    chunks = [list(rest[start : start + CHUNK]) for start in range(0, len(rest), CHUNK)]
    done = 0
    try:
        with multiprocessing.get_context("fork").Pool(jobs - 1) as pool:
            results = pool.imap(_run_chunk, chunks)
            with repofs.held_open():  # after the fork: each worker holds its own (`_run_chunk`)
                for file in files[:own]:
                    yield per_file(sources, file)
                    done += 1
                    if progress is not None:
                        progress(done, len(files))
            for chunk, chunk_results in zip(chunks, results, strict=True):
                yield from chunk_results
                done += len(chunk)
                if progress is not None:
                    progress(done, len(files))
    finally:
        _work = None


def workers(sources: Sources, files: int) -> int:
    """How many processes to load with: 1 unless there are many files of a working tree and forking is safe."""
    # Forking a process that runs other threads (an editor's server) can deadlock in the child.
    if not hasattr(os, "fork") or threading.active_count() > 1 or not isinstance(sources.tree, DirectoryTree):
        return 1
    return shares(files, MIN_FILES)


def _run_chunk(files: list[str]) -> list[Any]:
    assert _work is not None
    sources, per_file = _work
    with repofs.held_open():
        return [per_file(sources, file) for file in files]
