"""Read and validate many files on every core: forked workers take chunks from the start, the parent from the end.

Loading is the largest cost of a cold check once policies are cheap, and each file's load and validation
depend on that file alone. A worker takes chunks of files in order and sends back texts, findings and specs;
what the parent reads itself is never pickled (pickling costs nearly half of what reading a file does). So a
file costs a worker more than it costs the parent, by how much depends on the files and the machine: rather
than a share fixed in advance, each chunk goes to whoever asks for it first, the workers from the start and
the parent from the end, until they meet (at 10,000 specs the parent took 53-57% of the chunks; with half of
them it waited 0.4-0.6 s for the workers' last chunks, about a seventh of the load). A
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

_work: tuple[Sources, PerFile[Any], list[list[str]], Any] | None = None
"""What forked workers run: the sources, the work on each file, the chunks of files and which are taken (set
before the fork, never pickled)."""


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
    chunks = [list(files[start : start + CHUNK]) for start in range(0, len(files), CHUNK)]
    taken = multiprocessing.get_context("fork").Array("b", len(chunks))
    _work = (sources, per_file, chunks, taken)
    mine: dict[int, list[Result]] = {}
    done = 0
    try:
        with multiprocessing.get_context("fork").Pool(jobs - 1) as pool:
            results = pool.imap(_run_chunk, range(len(chunks)))  # a task is a chunk's index
            with repofs.held_open():  # after the fork: each worker holds its own (`_run_chunk`)
                for index in reversed(range(len(chunks))):
                    if not _take(taken, index):
                        break  # the workers got here first: every chunk before this one is theirs
                    mine[index] = [per_file(sources, file) for file in chunks[index]]
                    done += len(chunks[index])
                    if progress is not None:
                        progress(done, len(files))
            for index, chunk_results in enumerate(results):
                if chunk_results is None:
                    yield from mine.pop(index)
                    continue
                yield from chunk_results
                done += len(chunk_results)
                if progress is not None:
                    progress(done, len(files))
    finally:
        _work = None


def _take(taken: Any, index: int) -> bool:
    """Whether this process takes chunk `index`: each is taken once, by whichever process asks first."""
    with taken.get_lock():
        if taken[index]:
            return False
        taken[index] = 1
        return True


def workers(sources: Sources, files: int) -> int:
    """How many processes to load with: 1 unless there are many files of a working tree and forking is safe."""
    # Forking a process that runs other threads (an editor's server) can deadlock in the child.
    if not hasattr(os, "fork") or threading.active_count() > 1 or not isinstance(sources.tree, DirectoryTree):
        return 1
    return shares(files, MIN_FILES)


def _run_chunk(index: int) -> list[Any] | None:
    """A worker's results for chunk `index`; None when the parent took it."""
    assert _work is not None
    sources, per_file, chunks, taken = _work
    if not _take(taken, index):
        return None
    with repofs.held_open():
        return [per_file(sources, file) for file in chunks[index]]
