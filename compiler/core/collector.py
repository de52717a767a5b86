"""The cyclic garbage collector held off while a check builds its objects.

A cold check allocates millions of objects that all live until it ends (node trees, documents, specs) and
makes almost no reference cycles. With the collector on, every young and middle collection re-traverses
the objects that survived, and the full ones the whole growing heap: at 10,000 specs that was most of the
loader's CPU time (issue 26: loading 10,000 files took 8.8 s of CPU with it, 2.0 s without). Reference
counting still frees everything acyclic at once; the few cycles wait for the next collection after the
check. Forked workers (parallel loading, the policy sandbox) inherit the pause, and so do not touch every
inherited page to traverse it (copy-on-write).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_holders = 0
_was_enabled = False
_frozen_on_purpose = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off cyclic collection for the block; nested and concurrent blocks turn it back on once, at the
    end of the last, and only if it was on before the first (a caller that turned it off keeps it off)."""
    global _holders, _was_enabled  # noqa: PLW0603 - one collector per process, so one count of who holds it
    if _frozen_on_purpose:
        # What lives long was frozen (the editor's server, after its first check): collections only see what
        # later, small checks make, and there is nothing to gain.
        yield
        return
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
        _holders += 1
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                _settle()
                gc.enable()


def _settle() -> None:
    """Move what the check made to the oldest generation without traversing it.

    Turned back on, the collector would traverse every object made during the pause at its next young
    collection (about a second of CPU at 10,000 specs). Freezing and unfreezing moves them, as a whole list,
    to the oldest generation, which a full collection still frees. Never after `freeze_long_lived`:
    unfreezing would hand what it froze back to the collector. (`gc.get_freeze_count()` is no way to tell:
    it counts the frozen objects one by one, 150 ms at 1,000 specs.)
    """
    if not _frozen_on_purpose:
        gc.freeze()
        gc.unfreeze()


def freeze_long_lived() -> None:
    """Collect, then take every object left out of the collector's sight for the rest of the process: for a
    process that keeps most of what it made (the editor's server after its first check), so that full
    collections do not traverse it again and again. Later checks then run without a pause."""
    global _frozen_on_purpose  # noqa: PLW0603 - a fact about the whole process
    gc.collect()
    gc.freeze()
    _frozen_on_purpose = True


def thaw() -> None:
    """Undo `freeze_long_lived` (tests)."""
    global _frozen_on_purpose  # noqa: PLW0603 - a fact about the whole process
    gc.unfreeze()
    _frozen_on_purpose = False
