"""Spark: the gates' checks run as Spark SQL on a real local Spark (`local[2]`), only aggregates come back.

The same seeded-defect rows, as a local Parquet file read by DuckDB, as that file read by Spark and as a
Delta table read by Spark, give exactly the same findings.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ruamel.yaml import YAML
from spark_support import spark
from test_gates_support import BREAKAGE_FAILS, CREDIT, add_servers, check_of, counted_suite, run_gate, seeded_rows

from compiler.gates.data import synthetic

__all__ = ["spark"]

NOW = "2024-07-01T06:00:00Z"
ROWS = 12_000


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return seeded_rows(ROWS)


@pytest.fixture
def project(tmp_path: Path, rows: pa.Table) -> Path:
    """The credit-scoring example with the rows as a Parquet file and as a Delta table, each a server."""
    from deltalake import write_deltalake

    root = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
    (root / "data").mkdir(exist_ok=True)  # the example commits its .dvc files there; ours sit beside them
    pq.write_table(rows, root / "data" / "applications.parquet")
    delta = root / "data" / "applications-delta"
    # An earlier version of other rows, then the seeded rows over it: the log says only the second counts.
    write_deltalake(str(delta), seeded_rows(5_000, (), seed=9), mode="overwrite")
    write_deltalake(str(delta), rows, mode="overwrite")
    path = root / "contracts" / "credit-applications.odcs.yaml"
    yaml = YAML()
    contract = yaml.load(path.read_text("utf-8"))
    contract["servers"] += [
        {"server": "lake-spark", "type": "local", "path": "data/applications.parquet", "format": "parquet",
         "customProperties": [{"property": "engine", "value": "spark"}]},
        {"server": "lake-delta", "type": "local", "path": "data/applications-delta", "format": "delta"},
    ]  # fmt: skip
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    return root


@pytest.fixture
def traffic(project: Path) -> Path:
    """Production traffic whose incomes moved up by half, as a Delta table the contract's server names."""
    from deltalake import write_deltalake

    table = seeded_rows(6_000, ("UPDATE t SET annual_income = annual_income * 1.5",), seed=2)
    pq.write_table(table, project / "data" / "traffic.parquet")
    write_deltalake(str(project / "data" / "traffic-delta"), table)
    add_servers(
        project / "contracts" / "credit-applications.odcs.yaml",
        {"server": "traffic-delta", "type": "local", "path": "data/traffic-delta", "format": "delta"},
    )
    return project / "data" / "traffic.parquet"


def data_gate(project: Path, report: Path, *source: str) -> tuple[int, dict[str, Any]]:
    return run_gate(["data", str(project), "--contract", "credit-applications", *source, "--now", NOW], report)


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What a user acts on: every check; the SQL text of a rule differs by engine only in quoting."""
    return [{k: v for k, v in c.items() if k != "details" or "query" not in v} for c in report["checks"]]


def test_parquet_and_delta_through_spark_give_the_findings_of_duckdb(spark: Any, project: Path, tmp_path: Path) -> None:
    parquet_file = str(project / "data" / "applications.parquet")
    local_code, local = data_gate(project, tmp_path / "local.json", "--data", parquet_file)
    parquet_code, parquet = data_gate(project, tmp_path / "parquet.json", "--server", "lake-spark")
    delta_code, delta = data_gate(project, tmp_path / "delta.json", "--server", "lake-delta")
    assert local_code == parquet_code == delta_code == 1
    assert findings(parquet) == findings(local)
    assert findings(delta) == findings(local)
    assert parquet["inputs"][0]["rows"] == delta["inputs"][0]["rows"] == ROWS
    assert parquet["inputs"][0]["format"] == delta["inputs"][0]["format"] == "table"
    # Spark read the file DuckDB read: the report names the same bytes.
    assert parquet["inputs"][0]["digest"] == local["inputs"][0]["digest"]
    assert len(delta["inputs"][0]["files"]) == 1  # the current version's file, not the one it replaced
    failed = {c["id"]: c for c in delta["checks"] if c["status"] == "fail"}
    assert set(failed) == {"applications.quality[0]", *BREAKAGE_FAILS}  # and rowCount > 50000: 12,000 rows here
    assert failed["gender.quality[0]"]["message"] == "invalidValues: 7 of 12,000 rows, e.g. 'robot'"
    assert failed["applications.quality[2]"]["details"]["engine"] == "spark"


def test_drift_through_spark_equals_drift_from_files(
    spark: Any, project: Path, traffic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference and traffic as Delta tables read through Spark: the drift of the same rows as files. The traffic's
    numeric columns (judged by PSI) are counted into the reference's bins in Spark: no value of them comes back."""
    monkeypatch.chdir(tmp_path)  # the drift gate writes drift-summary.md to the working directory, not the checkout
    seen = _recorded(monkeypatch)
    base = ["drift", str(project), "--model", "credit-default"]
    reference = project / "data" / "applications.parquet"
    files_code, files = run_gate([*base, "--reference", str(reference), "--current", str(traffic)], tmp_path / "f.json")
    spark_code, through_spark = run_gate(
        [*base, "--reference-server", "lake-delta", "--server", "traffic-delta"], tmp_path / "s.json"
    )
    assert files_code == spark_code == 1
    assert through_spark["checks"] == files["checks"]
    categorical = [f for f in through_spark["features"] if f["kind"] == "categorical"]
    assert categorical
    assert categorical == [f for f in files["features"] if f["kind"] == "categorical"]
    numeric = [f["column"] for f in through_spark["features"] if f["kind"] == "numeric"]
    assert [i["pushdown"] for i in through_spark["inputs"]] == [
        f"category counts pushed down; values pulled: {', '.join(numeric)}",
        f"category counts pushed down; bins counted: {', '.join(numeric)}",
    ]
    # Every binned statistic equal to the last digit; what needs the traffic's values is not computed.
    values_only = ("ks", "ksPValue", "wasserstein", "current")
    for mine, theirs in zip(through_spark["features"], files["features"], strict=True):
        assert {k: v for k, v in mine.items() if k not in values_only} == {
            k: v for k, v in theirs.items() if k not in values_only
        }
    assert check_of(through_spark, "drift.annual_income")["status"] == "fail"
    assert [i["rows"] for i in through_spark["inputs"]] == [ROWS, 6_000]
    # The traffic sent aggregates only: one row per bin query, a few per category count, and no pull.
    assert [display for display, _ in seen["pulls"] if "traffic-delta" in display] == []
    traffic_rows = [(sql, n) for display, sql, n in seen["statements"] if "traffic-delta" in display]
    assert [n for sql, n in traffic_rows if "CASE WHEN" in sql] == [1] * len(numeric)
    assert max(n for _, n in traffic_rows) <= 10


def test_values_on_a_bin_edge_are_binned_in_spark_as_in_duckdb(
    spark: Any, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference's bin edges themselves as traffic (tests/test_gates_pushdown_bins.py's rows), counted by
    Spark SQL: each lands in the bin closed on its right, as numpy.searchsorted puts it locally."""
    from test_gates_pushdown_bins import NUMERIC, assert_on_edges, edge_rows, same_but_values

    monkeypatch.chdir(tmp_path)
    reference = project / "data" / "applications.parquet"
    edges = project / "data" / "edges.parquet"
    pq.write_table(edge_rows(pq.read_table(reference)), edges)
    add_servers(
        project / "contracts" / "credit-applications.odcs.yaml",
        {"server": "edges-spark", "type": "local", "path": "data/edges.parquet", "format": "parquet",
         "customProperties": [{"property": "engine", "value": "spark"}]},
    )  # fmt: skip
    seen = _recorded(monkeypatch)
    base = ["drift", str(project), "--model", "credit-default", "--reference", str(reference)]
    local_code, local = run_gate([*base, "--current", str(edges)], tmp_path / "local.json")
    spark_code, through_spark = run_gate([*base, "--server", "edges-spark"], tmp_path / "spark.json")
    assert spark_code == local_code
    same_but_values(through_spark, local, NUMERIC)
    assert_on_edges(through_spark)
    assert seen["pulls"] == []
    assert [n for _, sql, n in seen["statements"] if "CASE WHEN" in sql] == [1] * len(NUMERIC)


def _recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Every query a Spark source ran (its display, the SQL, the rows returned) and every pull of rows."""
    from compiler.gates.io.spark_engine import SparkEngine

    seen: dict[str, list[Any]] = {"statements": [], "pulls": []}
    execute, batches = SparkEngine.execute, SparkEngine.batches

    def counting(self: SparkEngine, sql: str, *args: Any, **kwargs: Any) -> Any:
        rows = execute(self, sql, *args, **kwargs)
        seen["statements"].append((self.display, sql, len(rows.fetchall())))
        return rows

    def pulling(self: SparkEngine, sql: str) -> Any:
        seen["pulls"].append((self.display, sql))
        return batches(self, sql)

    monkeypatch.setattr(SparkEngine, "execute", counting)
    monkeypatch.setattr(SparkEngine, "batches", pulling)
    return seen


def test_eval_reads_predictions_through_spark(spark: Any, project: Path, tmp_path: Path) -> None:
    """The eval gate reads the prediction columns through Spark from a Delta table, and judges them alike."""
    from deltalake import write_deltalake

    local = synthetic.write(synthetic.predictions(8_000, seed=3, bias=0.8), tmp_path / "predictions.parquet")
    write_deltalake(str(project / "data" / "predictions-delta"), pq.read_table(local))
    add_servers(
        project / "contracts" / "credit-holdout.odcs.yaml",
        {"server": "predictions-delta", "type": "local", "path": "data/predictions-delta", "format": "delta"},
    )
    base = ["eval", str(project), "--model", "credit-default"]
    files_code, files = run_gate([*base, "--predictions", str(local)], tmp_path / "f.json")
    spark_code, through_spark = run_gate([*base, "--server", "predictions-delta"], tmp_path / "s.json")
    assert files_code == spark_code == 1  # the bias against one group fails a fairness bound
    assert through_spark["checks"] == files["checks"]
    assert through_spark["inputs"][0]["rows"] == 8_000


def test_eval_counts_in_spark_on_parquet_and_delta_and_finds_what_duckdb_finds(
    spark: Any, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suite judged by counts: Spark groups the rows and sends the counts; every value is DuckDB's, each digit."""
    from deltalake import write_deltalake

    from compiler.gates.io import spark_engine

    local = synthetic.write(synthetic.predictions(8_000, seed=3, bias=0.8), project / "data" / "predictions.parquet")
    write_deltalake(str(project / "data" / "predictions-delta"), pq.read_table(local))
    add_servers(
        project / "contracts" / "credit-holdout.odcs.yaml",
        {"server": "predictions-spark", "type": "local", "path": "data/predictions.parquet", "format": "parquet",
         "customProperties": [{"property": "engine", "value": "spark"}]},
        {"server": "predictions-delta", "type": "local", "path": "data/predictions-delta", "format": "delta"},
    )  # fmt: skip
    counted_suite(project)
    returned: list[int] = []
    pulled: list[str] = []
    close, batches = spark_engine.SparkEngine.close, spark_engine.SparkEngine.batches

    def counting(self: spark_engine.SparkEngine) -> None:
        returned.append(self.bytes_received)
        close(self)

    def pulling(self: spark_engine.SparkEngine, sql: str) -> Any:
        pulled.append(sql)
        return batches(self, sql)

    monkeypatch.setattr(spark_engine.SparkEngine, "close", counting)
    monkeypatch.setattr(spark_engine.SparkEngine, "batches", pulling)
    base = ["eval", str(project), "--model", "credit-default"]
    files_code, files = run_gate([*base, "--predictions", str(local)], tmp_path / "f.json")
    for server in ("predictions-spark", "predictions-delta"):
        code, through_spark = run_gate([*base, "--server", server], tmp_path / f"{server}.json")
        assert files_code == code == 1  # the bias against one group fails a fairness bound
        assert {k: v for k, v in through_spark.items() if k not in ("headline", "inputs")} == {
            k: v for k, v in files.items() if k not in ("headline", "inputs")
        }
        assert through_spark["inputs"][0]["pushdown"] == "counts pushed down"
    assert pulled == []
    # What Spark sent: the distinct labels and groups, and one row per combination of them present with its
    # count (at most 2 x 2 x 2 x 6 x 4 x 5 = 960 rows of short strings): under a tenth of the rows as Arrow.
    assert len(returned) == 2
    assert max(returned) < 40_000
    assert max(returned) * 10 < pq.read_table(local).nbytes


def test_spark_runs_only_queries_cancels_past_the_timeout_and_never_quotes_data(
    spark: Any, project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from compiler.gates.errors import UnusableInput
    from compiler.gates.io.spark_engine import ParquetFiles, SparkEngine

    engine = SparkEngine("server `lake-spark` (local)", ParquetFiles([str(project / "data" / "applications.parquet")]))
    relation = f"{engine.schema}.{engine.view}"
    try:
        assert engine.execute(f'SELECT count(*) FROM "{engine.schema}"."{engine.view}"').fetchall() == [(ROWS,)]
        for statement in (f"DROP VIEW {relation}", f"SELECT 1; DROP VIEW {relation}", "INSERT INTO t VALUES (1)"):
            with pytest.raises(UnusableInput) as refused:
                engine.read_only_scalar(statement, 60_000)
            assert refused.value.code == "CH786"
        with pytest.raises(UnusableInput) as slow:
            engine.read_only_scalar("SELECT count(*) FROM range(100000) a CROSS JOIN range(100000) b", 300)
        assert slow.value.code == "CH787"
        assert slow.value.message == "server `lake-spark` (local): the query took longer than 300 ms and was cancelled"
        # ANSI casts quote the value they choke on: the report says which error, never the national id.
        with pytest.raises(UnusableInput) as cast:
            engine.read_only_scalar(f"SELECT sum(CAST(national_id AS INT)) FROM {relation}", 60_000)
        assert cast.value.code == "CH751"
        assert "NID" not in str(cast.value)
        assert cast.value.message.startswith("server `lake-spark` (local): NumberFormatException")
        # An unknown column names only the query's words, so its message is kept.
        with pytest.raises(UnusableInput) as unknown:
            engine.read_only_scalar(f"SELECT max(no_such_column) FROM {relation}", 60_000)
        assert unknown.value.code is None
        assert "SQLSTATE 42703" in unknown.value.message
        assert "no_such_column" in unknown.value.message
    finally:
        engine.close()
    assert not spark.catalog.tableExists(f"global_temp.{engine.view}")
    # Nor do Spark's logs: what the job prints is read by whoever reads the workflow run.
    printed = capfd.readouterr()
    assert "NID0" not in printed.out + printed.err


def test_a_delta_table_with_deletion_vectors_is_refused_without_deltas_reader(tmp_path: Path) -> None:
    """Its log's files still hold the deleted rows: read as Parquet they would be counted, so it is refused."""
    from deltalake import write_deltalake

    from compiler.gates.errors import UnusableInput
    from compiler.gates.io.spark_engine import DeltaTable

    write_deltalake(str(tmp_path / "t"), pa.table({"a": [1, 2]}), configuration={"delta.enableDeletionVectors": "true"})
    with pytest.raises(UnusableInput) as refused:
        DeltaTable(str(tmp_path / "t"), "server `lake` (local) t").snapshot()
    assert refused.value.code == "CH785"
    assert refused.value.message == (
        "server `lake` (local) t: the Delta table uses deletionVectors, which only Delta's own reader honours"
    )
