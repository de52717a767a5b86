"""Run policy evaluation in a worker process that can be killed.

The CEL engine (cel-cpp) cannot be interrupted by signals, exposes no
syntax tree to estimate cost from, and aborts the whole process when an
allocation fails (THREATS.md). So a bound on it cannot be proven from the
text; it is enforced instead: the work runs in a forked child with a memory
limit (RLIMIT_AS), and the parent kills it when one step runs too long or
the run's budget is spent. The child reports which step it is on through
shared memory (a few nanoseconds a step), and sends its results in chunks,
so a kill loses at most the steps since the last chunk, which are re-run.
A large run gets one such worker per core (`run_bounded`), each watched alike.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.core.cores import shares

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
MIN_ITEMS = 2000
"""Below this, one worker: forking more costs more than it saves."""
_FLUSH_SECONDS = 0.05
_LAYOUT = struct.Struct("qqq")  # sequence number, item index, step within the item
_POLL_SECONDS = 0.02
_OUT_OF_MEMORY, _FAILED = 3, 4  # the worker's exit codes
_FAILURE_SIZE = 64
_CHAIN = 16  # how far back an error's causes are followed


@dataclass(frozen=True, slots=True)
class Overrun:
    """Why the worker was stopped on `item`, at `step` within it."""

    item: int
    step: int
    reason: str
    budget_spent: bool = False


class Progress:
    """Where the worker is: written by the child, read by the parent.

    `replacing`: why the worker this one replaces was stopped, if it replaces one (what it was doing when
    stopped may be worth doing another way)."""

    def __init__(self, replacing: Overrun | None = None) -> None:
        self.replacing = replacing
        # Anonymous and shared across fork: where the worker is, then the name of what stopped it, if anything.
        self.memory = mmap.mmap(-1, _LAYOUT.size + _FAILURE_SIZE)
        self.sequence = 0

    def mark(self, item: int, step: int) -> None:
        self.sequence += 1
        _LAYOUT.pack_into(self.memory, 0, self.sequence, item, step)

    def read(self) -> tuple[int, int, int]:
        sequence, item, step = _LAYOUT.unpack_from(self.memory, 0)
        return int(sequence), int(item), int(step)

    def fail(self, error: BaseException) -> None:
        """Record the kind of error that stopped the worker (a name, never its text: that may quote data)."""
        name = type(error).__name__.encode("ascii", "replace")[:_FAILURE_SIZE]
        self.memory[_LAYOUT.size : _LAYOUT.size + len(name)] = name

    def failure(self) -> str:
        return bytes(self.memory[_LAYOUT.size :]).rstrip(b"\0").decode("ascii", "replace")


Work = Callable[[list[int], Progress], Iterator[tuple[int, Any]]]
"""`work(items, progress)` yields (item, result) for each of `items`, in order, marking progress as it goes."""


def run_bounded(work: Work, items: int, weights: Sequence[float] | None = None) -> tuple[dict[int, Any], list[Overrun]]:
    """Results by item, and the items stopped for overrunning a bound (they have no result).

    Below `MIN_ITEMS` (every hostile-policy case of the test suite among them) one worker does all the work;
    above it, one worker per core, each on a run of items, each watched with the same bounds. Runs are cut so
    that each holds about the same share of `weights` (each item's expected cost; 1 each when not given). A
    worker stopped on an item is replaced by one that carries on after it; results are keyed by item, so they
    do not depend on which worker finished first.
    """
    if not hasattr(os, "fork") or items == 0:
        return dict(work(list(range(items)), Progress())), []
    workers = shares(items, MIN_ITEMS)
    budget = RUN_SECONDS + ITEM_SECONDS * items
    pool = _Pool(work, time.monotonic() + budget, budget)
    for run in runs(weights if weights is not None else [1.0] * items, workers):
        pool.start(run)
    pool.watch()
    return pool.results, pool.overruns


def runs(weights: Sequence[float], count: int) -> list[list[int]]:
    """The items cut into at most `count` runs in order, each run's weight as near the mean as the cuts allow."""
    total = sum(weights)
    cuts: list[list[int]] = [[]]
    done = 0.0
    for item, weight in enumerate(weights):
        if cuts[-1] and len(cuts) < count and done + weight / 2 > total * len(cuts) / count:
            cuts.append([])
        cuts[-1].append(item)
        done += weight
    return cuts


@dataclass
class _Worker:
    pid: int
    reader: int
    progress: Progress
    pending: list[int]
    received: bytearray = field(default_factory=bytearray)
    last_sequence: int = -1
    last_change: float = field(default_factory=time.monotonic)


@dataclass
class _Pool:
    work: Work
    deadline: float
    budget: float
    results: dict[int, Any] = field(default_factory=dict)
    overruns: list[Overrun] = field(default_factory=list)
    running: dict[int, _Worker] = field(default_factory=dict)  # by the reading end of its pipe

    def start(self, pending: list[int], replacing: Overrun | None = None) -> None:
        stopped = {overrun.item for overrun in self.overruns}
        pending = [item for item in pending if item not in self.results and item not in stopped]
        if not pending:
            return
        progress = Progress(replacing)
        progress.mark(pending[0], -1)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(reader)
            for other in self.running:
                os.close(other)
            _child(self.work, pending, progress, writer)
        os.close(writer)
        self.running[reader] = _Worker(pid, reader, progress, pending)

    def watch(self) -> None:
        while self.running:
            ready, _, _ = select.select(list(self.running), [], [], _POLL_SECONDS)
            for reader in ready:
                self._read(self.running[reader])
            now = time.monotonic()
            if now > self.deadline:
                self._spend_budget()
                return
            for worker in list(self.running.values()):
                sequence, item, step = worker.progress.read()
                if sequence != worker.last_sequence:
                    worker.last_sequence, worker.last_change = sequence, now
                elif now - worker.last_change > STEP_SECONDS:
                    limit = f"one evaluation ran longer than the limit of {STEP_SECONDS:g} s"
                    self._replace(worker, _kill(worker.pid, Overrun(item, step, limit)))

    def _read(self, worker: _Worker) -> None:
        data = os.read(worker.reader, 1 << 20)
        if data:
            worker.received += data
            _take_chunks(worker.received, self.results)
            return
        _, status = os.waitpid(worker.pid, 0)
        self._replace(worker, _overrun_of(status, worker.progress))

    def _replace(self, worker: _Worker, overrun: Overrun | None) -> None:
        """The worker is gone: record why it stopped, and carry on after that item."""
        del self.running[worker.reader]
        os.close(worker.reader)
        worker.progress.memory.close()
        if overrun is not None:
            self.overruns.append(overrun)
            self.start(worker.pending, overrun)

    def _spend_budget(self) -> None:
        spent = f"the run's budget of {self.budget:.1f} s for policy evaluation is spent"
        for worker in list(self.running.values()):
            _, item, step = worker.progress.read()
            overrun = _kill(worker.pid, Overrun(item, step, spent, budget_spent=True))
            self.overruns.append(overrun)
            del self.running[worker.reader]
            os.close(worker.reader)
            worker.progress.memory.close()


def _child(work: Work, pending: list[int], progress: Progress, writer: int) -> None:  # pragma: no cover - in the child
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
    except BaseException as error:  # noqa: BLE001 - whatever it was, the parent reports the item as failed
        code = _OUT_OF_MEMORY if out_of_memory(error) else _FAILED
        if code == _FAILED:
            progress.fail(error)
    os._exit(code)


def out_of_memory(error: BaseException) -> bool:
    """Whether an error comes from an allocation that failed at the memory limit.

    Past the limit the failure does not always surface as a bare MemoryError: Python raises more of them
    while handling the first, and an extension may wrap it in another error (the engine's binding says
    `std::bad_alloc`), so the error's causes and context are followed too.
    """
    current: BaseException | None = error
    for _ in range(_CHAIN):
        if current is None:
            return False
        if isinstance(current, MemoryError) or "bad_alloc" in _said(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _said(error: BaseException) -> str:
    try:
        return str(error)[:200]
    except BaseException:  # noqa: BLE001 - an error whose text cannot be made says nothing
        return ""


def _send(writer: int, chunk: list[tuple[int, Any]]) -> None:  # pragma: no cover - in the child
    data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
    payload = struct.pack("q", len(data)) + data
    view = memoryview(payload)
    while view:
        view = view[os.write(writer, view) :]


def _overrun_of(status: int, progress: Progress) -> Overrun | None:
    """Why a worker that exited with this wait status stopped: None when it finished its work."""
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    _, item, step = progress.read()
    out_of_memory = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGABRT, signal.SIGSEGV)
    if out_of_memory or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == _OUT_OF_MEMORY):
        limit = f"{MEMORY_BYTES >> 20:,} MiB"
        return Overrun(item, step, f"the evaluation needed more memory than the limit of {limit}")
    failure = progress.failure()
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _FAILED and failure:
        return Overrun(item, step, f"the policy worker failed ({failure})")
    return Overrun(item, step, f"the policy worker stopped unexpectedly (wait status {status})")


def _take_chunks(received: bytearray, results: dict[int, Any]) -> None:
    header = struct.calcsize("q")
    while len(received) >= header:
        (size,) = struct.unpack_from("q", received, 0)
        if len(received) < header + size:
            return
        chunk = pickle.loads(bytes(received[header : header + size]))
        del received[: header + size]
        results.update(chunk)


def _kill(pid: int, overrun: Overrun) -> Overrun:
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
