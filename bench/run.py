"""`make bench`: how long `charter check` takes on 1,000 and 10,000 specs, against two baselines.

For each size this generates a repository (bench/generate.py), checks that
Charter reports no error on it (one instrumented run, for the stage breakdown), then measures in one run
of the bench, each timed run in a fresh interpreter (bench/fresh.py):

  libyaml            read every file and `yaml.load(text, Loader=yaml.CSafeLoader)`:
                     the floor for any YAML tool written in Python
  charter check      `compiler.stages.check_path(root)` end to end, its workers included
                     (no interpreter start-up, caches warmed on a small repository): discover,
                     load, validate, resolve, evidence, policies
  check-jsonschema   the `check-jsonschema` CLI validating the same files against
                     Charter's own schemas (`compiler.commands.schema.all_schemas()`), one
                     subprocess per kind: its start-up is included

Both shapes of `generate.py` are measured (`--shapes`): every group of models with environments of its
own, and models sharing two Environments and an organisation Policy. It prints figures only and asserts
nothing about time. The issue's goal is charter check on 10,000 specs in at most 1.5x the libyaml time on
the wall clock and 2.5x in CPU seconds, in both shapes.

    .venv/bin/python bench/run.py [--sizes 1000,10000] [--shapes own,shared] [--repeat N] [--profile]
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
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing
sys.path.insert(0, str(HERE))

import fresh  # noqa: E402
import generate  # noqa: E402
import yaml  # noqa: E402
from tables import INSIDE, NOTHING, Row, Took, print_cache, print_goal, print_stages, print_table, show  # noqa: E402

from compiler.commands.schema import all_schemas  # noqa: E402
from compiler.core.cache import DirectoryStore  # noqa: E402
from compiler.core.diagnostics import Severity  # noqa: E402
from compiler.core.sources import display_path  # noqa: E402
from compiler.stages import pipeline  # noqa: E402

# Which schema each generated directory is checked against by check-jsonschema.
SCHEMA_OF_DIRECTORY = {
    "contracts": "datacontract.schema.json",
    "models": "model.schema.json",
    "suites": "evaluation-suite.schema.json",
    "environments": "environment.schema.json",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    print(_machine())
    print()
    rows: list[Row] = []
    with _workspace(args.keep) as work:
        schemas = _write_schemas(work / "schemas")
        _warm_up(work, args.seed)
        for shape in args.shapes.split(","):
            for size in sizes:
                repeat = args.repeat or (3 if size <= 1000 else 1)
                rows.append(_measure(work / f"repo-{shape}-{size}", shape, size, repeat, args, schemas))
        print()
        print_table(rows)
        print_stages(rows)
        print_goal(rows)
        print_cache(rows)
        if args.profile:
            _profile(work / f"repo-{rows[-1].shape}-{max(sizes)}", args.profile_top)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated spec counts (default 1000,10000)")
    parser.add_argument("--shapes", default=",".join(generate.SHAPES), help="own, shared (default both)")
    parser.add_argument("--repeat", type=int, default=0, help="runs per size, best kept (default 3 up to 1k, else 1)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--no-jsonschema", action="store_true", help="skip the check-jsonschema baseline")
    parser.add_argument("--no-cli", action="store_true", help="skip timing the `charter check` subprocess")
    parser.add_argument("--profile", action="store_true", help="cProfile one charter check of the largest size")
    parser.add_argument("--profile-top", type=int, default=15, help="functions listed by --profile (default 15)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories and print where")
    return parser


# --- measuring ---------------------------------------------------------------


def _measure(root: Path, shape: str, size: int, repeat: int, args: argparse.Namespace, schemas: Path) -> Row:
    repo = generate.generate(root, size, args.seed, shape)
    files = repo.files
    mean_bytes = sum(path.stat().st_size for path in files) // len(files)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(repo.counts.items()))
    print(f"{shape}, N={size}: {len(files)} files ({kinds}, charter.yaml), mean {mean_bytes} B")
    row = Row(shape, size, len(files), mean_bytes)
    # One run in this process, instrumented for the stage breakdown (a few microseconds per file), whose
    # result is verified before anything is timed: a repository with errors would not be worth timing.
    first: list[pipeline.Checked] = []
    with _stage_timer() as (stages, calls):
        instrumented = _time(lambda: first.append(pipeline.check_path(root)))
    _verify(row, first.pop())
    row.stages, row.stage_calls = {**stages, "total": instrumented}, dict(calls)
    listed = root.parent / f"files-{shape}-{size}.txt"
    listed.write_text("".join(f"{path}\n" for path in files), "utf-8")
    for attempt in range(1, repeat + 1):
        # The timed runs: each in a fresh interpreter (bench/fresh.py), as a user's `charter check` runs.
        libyaml = Took(*fresh.measure("libyaml", str(listed)))
        charter = Took(*fresh.measure("charter", str(root), str(root.parent / "warm-up")))
        row.libyaml, row.charter = libyaml.best(row.libyaml), charter.best(row.charter)
        row.pairs.append((libyaml, charter))
        shown = ""
        if not args.no_jsonschema:
            took, row.jsonschema_failures = _check_jsonschema(root, schemas)
            row.jsonschema = took.best(row.jsonschema)
            shown = f", check-jsonschema {show(took)}"
        print(f"  run {attempt}/{repeat}: libyaml {show(libyaml, 3)}, charter {show(charter)}{shown}; {_load()}")
    if row.jsonschema_failures:
        print(f"  note: check-jsonschema rejected {row.jsonschema_failures} of the files Charter accepts")
    row.cached_first, row.unchanged, row.one_file = _measure_cache(root)
    print(
        f"  cache: first run {show(row.cached_first)}, nothing changed {show(row.unchanged)}, "
        f"one model edited {show(row.one_file)}"
    )
    row.peak_mib = _peak_memory(root)
    print(f"  peak memory of `charter check --no-cache` (a subprocess): {row.peak_mib:.0f} MiB")
    if not args.no_cli and size <= 1000:
        row.cli = _time(lambda: _charter_cli(root))
        row.startup = _time(_start_up)
        print(f"  `charter check` as a subprocess: {show(row.cli)}; start-up and imports alone: {show(row.startup)}")
    return row


def _measure_cache(root: Path) -> tuple[Took, Took, Took]:
    """`charter check` with its cache: filling it, nothing changed, then one model's description edited."""
    store = DirectoryStore(root)
    shutil.rmtree(root / ".charter" / "cache", ignore_errors=True)
    first = _time(lambda: pipeline.check_path(root, cache=store))
    unchanged = _time(lambda: pipeline.check_path(root, cache=store))
    models = sorted(root.glob("teams/*/models/*.yaml"))
    model = models[len(models) // 2]
    original = model.read_text("utf-8")
    model.write_text(original.replace("  description: ", "  description: Edited. ", 1), "utf-8")
    try:
        one_file = _time(lambda: pipeline.check_path(root, cache=store))
    finally:
        model.write_text(original, "utf-8")
    return first, unchanged, one_file


def _peak_memory(root: Path) -> float:
    """MiB: the largest resident set among `charter check` and the worker it forks (Linux reports KiB)."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [_tool("charter"), "check", str(root), "--no-cache", "--format", "json"]
    done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


def _verify(row: Row, result: pipeline.Checked) -> None:
    """Stop unless Charter accepted every generated spec without an error."""
    inside = display_path(result.root)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    ours = [d for d in errors if d.file.startswith(inside)]
    specs = sum(spec.kind != "Project" for spec in result.specs)  # charter.yaml may count as a spec file
    if ours or specs != row.size or result.files < row.size:
        shown = "\n".join(f"  {d.file}:{d.line} {d.code} {d.message}" for d in ours[:10])
        raise SystemExit(
            f"bench: the generated repository is not clean: {len(ours)} errors, "
            f"{specs}/{row.size} specs, {result.files} files (fix bench/generate.py)\n{shown}"
        )
    others = Counter(d.severity.value for d in result.diagnostics if d.severity is not Severity.ERROR)
    notes = "".join(f", {count} {severity}" for severity, count in sorted(others.items()))
    print(f"  verified: {specs} specs, 0 errors{notes}")
    outside = sorted({d.file for d in errors} - {d.file for d in ours})
    if outside:
        row.outside_errors = len(errors) - len(ours)
        print(f"  warning: {row.outside_errors} errors outside the generated repository (built-in policies?), in:")
        print("".join(f"    {name}\n" for name in outside[:10]).rstrip())


def _warm_up(work: Path, seed: int) -> None:
    """Check a small repository first: fails fast if the generator is out of date, and fills the caches
    (the ODCS validator, pydantic, compiled policies) so that the first timed run is not the one that pays."""
    size = 20
    repo = generate.generate(work / "warm-up", size, seed)
    start = _clock()
    result = pipeline.check_path(repo.root)
    took = _since(start)
    print(f"warm-up: {size} specs checked in {show(took)}")
    _verify(Row("own", size, size + 1, 0), result)


def _clock() -> Took:
    return Took(*fresh.clock())


def _since(start: Took) -> Took:
    now = _clock()
    return Took(now.wall - start.wall, now.cpu - start.cpu)


def _time(action: Callable[[], Any]) -> Took:
    gc.collect()
    start = _clock()
    result = action()
    took = _since(start)
    del result
    gc.collect()
    return took


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return f"load average {os.getloadavg()[0]:.1f}"


@contextlib.contextmanager
def _stage_timer() -> Iterator[tuple[dict[str, Took], dict[str, int]]]:
    """Wrap the stages `check_path` calls, so one real run reports where its time goes.

    The wrappers add a few microseconds per call; the run they instrument is
    not the one in the table. Stages the pipeline no longer calls by these
    names are simply missing from the breakdown.
    """
    seconds: dict[str, Took] = {}
    calls: dict[str, int] = {}

    def timed(name: str, function: Callable[..., Any], label: Callable[..., str] | None = None) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = _clock()
            try:
                return function(*args, **kwargs)
            finally:
                key = label(*args) if label else name
                seconds[key] = seconds.get(key, NOTHING) + _since(start)
                calls[key] = calls.get(key, 0) + 1

        return wrapper

    def kind_of(document: Any, *_: Any) -> str:
        data = getattr(document, "data", None)
        kind = data.get("kind") if isinstance(data, dict) else None
        return f"{INSIDE}validate {kind}"

    from compiler.stages.read import discovery
    from compiler.stages.validate import specs

    targets = [
        (discovery, "project_entries", timed("discover (walk)", discovery.project_entries)),
        # On every core for 256 files or more: then the two stages below run in the workers, unseen.
        (pipeline, "_read_and_validate", timed("load + validate (all files)", pipeline._read_and_validate)),
        (discovery, "spec_files", timed("discover (glob)", discovery.spec_files)),
        (discovery, "load_repo_file", timed(f"{INSIDE}load (read, libyaml, construct)", discovery.load_repo_file)),
        (specs, "validate", timed("validate", specs.validate, kind_of)),
        (pipeline, "resolve", timed("resolve", pipeline.resolve)),
        (pipeline, "load_evidence", timed("evidence (records judged)", pipeline.load_evidence)),
        (pipeline, "evaluate_policies", timed("check policies (CEL)", pipeline.evaluate_policies)),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in targets]
    for module, name, wrapper in targets:
        setattr(module, name, wrapper)
    try:
        yield seconds, calls
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def _write_schemas(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in all_schemas().items():
        (out / name).write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return out


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _check_jsonschema(root: Path, schemas: Path) -> tuple[Took, int]:
    """Wall time of check-jsonschema over every file, one call per kind (chunked if the command line is long)."""
    groups: dict[str, list[str]] = {"project.schema.json": ["charter.yaml"]}
    for path in sorted(root.glob("teams/*/*/*.yaml")):
        groups.setdefault(SCHEMA_OF_DIRECTORY[path.parent.name], []).append(path.relative_to(root).as_posix())
    total = NOTHING
    failures = 0
    for schema, files in groups.items():
        for chunk in _chunks(files):
            command = [_tool("check-jsonschema"), "--schemafile", str(schemas / schema), "--output-format", "json"]
            start = _clock()
            done = subprocess.run([*command, *chunk], cwd=root, capture_output=True, text=True, check=False)
            total += _since(start)
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


def _start_up() -> None:
    """A fresh interpreter importing what `charter check` needs, and nothing else."""
    code = "import compiler.commands.cli, compiler.stages.pipeline, compiler.reporters"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def _charter_cli(root: Path) -> None:
    done = subprocess.run(
        [_tool("charter"), "check", str(root), "--color", "never", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
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
        f"  load              {_load()} at start (another job on the machine inflates wall times)",
        f"  PyYAML {version('pyyaml')}, pydantic {version('pydantic')}, jsonschema {version('jsonschema')}, "
        f"check-jsonschema {version('check-jsonschema')}, charter {version('charter')}",
    ]
    return "\n".join(lines)


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
