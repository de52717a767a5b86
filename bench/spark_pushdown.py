"""`make bench` (Spark push-down): the data, eval and drift gates on Parquet tables read by Spark, their
aggregations pushed down vs every row pulled into DuckDB.

    .venv/bin/python bench/spark_pushdown.py                                  # 10,000,000 rows
    .venv/bin/python bench/spark_pushdown.py --rows 1000000 --pull-rows 1000000  # quicker

It writes the example's rows (compiler/gates/data/synthetic.py) as Parquet into a copy of the credit-scoring
example: the applications (the data gate, and the drift gate's reference), production traffic whose incomes
moved (the drift gate's current data) and a binary model's predictions (the eval gate, its suite reduced to the
bounds counts serve: recall, precision, accuracy, f1, balanced accuracy, a slice, fairness with intervals). Each
is a `local` server read by Spark (`engine: spark`, `local[2]`). Every gate runs twice:

1. push-down: data, every check as one aggregate query; eval, one GROUP BY of labels, predictions and groups
   with its counts; drift (PSI), the categories and the traffic's numeric bins counted in Spark, the
   reference's numeric values pulled (its quantiles are the bin edges).
2. pull: every row of the table streamed out of Spark into DuckDB first, then judged there.

Pulling 10 million rows through Spark's local iterator takes long on a small machine: the pull runs at the
sizes `--pull-rows` gives (1 and 2 million by default, each within `--pull-budget` seconds) and its 10-million
figure is the largest of them scaled in proportion to the rows, printed as EXTRAPOLATED.
`--pull-rows 10000000` measures it instead.

"Bytes returned" is the Arrow size of every result Spark handed back to the gate. Both runs of a gate must give
the same findings; it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_gates_support import add_servers, counted_suite  # noqa: E402  as the push-down tests write them

CREDIT = ROOT / "examples" / "credit-scoring"
GATES = ("data", "eval", "drift")


def _spark_server(name: str, path: str) -> dict[str, Any]:
    return {
        "server": name,
        "type": "local",
        "path": path,
        "format": "parquet",
        "customProperties": [{"property": "engine", "value": "spark"}],
    }


@contextmanager
def project(rows: int) -> Iterator[Path]:
    import duckdb

    from compiler.gates.data import synthetic

    with tempfile.TemporaryDirectory(prefix="charter-bench-spark-") as folder:
        root = Path(folder) / "credit-scoring"
        shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
        data = root / "data"
        data.mkdir(exist_ok=True)  # the example commits its .dvc files in data/; the bench writes beside them
        con = duckdb.connect()
        con.execute(
            f"COPY ({synthetic.credit_applications(rows)}) TO '{data / 'applications.parquet'}' (FORMAT parquet)"
        )
        con.execute(f"CREATE TABLE traffic AS {synthetic.credit_applications(rows, seed=2)}")
        con.execute("UPDATE traffic SET annual_income = annual_income * 1.5")
        con.execute(f"COPY traffic TO '{data / 'traffic.parquet'}' (FORMAT parquet)")
        con.execute(f"COPY ({synthetic.predictions(rows, seed=3, bias=0.8)}) TO '{data / 'predictions.parquet'}'")
        con.close()
        contracts = root / "contracts"
        add_servers(
            contracts / "credit-applications.odcs.yaml",
            _spark_server("lake-spark", "data/applications.parquet"),
            _spark_server("traffic-spark", "data/traffic.parquet"),
        )
        add_servers(
            contracts / "credit-holdout.odcs.yaml", _spark_server("predictions-spark", "data/predictions.parquet")
        )
        counted_suite(root)
        sizes = ", ".join(f"{p.stem} {p.stat().st_size / 1e6:,.0f} MB" for p in sorted(data.glob("*.parquet")))
        print(f"tables: {rows:,} rows each, Parquet: {sizes}")
        yield root


def _gate(gate: str, specs: Any, *, pushdown: bool) -> Any:
    """The gate's report, its server's aggregations pushed down or every row pulled."""
    from compiler.gates.data import gate as data
    from compiler.gates.drift import gate as drift
    from compiler.gates.eval import gate as evaluation
    from compiler.gates.eval.load import EvalOptions
    from compiler.gates.io import inputs

    if gate == "eval":
        return evaluation.run(specs, EvalOptions(model="credit-default", server="predictions-spark", pushdown=pushdown))
    if gate == "drift":
        watched = drift.DriftOptions(
            model="credit-default", reference_server="lake-spark", current_server="traffic-spark", pushdown=pushdown
        )
        return drift.run(specs, watched)
    now = datetime.datetime(2024, 7, 1, 6, tzinfo=datetime.UTC)
    options = data.DataOptions(contract="credit-applications", server="lake-spark", now=now, memory_limit="1GB")
    original = inputs.open_input

    def opened(paths: Any, server: Any, what: str, *, reach: Any) -> Any:
        return original(paths, server, what, reach=reach, pushdown=pushdown)

    setattr(data, "open_input", opened)  # noqa: B010 (the data gate's own name for it)
    try:
        return data.run(specs, options)
    finally:
        setattr(data, "open_input", original)  # noqa: B010


def run_gate(root: Path, gate: str, *, pushdown: bool) -> tuple[float, int, Any]:
    """Wall seconds, bytes Spark returned, and the report."""
    from compiler.gates.io import spark_engine
    from compiler.gates.project import load_project

    returned: list[int] = []
    close = spark_engine.SparkEngine.close

    def counting(self: spark_engine.SparkEngine) -> None:
        returned.append(self.bytes_received)
        close(self)

    specs = load_project(str(root))
    spark_engine.SparkEngine.close = counting  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        report = _gate(gate, specs, pushdown=pushdown)
        return time.perf_counter() - start, sum(returned), report
    finally:
        spark_engine.SparkEngine.close = close  # type: ignore[method-assign]


def _line(name: str, seconds: float, returned: float, verdict: str) -> str:
    return f"  {name:<28} {seconds:8.1f} s wall, {returned / 1e3:13,.1f} kB returned by Spark, verdict {verdict}"


def _bench(rows: int, pull_rows: list[int], budget: float) -> dict[str, dict[int, tuple[float, int]]]:
    """Push-down at `rows`, pull at each of `pull_rows` (until one overruns `budget`): figures by gate and size."""
    pulls: dict[str, dict[int, tuple[float, int]]] = {gate: {} for gate in GATES}
    pushed: dict[str, Any] = {}
    for size in sorted({rows, *pull_rows}):
        with project(size) as root:
            for gate in GATES:
                if size == rows:
                    seconds, returned, report = run_gate(root, gate, pushdown=True)
                    pushed[gate] = report
                    print(_line(f"{gate} push-down", seconds, returned, report.verdict))
                    pulls[gate][0] = (seconds, returned)
                if size not in pull_rows:
                    continue
                seconds, returned, report = run_gate(root, gate, pushdown=False)
                print(_line(f"{gate} pull into DuckDB", seconds, returned, report.verdict))
                pulls[gate][size] = (seconds, returned)
                if size == rows:
                    same = pushed[gate].checks == report.checks
                    print(f"  {gate}: same findings pushed down and pulled: {same}")
                if seconds > budget:
                    pull_rows = [n for n in pull_rows if n <= size]
                    print(f"  (pull took over the {budget:.0f} s budget: no larger pull)")
    return pulls


def _extrapolated(figures: dict[int, tuple[float, int]], rows: int) -> tuple[float, float]:
    """Seconds and bytes at `rows`: the largest measured pull scaled in proportion to the rows. A pull streams
    every row, so its cost grows with them; a line through two small, noisy pulls on a shared machine can even
    slope down, so the largest one alone is scaled (its fixed costs scaled too: an overestimate, if anything)."""
    largest = max(n for n in figures if n)
    seconds, returned = figures[largest]
    return seconds * rows / largest, returned * rows / largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pull-rows", default="1000000,2000000", help="sizes the pull is measured at (commas)")
    parser.add_argument("--pull-budget", type=float, default=1800.0, help="seconds; no larger pull after one over")
    args = parser.parse_args()
    from pyspark.sql import SparkSession

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("OFF")
    print(f"spark: started in {time.perf_counter() - start:.1f} s")
    pull_rows = [int(n) for n in args.pull_rows.split(",") if n]
    figures = _bench(args.rows, pull_rows, args.pull_budget)
    print(f"summary at {args.rows:,} rows:")
    for gate in GATES:
        seconds, returned = figures[gate][0]
        print(_line(f"{gate} push-down", seconds, returned, "(measured)"))
        if args.rows in figures[gate]:
            seconds, returned = figures[gate][args.rows]
            print(_line(f"{gate} pull", seconds, returned, "(measured)"))
        else:
            measured = ", ".join(f"{n:,}" for n in sorted(figures[gate]) if n)
            seconds, estimate = _extrapolated(figures[gate], args.rows)
            largest = max(n for n in figures[gate] if n)
            shown = f"(EXTRAPOLATED: the {largest:,}-row pull x {args.rows / largest:g}; pulls measured at {measured})"
            print(_line(f"{gate} pull", seconds, estimate, shown))
    spark.stop()


if __name__ == "__main__":
    main()
