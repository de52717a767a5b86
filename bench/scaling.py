"""`make bench` (part): does doubling a hostile input at most double the time to check it?

For each known worst shape this writes a copy of `examples/credit-scoring` with one file grown to 1x, 2x
and 4x a base size, then times, in process and best of `--repeat`, `check_path(root)` (load, validate,
resolve, policies) and rendering its findings as text and as JSON. It prints the seconds and the ratios
2x/1x and 4x/2x: a linear path shows about 2.0, a quadratic one about 4.0. Nothing here asserts a time.

Shapes:
  keys       one mapping (`spec` of the model) holding N unknown keys: N findings (CH200)
  documents  one file holding N Environment documents
  long-line  a model whose description is one line of N KiB, ending in `${{` (CH209 on that line)
  nesting    an unknown key holding N mappings nested 60 deep (the legal limit is 64)
  findings   a model whose `features` name N columns its contract lacks: N findings (CH402)

    .venv/bin/python bench/scaling.py [--shapes keys,documents] [--repeat 3] [--scale 1]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from compiler.reporters import formats  # noqa: E402
from compiler.reporters.findings import Report  # noqa: E402
from compiler.stages import pipeline  # noqa: E402

EXAMPLE = HERE.parent / "examples" / "credit-scoring"
MODEL = "models/credit-default.yaml"


def _keys(text: str, n: int) -> str:
    extra = "".join(f"  unknownKey{i}: {i}\n" for i in range(n))
    return text.replace("\nspec:\n", "\nspec:\n" + extra, 1)


def _documents(text: str, n: int) -> str:
    environment = (
        "apiVersion: charter/v1alpha1\nkind: Environment\nmetadata:\n  name: extra-{i}\n  owner: team-ml-platform\n"
        "spec:\n  tier: development\n  cluster: eu-west-1-dev\n  namespace: credit-risk\n"
        "  githubEnvironment: extra-{i}\n"
    )
    return text + "".join("---\n" + environment.format(i=i) for i in range(n))


def _long_line(text: str, n: int) -> str:
    line = "x" * (n * 1024) + " ${{ github.token }}"
    return _replace_line(text, "  description:", f"  description: {line}")


def _nesting(text: str, n: int) -> str:
    depth = 60
    block = []
    for copy in range(n):
        block.append(f"  deep{copy}:\n")
        block.extend(f"{'  ' * (level + 2)}level{level}:\n" for level in range(depth - 1))
        block.append(f"{'  ' * (depth + 1)}leaf: {copy}\n")
    return text.replace("\nspec:\n", "\nspec:\n" + "".join(block), 1)


def _findings(text: str, n: int) -> str:
    columns = "".join(f"    - no_such_column_{i}\n" for i in range(n))
    return text.replace("  features:\n", "  features:\n" + columns, 1)


def _replace_line(text: str, prefix: str, replacement: str) -> str:
    lines = text.split("\n")
    at = next(number for number, line in enumerate(lines) if line.startswith(prefix))
    lines[at] = replacement
    return "\n".join(lines)


# Shape -> (what grows the model file, the base N, what N counts)
SHAPES: dict[str, tuple[Callable[[str, int], str], int, str]] = {
    "keys": (_keys, 3000, "keys"),
    "documents": (_documents, 250, "documents"),
    "long-line": (_long_line, 1024, "KiB"),
    "nesting": (_nesting, 40, "nests of 60"),
    "findings": (_findings, 1000, "findings"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated, of: " + ", ".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=3, help="runs per size, best kept (default 3)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every base size (default 1)")
    args = parser.parse_args(argv)
    os.environ.setdefault("CHARTER_TODAY", "2026-12-01")
    print(f"scaling: {os.cpu_count()} CPUs, {_load()}; best of {args.repeat}, seconds in process")
    print(f"{'shape':<10} {'N':>9} {'file KiB':>9} {'findings':>9} {'check s':>8} {'text s':>7} {'json s':>7}")
    ratios: list[str] = []
    for name in args.shapes.split(","):
        grow, base, unit = SHAPES[name]
        rows = [_measure(name, grow, max(1, round(base * args.scale * factor)), args.repeat) for factor in (1, 2, 4)]
        for n, row in zip((r[0] for r in rows), rows, strict=True):
            _, size, found, took = row
            print(
                f"{name:<10} {n:>9,} {size / 1024:>9,.0f} {found:>9,} {took[0]:>8.2f} {took[1]:>7.2f} {took[2]:>7.2f}"
            )
        ratios.append(_ratios(name, unit, rows))
    print("\nratios (2x/1x, 4x/2x; linear is about 2.0, quadratic about 4.0):")
    for line in ratios:
        print("  " + line)
    print(f"after: {_load()}")
    return 0


Row = tuple[int, int, int, tuple[float, float, float]]


def _measure(name: str, grow: Callable[[str, int], str], n: int, repeat: int) -> Row:
    work = Path(tempfile.mkdtemp(prefix=f"charter-scaling-{name}-"))
    try:
        root = work / "repo"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".charter"))
        model = root / MODEL
        model.write_text(grow(model.read_text("utf-8"), n), "utf-8")
        best = [float("inf")] * 3
        found = 0
        for _ in range(repeat):
            gc.collect()
            started = time.perf_counter()
            checked = pipeline.check_path(root)
            took_check = time.perf_counter() - started
            found = len(checked.diagnostics)
            formats = [_render(checked, "text"), _render(checked, "json")]
            best = [min(old, new) for old, new in zip(best, [took_check, *formats], strict=True)]
        return n, model.stat().st_size, found, (best[0], best[1], best[2])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _render(checked: pipeline.Checked, format_name: str) -> float:
    report = Report(tuple(checked.diagnostics), checked.files, checked.spec_count, checked.sources)
    started = time.perf_counter()
    formats()[format_name](report)
    return time.perf_counter() - started


def _ratios(name: str, unit: str, rows: Sequence[Row]) -> str:
    parts = []
    for column, label in ((0, "check"), (1, "text"), (2, "json")):
        one, two, four = (row[3][column] for row in rows)
        parts.append(f"{label} {two / max(one, 1e-9):.1f}, {four / max(two, 1e-9):.1f}")
    return f"{name:<10} ({unit}): " + "; ".join(parts)


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "load average unknown"


if __name__ == "__main__":
    raise SystemExit(main())
