"""`make bench`, part 3: `charter build` on a repository of 1,000 models.

Prints, from one run, the time of each stage of a build (check, render,
plan, write) and of a second build that finds nothing to do, relative to
merely parsing the same spec files with libyaml. No assertion on time.

    python bench/build.py [--models 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

from compiler.core.models.project import output_dirs
from compiler.stages import check_path, render_outputs
from compiler.stages.emit import writes as emit

T = TypeVar("T")
TODAY = datetime.date(2026, 11, 1)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """Wall seconds: policies are evaluated in a forked worker, whose CPU this process's clock would miss."""
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def parse_all(root: Path) -> int:
    count = 0
    for path in sorted(root.rglob("*.yaml")):
        yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000, help="models in the repository (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    # Every group of ten specs holds three models.
    specs = -(-args.models * 10 // 3)
    with tempfile.TemporaryDirectory(prefix="charter-bench-build-") as work:
        root = Path(work) / "repo"
        generate.generate(root, specs, seed=args.seed)
        files, parse_s = timed(lambda: parse_all(root))
        result, check_s = timed(lambda: check_path(root, today=TODAY))
        errors = [d for d in result.diagnostics if d.severity.value == "error"]
        if errors:
            print(f"bench/build.py: the generated repository has {len(errors)} errors; fix bench/generate.py")
            return 1
        assert result.resolved is not None
        models = len(result.resolved.by_kind.get("Model", {}))
        outputs, render_s = timed(lambda: render_outputs(result.resolved, result.project, TODAY))  # type: ignore[arg-type]
        dirs = output_dirs(result.project)
        plan, plan_s = timed(lambda: emit.plan(root, outputs, dirs))
        _, write_s = timed(lambda: emit.apply(root, outputs, plan))
        again, replan_s = timed(lambda: emit.plan(root, outputs, dirs))
        assert again.clean, "a second build must find nothing to do"
    total = check_s + render_s + plan_s + write_s
    print(f"charter build on {models:,} models ({files:,} spec files, {len(outputs):,} generated files)")
    print("wall seconds; ratios against parsing the same spec files with libyaml (CSafeLoader)")
    print(f"  {'stage':<34}{'seconds':>9}{'x libyaml':>11}")
    for label, seconds in (
        ("libyaml parse (baseline)", parse_s),
        ("check (load, validate, policies)", check_s),
        ("render (templates)", render_s),
        ("plan (compare with disk)", plan_s),
        ("write (atomic) + manifest", write_s),
        ("build total", total),
        ("second build: plan finds no change", replan_s),
    ):
        print(f"  {label:<34}{seconds:>9.2f}{seconds / parse_s:>10.1f}x")
    print(f"  build total over check of the same repository: {total / check_s:.2f}x")
    per_model = render_s / models * 1000
    print(f"  render per model: {per_model:.2f} ms; generated files per second: {len(outputs) / render_s:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
