"""The figures `bench/run.py` measures, and the tables it prints from them."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

GOAL_RATIO = 1.5
GOAL_CPU_RATIO = 2.5
GOAL_SIZE = 10_000


@dataclass(frozen=True)
class Took:
    """Wall-clock seconds, and CPU seconds (user + system, this process and its finished children)."""

    wall: float
    cpu: float

    def __add__(self, other: Took) -> Took:
        return Took(self.wall + other.wall, self.cpu + other.cpu)

    def best(self, other: Took | None) -> Took:
        return self if other is None else Took(min(self.wall, other.wall), min(self.cpu, other.cpu))


NOTHING = Took(0.0, 0.0)


@dataclass
class Row:
    shape: str
    size: int
    files: int
    mean_bytes: int
    libyaml: Took | None = None
    charter: Took | None = None
    jsonschema: Took | None = None
    jsonschema_failures: int = 0
    cli: Took | None = None
    startup: Took | None = None
    stages: dict[str, Took] = field(default_factory=dict)
    stage_calls: dict[str, int] = field(default_factory=dict)
    outside_errors: int = 0
    cached_first: Took | None = None  # with the cache, none recorded yet
    unchanged: Took | None = None  # with the cache, nothing changed
    one_file: Took | None = None  # with the cache, one model edited
    peak_mib: float | None = None  # the largest resident set of `charter check --no-cache` and its worker
    pairs: list[tuple[Took, Took]] = field(default_factory=list)  # (libyaml, charter) of each run, timed in turn

    def paired(self, pick: Callable[[Took], float]) -> float | None:
        """The median over runs of charter/libyaml within one run: the two are timed one after the other, so a
        machine whose speed drifts between runs (other people's jobs) moves both sides of a pair alike."""
        ratios = [pick(charter) / pick(libyaml) for libyaml, charter in self.pairs if pick(libyaml) > 0]
        return statistics.median(ratios) if ratios else None


def show(took: Took, digits: int = 2) -> str:
    return f"{took.wall:.{digits}f} s ({took.cpu:.{digits}f} s CPU)"


def print_table(rows: list[Row]) -> None:
    for title, pick in (
        ("wall-clock seconds (best of the runs)", lambda took: took.wall),
        (
            "CPU seconds, user + system (best of the runs): steadier when other work shares the machine",
            lambda took: took.cpu,
        ),
    ):
        header = (
            f"{'shape':>6}  {'N':>7}  {'files':>6}  {'libyaml s':>9}  {'charter s':>9}  {'charter/libyaml':>15}  "
            f"{'check-jsonschema s':>18}  {'charter/check-jsonschema':>24}  {'specs/s':>8}"
        )
        print(title)
        print(header)
        print("-" * len(header))
        for row in rows:
            if row.libyaml is None or row.charter is None:
                continue
            libyaml, charter = pick(row.libyaml), pick(row.charter)
            jsonschema = pick(row.jsonschema) if row.jsonschema is not None else None
            shown = f"{jsonschema:.2f}" if jsonschema else "-"
            versus = f"{charter / jsonschema:.2f}x" if jsonschema else "-"
            print(
                f"{row.shape:>6}  {row.size:>7}  {row.files:>6}  {libyaml:>9.3f}  {charter:>9.2f}  "
                f"{charter / libyaml:>14.1f}x  {shown:>18}  {versus:>24}  {row.size / charter:>8.0f}"
            )
        print()
    print("  libyaml s: read + yaml.load(CSafeLoader) of every file, in a fresh interpreter (start-up excluded)")
    print("  charter s: compiler.stages.check_path(root) and its workers, in a fresh interpreter (start-up and")
    print("             filling the caches on a 20-spec repository excluded)")
    print("  check-jsonschema s: the CLI, one subprocess per kind, so its start-up (~0.3-0.5 s each) is included")
    for row in rows:
        at = f"{row.shape}, N={row.size}"
        if row.cli is not None and row.charter is not None:
            print(
                f"  {at}: `charter check` as a subprocess (one run) took {show(row.cli)}, "
                f"{row.cli.wall - row.charter.wall:+.2f} s wall and {row.cli.cpu - row.charter.cpu:+.2f} s CPU "
                "over the best in-process run: start-up, imports and the report, within run-to-run noise"
            )
        if row.startup is not None:
            print(f"  {at}: a fresh interpreter importing Charter's check path takes {show(row.startup)}")
        if row.outside_errors:
            print(f"  {at}: {row.outside_errors} errors outside the generated repository; see above")
        if row.jsonschema_failures:
            print(f"  {at}: check-jsonschema rejected {row.jsonschema_failures} files Charter accepts")


INSIDE = "  "
"""Stage names starting with this are timed inside another stage (`bench/run.py`): shown apart, never summed."""


def print_stages(rows: list[Row]) -> None:
    for row in rows[-1:]:
        if not row.stages:
            continue
        total = row.stages["total"]
        print()
        print(
            f"where charter check spends its time, {row.shape}, N={row.size} "
            f"(instrumented run: {total.wall:.2f} s, {total.cpu:.2f} s CPU)"
        )
        print(f"  {'stage':<34} {'wall s':>8}  {'share':>6}  {'CPU s':>8}  {'calls':>6}  {'CPU ms/call':>11}")
        measured = NOTHING
        ranked = sorted(row.stages.items(), key=lambda item: -item[1].cpu)
        for name, took in ranked:
            if name == "total" or name.startswith(INSIDE):
                continue
            measured += took
            _print_stage(name, took, total, row.stage_calls.get(name, 0))
        rest = Took(total.wall - measured.wall, total.cpu - measured.cpu)
        print(
            f"  {'other (project, sorting, glue)':<34} {rest.wall:8.2f}  {rest.wall / total.wall:6.1%}  {rest.cpu:8.2f}"
        )
        inside = [(name, took) for name, took in ranked if name.startswith(INSIDE)]
        if inside:
            print("  inside load + validate, the parent's share of the files only (the workers' runs are not seen):")
            for name, took in inside:
                _print_stage(name, took, total, row.stage_calls.get(name, 0))


def _print_stage(name: str, took: Took, total: Took, calls: int) -> None:
    per_call = f"{took.cpu / calls * 1000:11.3f}" if calls else ""
    print(f"  {name:<34} {took.wall:8.2f}  {took.wall / total.wall:6.1%}  {took.cpu:8.2f}  {calls:>6}  {per_call}")


def print_goal(rows: list[Row]) -> None:
    for row in rows:
        if row.size == GOAL_SIZE and row.libyaml is not None and row.charter is not None:
            wall, cpu = row.charter.wall / row.libyaml.wall, row.charter.cpu / row.libyaml.cpu
            print()
            print(
                f"goal (issue), {row.shape}: charter check of {GOAL_SIZE:,} specs within {GOAL_RATIO}x the libyaml "
                f"parse time on the wall clock and {GOAL_CPU_RATIO}x in CPU; measured "
                f"{wall:.1f}x wall ({row.charter.wall:.2f} s vs {row.libyaml.wall:.3f} s), "
                f"{cpu:.1f}x CPU ({row.charter.cpu:.2f} s vs {row.libyaml.cpu:.3f} s). "
                f"Reaching it means about {row.libyaml.cpu * GOAL_CPU_RATIO:.1f} s of CPU."
            )
            paired_wall, paired_cpu = row.paired(lambda took: took.wall), row.paired(lambda took: took.cpu)
            if paired_wall is not None and paired_cpu is not None and len(row.pairs) > 1:
                print(
                    f"  median of the {len(row.pairs)} runs' own ratios (libyaml and charter timed in turn): "
                    f"{paired_wall:.2f}x wall, {paired_cpu:.2f}x CPU"
                )


def print_cache(rows: list[Row]) -> None:
    """The issue's other goals: re-runs against the cold check, and peak memory."""
    print()
    print("re-runs with the cache (.charter/cache/), wall seconds, against the cold check above (no cache)")
    header = (
        f"{'shape':>6}  {'N':>7}  {'cold s':>7}  {'first cached s':>14}  {'unchanged s':>11}  {'unchanged/cold':>14}  "
        f"{'one file s':>10}  {'one file/cold':>13}  {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.charter is None or row.cached_first is None or row.unchanged is None or row.one_file is None:
            continue
        cold = row.charter.wall
        print(
            f"{row.shape:>6}  {row.size:>7}  {cold:>7.2f}  {row.cached_first.wall:>14.2f}  "
            f"{row.unchanged.wall:>11.3f}  "
            f"{row.unchanged.wall / cold:>14.3f}  {row.one_file.wall:>10.3f}  {row.one_file.wall / cold:>13.3f}  "
            f"{row.peak_mib or 0:>8.0f}"
        )
    print(
        "  goals (issue): unchanged/cold at most 0.05; one file/cold at most 0.10; "
        f"peak memory at most 1,024 MiB at N={GOAL_SIZE:,}"
    )
