"""`make bench` (Spark push-down): the data gate on a Parquet table read by Spark, checks pushed down vs rows pulled.

    .venv/bin/python bench/spark_pushdown.py                 # 10,000,000 rows
    .venv/bin/python bench/spark_pushdown.py --rows 1000000  # quicker

It writes the example contract's rows (compiler/gates/synthetic.py) as Parquet into a copy of the
credit-scoring example, whose contract gets a `local` server read by Spark (`engine: spark`), starts Spark
in local mode (`local[2]`) and runs the data gate twice:

1. push-down: every check rendered in Spark's dialect as one aggregate query; only aggregates come back.
2. pull: the same gate with the rows streamed out of Spark into DuckDB first (what the eval and drift
   gates do), then checked in DuckDB.

"Bytes returned" is the Arrow size of every result Spark handed back to the gate. Both runs must give the
same findings; it prints figures and asserts nothing about time.
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

CREDIT = ROOT / "examples" / "credit-scoring"


@contextmanager
def project(rows: int) -> Iterator[Path]:
    import duckdb
    from ruamel.yaml import YAML

    from compiler.gates.data import synthetic

    with tempfile.TemporaryDirectory(prefix="charter-bench-spark-") as folder:
        root = Path(folder) / "credit-scoring"
        shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
        (root / "data").mkdir()
        con = duckdb.connect()
        target = root / "data" / "applications.parquet"
        con.execute(f"COPY ({synthetic.credit_applications(rows)}) TO '{target}' (FORMAT parquet)")
        con.close()
        yaml = YAML()
        path = root / "contracts" / "credit-applications.odcs.yaml"
        contract = yaml.load(path.read_text("utf-8"))
        contract["servers"].append(
            {"server": "lake-spark", "type": "local", "path": "data/applications.parquet", "format": "parquet",
             "customProperties": [{"property": "engine", "value": "spark"}]}
        )  # fmt: skip
        with path.open("w", encoding="utf-8") as out:
            yaml.dump(contract, out)
        print(f"table: {rows:,} rows, {target.stat().st_size / 1e6:,.0f} MB of Parquet")
        yield root


def run_gate(root: Path, *, pull: bool) -> tuple[float, int, Any]:
    from compiler.gates.data import gate as data
    from compiler.gates.io import spark_engine
    from compiler.gates.project import load_project

    returned: list[int] = []
    close = spark_engine.SparkEngine.close

    def counting(self: spark_engine.SparkEngine) -> None:
        returned.append(self.bytes_received)
        close(self)

    specs = load_project(str(root))
    now = datetime.datetime(2024, 7, 1, 6, tzinfo=datetime.UTC)
    options = data.DataOptions(contract="credit-applications", server="lake-spark", now=now, memory_limit="1GB")
    original = data.open_input
    if pull:
        data.open_input = lambda paths, server, what, reach: original(paths, server, "rows pulled", reach=reach)  # type: ignore[assignment]
    spark_engine.SparkEngine.close = counting  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        report = data.run(specs, options)
        return time.perf_counter() - start, sum(returned), report
    finally:
        data.open_input = original
        spark_engine.SparkEngine.close = close  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
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
    with project(args.rows) as root:
        results = {}
        for name, pull in (("push-down", False), ("pull into DuckDB", True)):
            seconds, returned, report = run_gate(root, pull=pull)
            results[name] = report
            figures = f"{seconds:7.1f} s wall, {returned / 1e3:12,.1f} kB returned by Spark"
            print(f"{name:>17}: {figures}, verdict {report.verdict}")
        same = results["push-down"].checks == results["pull into DuckDB"].checks
        print(f"same findings: {same}")
    spark.stop()


if __name__ == "__main__":
    main()
