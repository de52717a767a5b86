"""Run policy evaluation in a worker process that can be killed.

The CEL engine (a Rust core) cannot be interrupted by signals, exposes no
syntax tree to estimate cost from, and aborts the whole process when an
allocation fails (THREATS.md). So a bound on it cannot be proven from the
text; it is enforced instead: the work runs in a forked child with a memory
limit (RLIMIT_AS), and the parent kills it when one step runs too long or
the run's budget is spent. The child reports which step it is on through
shared memory (a few nanoseconds a step), and sends its results in chunks,
so a kill loses at most the steps since the last chunk, which are re-run.

Where `fork` is missing (Windows), work runs in process, unbounded.
"""

from __future__ import annotations

import faulthandler
import mmap
import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

STEP_SECONDS = 2.0
"""Wall time one evaluation may take; real policies take microseconds."""
RUN_SECONDS = 6.0
"""The run's budget for policy evaluation, plus `ITEM_SECONDS` for each item of work."""
ITEM_SECONDS = 0.002
MEMORY_BYTES = 1 << 30
"""Memory the worker may allocate beyond what the parent already uses."""
_FLUSH_SECONDS = 0.05
_LAYOUT = struct.Struct("qqq")  # sequence number, item index, step within the item
POLL_SECONDS = 0.02
_OUT_OF_MEMORY, _FAILED = 3, 4  # the worker's exit codes


@dataclass(frozen=True, slots=True)
class Overrun:
    """Why the worker was stopped on `item`, at `step` within it."""

    item: int
    step: int
    reason: str
    budget_spent: bool = False


class Progress:
    """Where the worker is: written by the child, read by the parent."""

    def __init__(self) -> None:
        self.memory = mmap.mmap(-1, _LAYOUT.size)  # anonymous and shared across fork
        self.sequence = 0

    def mark(self, item: int, step: int) -> None:
        self.sequence += 1
        _LAYOUT.pack_into(self.memory, 0, self.sequence, item, step)

    def read(self) -> tuple[int, int, int]:
        sequence, item, step = _LAYOUT.unpack_from(self.memory, 0)
        return int(sequence), int(item), int(step)


Work = Callable[[list[int], Progress], Iterator[tuple[int, Any]]]
"""`work(items, progress)` yields (item, result) for each of `items`, in order, marking progress as it goes."""


def run_bounded(work: Work, items: int) -> tuple[dict[int, Any], list[Overrun]]:
    """Results by item, and the items stopped for overrunning a bound (they have no result)."""
    if not hasattr(os, "fork") or items == 0:
        return dict(work(list(range(items)), Progress())), []
    results: dict[int, Any] = {}
    overruns: list[Overrun] = []
    budget = RUN_SECONDS + ITEM_SECONDS * items
    deadline = time.monotonic() + budget
    while True:
        # A killed worker loses the results it had not sent yet: those items run again.
        stopped = {overrun.item for overrun in overruns}
        pending = [item for item in range(items) if item not in results and item not in stopped]
        overrun = _one_worker(work, pending, results, (deadline, budget)) if pending else None
        if overrun is None:
            return results, overruns
        overruns.append(overrun)
        if overrun.budget_spent:
            return results, overruns


def _one_worker(
    work: Work, pending: list[int], results: dict[int, Any], deadline: tuple[float, float]
) -> Overrun | None:
    progress = Progress()
    progress.mark(pending[0], -1)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its coverage is not collected
        os.close(reader)
        run_child(work, pending, progress, writer)
    os.close(writer)
    try:
        return _watch(pid, reader, progress, results, deadline)
    finally:
        os.close(reader)
        progress.memory.close()


def run_child(
    work: Work, pending: list[int], progress: Progress, writer: int
) -> None:  # pragma: no cover - in the child
    code = 0
    # The engine reports a failed allocation on stderr before it aborts; the parent reports it instead.
    faulthandler.disable()  # a test runner's handler would print the abort on its own copy of stderr
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        if resource is not None:
            limit = _memory_in_use() + MEMORY_BYTES
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        chunk: list[tuple[int, Any]] = []
        flushed = time.monotonic()
        for item, result in work(pending, progress):
            chunk.append((item, result))
            if time.monotonic() - flushed > _FLUSH_SECONDS:
                _send(writer, chunk)
                chunk, flushed = [], time.monotonic()
        _send(writer, chunk)
    except MemoryError:
        code = _OUT_OF_MEMORY
    except BaseException:  # noqa: BLE001 - whatever it was, the parent reports the item as failed
        code = _FAILED
    os._exit(code)


def _send(writer: int, chunk: list[tuple[int, Any]]) -> None:  # pragma: no cover - in the child
    data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
    payload = struct.pack("q", len(data)) + data
    view = memoryview(payload)
    while view:
        view = view[os.write(writer, view) :]


def _watch(
    pid: int, reader: int, progress: Progress, results: dict[int, Any], deadline: tuple[float, float]
) -> Overrun | None:
    """`deadline` is (monotonic time, the budget in seconds it stands for)."""
    received = bytearray()
    last_sequence, last_change = -1, time.monotonic()
    while True:
        ready, _, _ = select.select([reader], [], [], POLL_SECONDS)
        if ready:
            data = os.read(reader, 1 << 20)
            if not data:  # the child closed its end: it has finished or died
                break
            received += data
            take_chunks(received, results)
            continue
        sequence, item, step = progress.read()
        now = time.monotonic()
        if sequence != last_sequence:
            last_sequence, last_change = sequence, now
        if now - last_change > STEP_SECONDS:
            return kill(pid, Overrun(item, step, f"one evaluation ran longer than the limit of {STEP_SECONDS:g} s"))
        if now > deadline[0]:
            spent = f"the run's budget of {deadline[1]:.1f} s for policy evaluation is spent"
            return kill(pid, Overrun(item, step, spent, True))
    _, status = os.waitpid(pid, 0)
    return overrun_of(status, progress)


def overrun_of(status: int, progress: Progress) -> Overrun | None:
    """Why a worker that exited with this wait status stopped: None when it finished its work."""
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    _, item, step = progress.read()
    out_of_memory = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGABRT, signal.SIGSEGV)
    if out_of_memory or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == _OUT_OF_MEMORY):
        limit = f"{MEMORY_BYTES >> 20:,} MiB"
        return Overrun(item, step, f"the evaluation needed more memory than the limit of {limit}")
    return Overrun(item, step, f"the policy worker stopped unexpectedly (wait status {status})")


def take_chunks(received: bytearray, results: dict[int, Any]) -> None:
    header = struct.calcsize("q")
    while len(received) >= header:
        (size,) = struct.unpack_from("q", received, 0)
        if len(received) < header + size:
            return
        chunk = pickle.loads(bytes(received[header : header + size]))
        del received[: header + size]
        results.update(chunk)


def kill(pid: int, overrun: Overrun) -> Overrun:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return overrun


def _memory_in_use() -> int:  # pragma: no cover - in the child
    """Virtual memory of this process now, from /proc; 2 GiB where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 2 << 30
    return pages * os.sysconf("SC_PAGE_SIZE")
