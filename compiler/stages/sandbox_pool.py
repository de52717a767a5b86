"""Policy evaluation of a large project on every core: one bounded worker per core, each on a run of items.

Each worker is the worker of `compiler.stages.sandbox` (forked, memory-limited, reporting its step through
shared memory, sending results in chunks), and is watched with the same bounds: killed when one evaluation
runs longer than `STEP_SECONDS`, all of them killed when the run's budget is spent. A worker stopped on an
item is replaced by one that carries on after it. Below `MIN_ITEMS` (every hostile-policy case of the test
suite among them) the single worker of `sandbox.run_bounded` does the work, unchanged. Results are keyed
by item, so the output does not depend on which worker finished first.
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass, field
from typing import Any

from compiler.stages import sandbox
from compiler.stages.sandbox import Overrun, Progress, Work

MIN_ITEMS = 2000
"""Below this, one worker: forking more costs more than it saves."""


def cores() -> int:
    """The cores this process may use; `CHARTER_JOBS` chooses fewer (1 turns every pool off)."""
    chosen = os.environ.get("CHARTER_JOBS", "")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(int(chosen), usable) if chosen.isdigit() and int(chosen) > 0 else usable


def run_bounded(work: Work, items: int) -> tuple[dict[int, Any], list[Overrun]]:
    """As `sandbox.run_bounded`, on every core when there are many items."""
    workers = min(cores(), items // (MIN_ITEMS // 2)) if items >= MIN_ITEMS and hasattr(os, "fork") else 1
    if workers < 2:
        return sandbox.run_bounded(work, items)
    budget = sandbox.RUN_SECONDS + sandbox.ITEM_SECONDS * items
    size = -(-items // workers)
    pool = _Pool(work, time.monotonic() + budget, budget)
    for start in range(0, items, size):
        pool.start(list(range(start, min(start + size, items))))
    pool.watch()
    return pool.results, pool.overruns


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

    def start(self, pending: list[int]) -> None:
        stopped = {overrun.item for overrun in self.overruns}
        pending = [item for item in pending if item not in self.results and item not in stopped]
        if not pending:
            return
        progress = Progress()
        progress.mark(pending[0], -1)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(reader)
            for other in self.running:
                os.close(other)
            sandbox.run_child(self.work, pending, progress, writer)
        os.close(writer)
        self.running[reader] = _Worker(pid, reader, progress, pending)

    def watch(self) -> None:
        while self.running:
            ready, _, _ = select.select(list(self.running), [], [], sandbox.POLL_SECONDS)
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
                elif now - worker.last_change > sandbox.STEP_SECONDS:
                    limit = f"one evaluation ran longer than the limit of {sandbox.STEP_SECONDS:g} s"
                    self._replace(worker, sandbox.kill(worker.pid, Overrun(item, step, limit)))

    def _read(self, worker: _Worker) -> None:
        data = os.read(worker.reader, 1 << 20)
        if data:
            worker.received += data
            sandbox.take_chunks(worker.received, self.results)
            return
        _, status = os.waitpid(worker.pid, 0)
        self._replace(worker, sandbox.overrun_of(status, worker.progress))

    def _replace(self, worker: _Worker, overrun: Overrun | None) -> None:
        """The worker is gone: record why it stopped, and carry on after that item."""
        del self.running[worker.reader]
        os.close(worker.reader)
        worker.progress.memory.close()
        if overrun is not None:
            self.overruns.append(overrun)
            self.start(worker.pending)

    def _spend_budget(self) -> None:
        spent = f"the run's budget of {self.budget:.1f} s for policy evaluation is spent"
        for worker in list(self.running.values()):
            _, item, step = worker.progress.read()
            overrun = sandbox.kill(worker.pid, Overrun(item, step, spent, budget_spent=True))
            self.overruns.append(overrun)
            del self.running[worker.reader]
            os.close(worker.reader)
            worker.progress.memory.close()
