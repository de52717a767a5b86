"""`make bench` is not part of `make test` (it takes minutes), but its scripts must keep running: each one
here on a tiny repository, so that a change to the pipeline's names or signatures cannot break them unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_check_bench_prints_every_ratio() -> None:
    out = _bench("bench/run.py", "--sizes", "30", "--repeat", "1", "--no-jsonschema", "--no-cli")
    assert "charter/libyaml" in out
    assert "unchanged/cold" in out
    assert "one file/cold" in out
    assert "load + validate (all files)" in out


def test_the_build_bench_runs() -> None:
    out = _bench("bench/build.py", "--models", "3")
    assert "build total over check of the same repository" in out


def test_the_gates_bench_compares_data_with_server() -> None:
    out = _bench("bench/gates.py", "--csv-gb", "", "--eval-rows", "0", "--drift-rows", "0", "--server-rows", "2000")
    assert "data gate at 2,000 rows: --server/--data wall" in out
    runs = [line for line in out.splitlines() if line.startswith("| data | CSV via")]
    assert [line.rsplit("|", 2)[-2].strip() for line in runs] == ["1", "1"]  # fewer rows than the contract asks


def test_the_scaling_bench_prints_a_ratio_per_shape() -> None:
    out = _bench("bench/scaling.py", "--scale", "0.01", "--repeat", "1")
    for shape in ("keys", "documents", "long-line", "nesting", "findings"):
        assert f"\n  {shape:<10} (" in out
    assert "CPUs, load average" in out


def test_the_editor_bench_measures_both_shapes_and_a_second_start() -> None:
    out = _bench("bench/lsp.py", "--count", "30", "--edits", "2")
    for shape in ("own", "shared"):
        assert f"\n{shape}: start-up to the first diagnostics" in out
    assert out.count("didChange -> publishDiagnostics over 2 edits") == 2
    assert "second start, from the cache the first server wrote" in out


def test_the_spark_bench_compares_every_gate_pushed_down_and_pulled() -> None:
    """Push-down at 4,000 rows, pulls at 2,000 and 3,000: the 4,000-row pull is extrapolated, and said to be."""
    import importlib.util
    import shutil

    import pytest

    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        pytest.skip("the Spark bench needs pyspark and Java (make test installs both)")
    out = _bench("bench/spark_pushdown.py", "--rows", "4000", "--pull-rows", "2000,3000")
    for gate in ("data", "eval", "drift"):
        assert f"{gate} push-down" in out
        assert f"{gate} pull" in out
        assert f"{gate} pull" in out.split("summary at 4,000 rows:")[1]
    assert "(EXTRAPOLATED: the 3,000-row pull x 1.33333; pulls measured at 2,000, 3,000)" in out
