"""`make bench` (part): how long after a `didChange` does `charter lsp` publish its diagnostics?

Generates a repository of N specs (bench/generate.py, default 1,000), starts `charter lsp` over stdio with
the test suite's client (tests/lsp_client.py), opens one model and waits for the first check, then makes
`--edits` changes to that model one after another: every other edit breaks one of its features (a column
its contract lacks), the next one fixes it. For each edit it measures the wall time from sending the
`didChange` to receiving the `publishDiagnostics` of that file (the server's debounce included), checks
that the findings are the expected ones, and prints the median and the 95th percentile. Both shapes of
`generate.py` are measured (`--shapes`): an environment per group of models, and models sharing two
Environments and an organisation Policy. Then a second server starts on the same repository, from the
signed cache the first one wrote, and its start-up to the first diagnostics is timed too.

The issue's goal: at most 100 ms at the median on 1,000 specs. Nothing here asserts a time.

    .venv/bin/python bench/lsp.py [--count 1000] [--edits 30] [--debounce-ms 0] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import generate  # noqa: E402
from lsp_client import LspClient  # noqa: E402

GOAL_MS = 100.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="specs in the workspace (default 1000)")
    parser.add_argument("--edits", type=int, default=30, help="didChange edits measured (default 30)")
    parser.add_argument("--debounce-ms", type=int, default=0, help="the server's debounce (default 0, its own)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--shapes", default=",".join(generate.SHAPES), help="own (an environment per group of models), shared"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    args = parser.parse_args(argv)
    print(f"charter lsp: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    results = {}
    for shape in args.shapes.split(","):
        work = Path(tempfile.mkdtemp(prefix=f"charter-lsp-bench-{shape}-"))
        try:
            root = work / "repo"
            generate.generate(root, args.count, args.seed, shape)
            print(f"\n{shape}: {args.count} specs in {root}, {args.edits} edits, debounce {args.debounce_ms} ms")
            first, took, cpu = measure(root, args.edits, args.debounce_ms)
            again = start_again(root, args.debounce_ms)
            print(f"second start, from the cache the first server wrote: {again:.0f} ms")
            results[shape] = (first, again, took, cpu)
        finally:
            if args.keep:
                print(f"kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    for shape, (started, again, took, cpu) in results.items():
        print(f"\n{shape}: start-up to the first diagnostics {started:.0f} ms with no cache, {again:.0f} ms from the")
        print("  signed cache the first server wrote (.charter/cache/); goal: under 2,000 ms")
        report(took)
        if cpu is not None:
            print(f"  server CPU time per edit (its policy workers included): {cpu:.1f} ms")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    return 0


def measure(root: Path, edits: int, debounce_ms: int) -> tuple[float, list[float], float | None]:
    """Start-up to the first diagnostics, each edit's time, and the server's CPU time per edit, in milliseconds."""
    model = sorted((root / "teams" / "team-000" / "models").glob("*.yaml"))[0]
    relative = model.relative_to(root).as_posix()
    original = model.read_text("utf-8")
    feature = next(line for line in original.split("\n") if line.startswith("    - ") and "_" in line)
    broken = original.replace(feature, "    - no_such_column", 1)
    client = LspClient(root, "--debounce-ms", str(debounce_ms))
    try:
        started = time.perf_counter()
        client.initialize()
        uri = client.open(relative)
        client.diagnostics(uri, timeout=600)
        first = (time.perf_counter() - started) * 1000
        print(f"first check (start-up, initialize, open): {first:.0f} ms")
        took = []
        cpu_before = server_cpu_ms(client.process.pid)
        for number in range(edits):
            text = broken if number % 2 == 0 else original
            client.drain()
            sent = time.perf_counter()
            client.change(relative, text)
            received, found = client.diagnostics(uri, timeout=600, since=sent)
            codes = [diagnostic["code"] for diagnostic in found]
            expected = "CH402" if text is broken else None
            if (expected in codes) != (text is broken):
                raise SystemExit(f"edit {number}: unexpected findings {codes}")
            took.append((received - sent) * 1000)
            print(f"  edit {number + 1:>3}: {took[-1]:8.1f} ms  {codes}")
        cpu_after = server_cpu_ms(client.process.pid)
        per_edit = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / max(edits, 1)
        return first, took, per_edit
    finally:
        client.close()


def server_cpu_ms(pid: int) -> float | None:
    """The server's CPU time so far, its policy workers' included (Linux: /proc), in ms; None elsewhere.
    Less sensitive to the machine's load than wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text("ascii").rpartition(")")[2].split()
    except OSError:
        return None
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def start_again(root: Path, debounce_ms: int) -> float:
    """A second server on the same repository: start-up to the first diagnostics of the model, in ms."""
    model = sorted((root / "teams" / "team-000" / "models").glob("*.yaml"))[0]
    client = LspClient(root, "--debounce-ms", str(debounce_ms))
    try:
        started = time.perf_counter()
        client.initialize()
        uri = client.open(model.relative_to(root).as_posix())
        client.diagnostics(uri, timeout=600)
        return (time.perf_counter() - started) * 1000
    finally:
        client.close()


def report(took: list[float]) -> None:
    ordered = sorted(took)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"\ndidChange -> publishDiagnostics over {len(took)} edits:")
    print(f"  median {median:.1f} ms   p95 {p95:.1f} ms   min {ordered[0]:.1f} ms   max {ordered[-1]:.1f} ms")
    verdict = "meets" if median <= GOAL_MS else f"is {median / GOAL_MS:.1f}x off"
    print(f"  goal: median <= {GOAL_MS:.0f} ms at 1,000 specs; this run {verdict} it")


if __name__ == "__main__":
    raise SystemExit(main())
