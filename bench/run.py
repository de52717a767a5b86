"""`make bench`: how long `charter check` takes on 1,000 and 10,000 specs, against two baselines.

For each size this generates a repository (bench/generate.py), checks that
Charter reports no error on it, then measures in one process and one run:

  libyaml            read every file and `yaml.load(text, Loader=yaml.CSafeLoader)`:
                     the floor for any YAML tool written in Python
  charter check      `compiler.pipeline.check_path(root)` end to end, in process
                     (no interpreter start-up): discover, load, validate, resolve
  check-jsonschema   the `check-jsonschema` CLI validating the same files against
                     Charter's own schemas (`compiler.schema.all_schemas()`), one
                     subprocess per kind: its start-up is included

It prints figures only and asserts nothing about time. The issue's goal is
charter check on 10,000 specs in at most 3x the libyaml time.

    .venv/bin/python bench/run.py [--sizes 1000,10000] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib.metadata
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import yaml  # noqa: E402

from compiler import pipeline  # noqa: E402
from compiler.diagnostics import Severity  # noqa: E402
from compiler.schema import all_schemas  # noqa: E402
from compiler.workspace import display_path  # noqa: E402

GOAL_RATIO = 3.0
GOAL_SIZE = 10_000

# Which schema each generated directory is checked against by check-jsonschema.
SCHEMA_OF_DIRECTORY = {
    "contracts": "datacontract.schema.json",
    "models": "model.schema.json",
    "suites": "evaluation-suite.schema.json",
    "environments": "environment.schema.json",
}


@dataclass
class Row:
    size: int
    files: int
    mean_bytes: int
    libyaml: float = float("inf")
    charter: float = float("inf")
    jsonschema: float | None = None
    jsonschema_failures: int = 0
    cli: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    stage_calls: dict[str, int] = field(default_factory=dict)
    outside_errors: int = 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    print(_machine())
    print()
    rows: list[Row] = []
    with _workspace(args.keep) as work:
        schemas = _write_schemas(work / "schemas")
        for size in sizes:
            repeat = args.repeat or (3 if size <= 1000 else 1)
            rows.append(_measure(work / f"repo-{size}", size, repeat, args, schemas))
        print()
        _print_table(rows)
        _print_stages(rows)
        _print_goal(rows)
        if args.profile:
            _profile(work / f"repo-{max(sizes)}", args.profile_top)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated spec counts (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=0, help="runs per size, best kept (default 3 up to 1k, else 1)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--no-jsonschema", action="store_true", help="skip the check-jsonschema baseline")
    parser.add_argument("--no-cli", action="store_true", help="skip timing the `charter check` subprocess")
    parser.add_argument("--profile", action="store_true", help="cProfile one charter check of the largest size")
    parser.add_argument("--profile-top", type=int, default=15, help="functions listed by --profile (default 15)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories and print where")
    return parser


# --- measuring ---------------------------------------------------------------


def _measure(root: Path, size: int, repeat: int, args: argparse.Namespace, schemas: Path) -> Row:
    repo = generate.generate(root, size, args.seed)
    files = repo.files
    mean_bytes = sum(path.stat().st_size for path in files) // len(files)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(repo.counts.items()))
    print(f"N={size}: {len(files)} files ({kinds}, charter.yaml), mean {mean_bytes} B")
    row = Row(size, len(files), mean_bytes)

    # Untimed in the table: checks the repository is clean, warms caches (page
    # cache, the ODCS validator, pydantic), and yields the per-stage breakdown.
    start = time.perf_counter()
    with _stage_timer() as (stages, calls):
        result = pipeline.check_path(root)
    verify_seconds = time.perf_counter() - start
    inside = display_path(root)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    ours = [d for d in errors if d.file.startswith(inside)]
    if ours or len(result.specs) != size or result.files != size:
        shown = "\n".join(f"  {d.file}:{d.line} {d.code} {d.message}" for d in ours[:10])
        raise SystemExit(
            f"bench: the generated repository is not clean: {len(ours)} errors, "
            f"{len(result.specs)}/{size} specs, {result.files} files (fix bench/generate.py)\n{shown}"
        )
    row.stages, row.stage_calls = dict(stages), dict(calls)
    row.stages["total"] = verify_seconds
    others = Counter(d.severity.value for d in result.diagnostics if d.severity is not Severity.ERROR)
    notes = "".join(f", {count} {severity}" for severity, count in sorted(others.items()))
    print(f"  verified: {len(result.specs)} specs, 0 errors{notes} ({verify_seconds:.2f} s, instrumented warm-up run)")
    outside = sorted({d.file for d in errors} - {d.file for d in ours})
    if outside:
        row.outside_errors = len(errors) - len(ours)
        print(f"  warning: {row.outside_errors} errors outside the generated repository (built-in policies?), in:")
        print("".join(f"    {name}\n" for name in outside[:10]).rstrip())
    del result

    for attempt in range(1, repeat + 1):
        row.libyaml = min(row.libyaml, _time(lambda: _parse_all(files)))
        row.charter = min(row.charter, _time(lambda: pipeline.check_path(root)))
        if not args.no_jsonschema:
            seconds, failures = _check_jsonschema(root, schemas)
            row.jsonschema = seconds if row.jsonschema is None else min(row.jsonschema, seconds)
            row.jsonschema_failures = failures
        shown = f", check-jsonschema {row.jsonschema:.2f} s" if row.jsonschema is not None else ""
        print(f"  run {attempt}/{repeat}: best so far libyaml {row.libyaml:.3f} s, charter {row.charter:.2f} s{shown}")
    if row.jsonschema_failures:
        print(f"  note: check-jsonschema rejected {row.jsonschema_failures} of the files Charter accepts")
    if not args.no_cli and size <= 1000:
        row.cli = _time(lambda: _charter_cli(root))
        print(f"  `charter check` as a subprocess: {row.cli:.2f} s (in process: {row.charter:.2f} s)")
    return row


def _time(action: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    del result
    gc.collect()
    return seconds


def _parse_all(files: list[Path]) -> int:
    documents = 0
    for path in files:
        data = yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader)
        documents += data is not None
    return documents


@contextlib.contextmanager
def _stage_timer() -> Iterator[tuple[dict[str, float], dict[str, int]]]:
    """Wrap the stages `check_path` calls, so one real run reports where its time goes.

    The wrappers add a few microseconds per call; the run they instrument is
    not the one in the table. Stages the pipeline no longer calls by these
    names are simply missing from the breakdown.
    """
    seconds: dict[str, float] = {}
    calls: dict[str, int] = {}

    def timed(name: str, function: Callable[..., Any], label: Callable[..., str] | None = None) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                key = label(*args) if label else name
                seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - start
                calls[key] = calls.get(key, 0) + 1

        return wrapper

    def kind_of(document: Any, *_: Any) -> str:
        data = getattr(document, "data", None)
        kind = data.get("kind") if isinstance(data, dict) else None
        return f"validate {kind}"

    patches = {
        "spec_files": timed("discover (glob)", getattr(pipeline, "spec_files", None)),
        "load_file": timed("load (read, libyaml, construct)", getattr(pipeline, "load_file", None)),
        "validate": timed("validate", getattr(pipeline, "validate", None), kind_of),
        "resolve": timed("resolve", getattr(pipeline, "resolve", None)),
        "check": timed("check policies (CEL)", getattr(pipeline, "check", None)),
    }
    originals = {name: getattr(pipeline, name) for name in patches if hasattr(pipeline, name)}
    for name in originals:
        setattr(pipeline, name, patches[name])
    try:
        yield seconds, calls
    finally:
        for name, original in originals.items():
            setattr(pipeline, name, original)


def _write_schemas(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in all_schemas().items():
        (out / name).write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return out


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _check_jsonschema(root: Path, schemas: Path) -> tuple[float, int]:
    """Wall time of check-jsonschema over every file, one call per kind (chunked if the command line is long)."""
    groups: dict[str, list[str]] = {"project.schema.json": ["charter.yaml"]}
    for path in sorted(root.glob("teams/*/*/*.yaml")):
        groups.setdefault(SCHEMA_OF_DIRECTORY[path.parent.name], []).append(path.relative_to(root).as_posix())
    total = 0.0
    failures = 0
    for schema, files in groups.items():
        for chunk in _chunks(files):
            command = [_tool("check-jsonschema"), "--schemafile", str(schemas / schema), "--output-format", "json"]
            start = time.perf_counter()
            done = subprocess.run([*command, *chunk], cwd=root, capture_output=True, text=True, check=False)
            total += time.perf_counter() - start
            if done.returncode != 0:
                failures += _failed_files(done.stdout, len(chunk))
    return total, failures


def _chunks(files: list[str]) -> Iterator[list[str]]:
    budget = 200_000  # bytes of arguments per call, well under any ARG_MAX
    chunk: list[str] = []
    used = 0
    for name in files:
        if chunk and used + len(name) + 1 > budget:
            yield chunk
            chunk, used = [], 0
        chunk.append(name)
        used += len(name) + 1
    if chunk:
        yield chunk


def _failed_files(stdout: str, default: int) -> int:
    try:
        report = json.loads(stdout)
    except ValueError:
        return default
    errors = report.get("errors", []) + report.get("parse_errors", [])
    return len({error.get("filename") for error in errors}) or default


def _charter_cli(root: Path) -> None:
    done = subprocess.run(
        [_tool("charter"), "check", str(root), "--color", "never"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: `charter check` exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr}")


# --- reporting ---------------------------------------------------------------


def _machine() -> str:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    libyaml = "no (pure-Python PyYAML: the baseline is meaningless)"
    if yaml.__with_libyaml__:
        from yaml import _yaml  # type: ignore[attr-defined]

        libyaml = f"yes, libyaml {_yaml.get_version_string()}"
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    lines = [
        "machine",
        f"  python            {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"  platform          {platform.platform()}, {platform.machine()}",
        f"  cpus              {cpus} ({usable} usable; everything here runs on one)",
        f"  libyaml           {libyaml}",
        f"  PyYAML {version('pyyaml')}, pydantic {version('pydantic')}, jsonschema {version('jsonschema')}, "
        f"check-jsonschema {version('check-jsonschema')}, charter {version('charter')}",
    ]
    return "\n".join(lines)


def _print_table(rows: list[Row]) -> None:
    header = (
        f"{'N':>7}  {'files':>6}  {'libyaml s':>9}  {'charter s':>9}  {'charter/libyaml':>15}  "
        f"{'check-jsonschema s':>18}  {'charter/check-jsonschema':>24}  {'specs/s':>8}"
    )
    print("results (best of the runs; seconds of wall time)")
    print(header)
    print("-" * len(header))
    for row in rows:
        jsonschema = f"{row.jsonschema:.2f}" if row.jsonschema is not None else "-"
        versus = f"{row.charter / row.jsonschema:.2f}x" if row.jsonschema else "-"
        print(
            f"{row.size:>7}  {row.files:>6}  {row.libyaml:>9.3f}  {row.charter:>9.2f}  "
            f"{row.charter / row.libyaml:>14.1f}x  {jsonschema:>18}  {versus:>24}  {row.size / row.charter:>8.0f}"
        )
    print()
    print("  libyaml s: read + yaml.load(CSafeLoader) of every file, in process")
    print("  charter s: compiler.pipeline.check_path(root), in process (Python start-up excluded)")
    print("  check-jsonschema s: the CLI, one subprocess per kind, so its start-up (~0.3-0.5 s each) is included")
    for row in rows:
        if row.cli is not None:
            extra = row.cli - row.charter
            print(
                f"  N={row.size}: `charter check` as a subprocess took {row.cli:.2f} s, "
                f"{extra:+.2f} s over in process (start-up, imports, report)"
            )
        if row.outside_errors:
            print(f"  N={row.size}: {row.outside_errors} errors outside the generated repository; see above")
        if row.jsonschema_failures:
            print(f"  N={row.size}: check-jsonschema rejected {row.jsonschema_failures} files Charter accepts")


def _print_stages(rows: list[Row]) -> None:
    for row in rows[-1:]:
        if not row.stages:
            continue
        total = row.stages["total"]
        print()
        print(f"where charter check spends its time, N={row.size} (instrumented run, {total:.2f} s)")
        measured = 0.0
        for name, seconds in sorted(row.stages.items(), key=lambda item: -item[1]):
            if name == "total":
                continue
            if not name.startswith("discover"):
                measured += seconds
            calls = row.stage_calls.get(name, 0)
            per_call = f"{seconds / calls * 1000:8.3f} ms/call" if calls else ""
            print(f"  {name:<34} {seconds:8.2f} s  {seconds / total:6.1%}  {calls:>6} calls  {per_call}")
        measured += row.stages.get("discover (glob)", 0.0)
        rest = total - measured
        print(f"  {'other (project, sorting, glue)':<34} {rest:8.2f} s  {rest / total:6.1%}")


def _print_goal(rows: list[Row]) -> None:
    for row in rows:
        if row.size == GOAL_SIZE:
            ratio = row.charter / row.libyaml
            print()
            print(
                f"goal (issue): charter check of {GOAL_SIZE:,} specs within {GOAL_RATIO:.0f}x the libyaml parse time; "
                f"measured {ratio:.1f}x ({row.charter:.2f} s vs {row.libyaml:.3f} s). "
                f"Reaching it means {row.libyaml * GOAL_RATIO:.2f} s."
            )


def _profile(root: Path, top: int) -> None:
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    pipeline.check_path(root)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        print()
        print(f"profile of charter check on {root.name}, top {top} by {order} (cProfile slows it down)")
        text = out.getvalue()
        print(text[text.find("   ncalls") :].rstrip())


@contextlib.contextmanager
def _workspace(keep: bool) -> Iterator[Path]:
    if keep:
        path = Path(tempfile.mkdtemp(prefix="charter-bench-"))
        print(f"repositories kept in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="charter-bench-") as path:
        yield Path(path)


if __name__ == "__main__":
    sys.exit(main())
