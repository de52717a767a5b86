"""How many processes a stage may fork: reading files and evaluating policies both split work over cores."""

from __future__ import annotations

import os


def shares(items: int, minimum: int) -> int:
    """How many processes to split `items` over: one per core once there are `minimum`, each with at least
    half of `minimum` (forking costs more than it saves below that)."""
    return min(cores(), items // (minimum // 2)) if items >= minimum else 1


def cores() -> int:
    """The cores this process may use; `CHARTER_JOBS` chooses fewer (1 turns every pool off)."""
    chosen = os.environ.get("CHARTER_JOBS", "")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(int(chosen), usable) if chosen.isdigit() and int(chosen) > 0 else usable
