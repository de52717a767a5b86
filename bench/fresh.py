"""Time one cold `charter check`, or the libyaml parse it is compared with, in a fresh interpreter.

A user's `charter check` is a new process. Timed inside the bench's own process, a check ran on a heap
holding everything the bench did before (the generated repositories, earlier runs and their caches),
which made forking its workers and collecting garbage dearer: about 1 s of CPU more at 10,000 specs,
from run to run. So each timed run gets a process of its own. Start-up and imports are excluded, as
before, and so is filling the caches: the child first checks the small warm-up repository, as the bench
did in process.

    python bench/fresh.py charter ROOT WARM_UP_ROOT     # prints {"wall": s, "cpu": s}
    python bench/fresh.py libyaml FILE_LIST             # one path per line
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows: CPU time of the check's workers is then missing
    resource = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent


def measure(kind: str, *arguments: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `kind` in a fresh interpreter, its workers' CPU included."""
    done = subprocess.run(
        [sys.executable, str(HERE / "fresh.py"), kind, *arguments], capture_output=True, text=True, check=True
    )
    took = json.loads(done.stdout.strip().splitlines()[-1])
    return float(took["wall"]), float(took["cpu"])


def clock() -> tuple[float, float]:
    """(wall, CPU) seconds now; CPU counts this process and its finished children."""
    cpu = time.process_time()
    if resource is not None:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += children.ru_utime + children.ru_stime
    return time.perf_counter(), cpu


def _parse_all(files: list[str]) -> int:
    import yaml

    documents = 0
    for path in files:
        documents += yaml.load(Path(path).read_text("utf-8"), Loader=yaml.CSafeLoader) is not None
    return documents


def _child(kind: str, arguments: list[str]) -> None:
    sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing
    if kind == "charter":
        from compiler.stages import pipeline

        root, warm_up = arguments
        pipeline.check_path(Path(warm_up))

        def action() -> object:
            return pipeline.check_path(Path(root))
    else:
        files = Path(arguments[0]).read_text("utf-8").splitlines()

        def action() -> object:
            return _parse_all(files)

    gc.collect()
    wall, cpu = clock()
    action()
    end_wall, end_cpu = clock()
    print(json.dumps({"wall": end_wall - wall, "cpu": end_cpu - cpu}))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2:])
