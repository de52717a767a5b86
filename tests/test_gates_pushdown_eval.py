"""The eval and drift gates on a PostgreSQL server that computes: counts come back, not rows.

The same seeded-defect predictions as a local Parquet file and as a PostgreSQL table give the same findings and
the same values, every digit: the counts the server sends are the integers the local run counts, and the metrics
come from them through the same code (compiler/gates/eval/aggregates.py). The queries, as each warehouse receives
them, are reviewed goldens (tests/goldens/pushdown/eval-<dialect>.sql, drift-<dialect>.sql);
`CHARTER_UPDATE_GOLDENS=1` rewrites them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlglot
from live_servers import Postgres
from test_gates_servers import ROWS, load_table, local_file, pg, project, rows, s3, traffic
from test_gates_support import counted_suite, run_gate

from compiler.gates.data import synthetic
from compiler.gates.io import database
from compiler.gates.io.database import DIALECTS, render

__all__ = ["local_file", "pg", "project", "rows", "s3", "traffic"]

GOLDENS = Path(__file__).resolve().parent / "goldens" / "pushdown"
DIALECT_NAMES = ("postgres", "redshift", "snowflake", "bigquery", "databricks", "spark")
PREDICTIONS = 20_000


class Recorded:
    """Every statement the gate sent PostgreSQL (in DuckDB's dialect), the rows each returned, and the pulls."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, int]] = []
        self.pulls: list[str] = []

    def rows_pulled(self) -> list[str]:
        """The pulls of rows: the input's digest reads one SHA-256 per row, never a value, and is left out."""
        return [sql for sql in self.pulls if "sha256(" not in sql]


def judged(report: dict[str, Any]) -> dict[str, Any]:
    """Everything a report says but where the rows were read from (headline and inputs name the source)."""
    return {k: v for k, v in report.items() if k not in ("headline", "inputs")}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    seen = Recorded()
    execute, batches = database.Database.execute, database.Database.batches

    def counting(self: database.Database, sql: str, *args: Any, **kwargs: Any) -> database.Rows:
        rows = execute(self, sql, *args, **kwargs)
        seen.statements.append((sql, len(rows.fetchall())))
        return rows

    def pulling(self: database.Database, sql: str) -> Any:
        seen.pulls.append(sql)
        return batches(self, sql)

    monkeypatch.setattr(database.Database, "execute", counting)
    monkeypatch.setattr(database.Database, "batches", pulling)
    return seen


@pytest.fixture
def predictions(project: Path, pg: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Predictions biased against one group (a fairness bound fails), as a file and as a table."""
    local = tmp_path_factory.mktemp("predictions") / "predictions.parquet"
    synthetic.write(synthetic.predictions(PREDICTIONS, seed=3, bias=0.8), local)
    con: Any = pg.connect()
    con.execute("DROP TABLE IF EXISTS lending.credit_default_predictions")
    con.close()
    load_table(pg, "lending.credit_default_predictions", pq.read_table(local))
    counted_suite(project)
    return local


def _eval(project: Path, tmp_path: Path, *source: str) -> tuple[int, dict[str, Any]]:
    return run_gate(["eval", str(project), "--model", "credit-default", *source], tmp_path / "report.json")


def test_postgres_counts_the_confusion_matrices_and_the_eval_findings_are_identical(
    project: Path, predictions: Path, recorded: Recorded, tmp_path: Path
) -> None:
    local_code, local = _eval(project, tmp_path, "--predictions", str(predictions))
    table = ["--server", "warehouse", "--table", "lending.credit_default_predictions"]
    server_code, server = _eval(project, tmp_path, *table)
    assert local_code == server_code == 1  # the bias against women fails demographic parity
    assert server["checks"] == local["checks"]
    # Every value and every group's numbers, to the last digit, intervals included; the same Markdown.
    assert judged(server) == judged(local)
    failed = [c["id"] for c in server["checks"] if c["status"] == "fail"]
    assert failed == ["fairness[1].equalized_odds_difference@gender", "fairness[2].demographic_parity_ratio@gender"]
    assert server["fairness"]["gender"]["checks"][0]["interval"]
    assert server["inputs"][0]["pushdown"] == "counts pushed down"
    assert server["inputs"][0]["rows"] == PREDICTIONS
    # No row was pulled; what came back is aggregates: the digest's per-row hashes aside, a few hundred rows.
    assert recorded.rows_pulled() == []
    grouped = [(sql, n) for sql, n in recorded.statements if "GROUP BY" in sql]
    assert len(grouped) == 1
    # Each combination of y_true, y_pred, gender, age band, marital and employment status present, with its count.
    assert 100 < grouped[0][1] <= 2 * 2 * 2 * 6 * 4 * 5
    returned = [n for sql, n in recorded.statements if "sha256" not in sql.lower()]
    assert sum(returned) < 700


def test_metrics_that_need_every_score_pull_the_rows_and_say_so(
    project: Path, predictions: Path, recorded: Recorded, tmp_path: Path
) -> None:
    suite = project / "suites" / "credit-default-eval.yaml"
    suite.write_text(suite.read_text("utf-8").replace("metric: recall\n", "metric: roc_auc\n", 1), "utf-8")
    local_code, local = _eval(project, tmp_path, "--predictions", str(predictions))
    server_code, server = _eval(project, tmp_path, "--server", "warehouse", "--table", "credit_default_predictions")
    assert local_code == server_code
    assert server["checks"] == local["checks"]
    assert server["inputs"][0]["pushdown"] == "rows pulled: roc_auc need every score (a sort, or a sum of logs)"
    assert len(recorded.rows_pulled()) == 1


def test_drift_counts_categories_on_the_server_and_pulls_only_numeric_columns(
    project: Path, local_file: Path, traffic: Path, recorded: Recorded, tmp_path: Path
) -> None:
    base = ["drift", str(project), "--model", "credit-default"]
    files_code, files = run_gate([*base, "--reference", str(local_file), "--current", str(traffic)], tmp_path / "f")
    server_code, server = run_gate(
        [*base, "--reference-server", "warehouse", "--server", "scoring-log"], tmp_path / "s"
    )
    assert files_code == server_code == 1
    assert server["checks"] == files["checks"]
    # Categories are counted: every value to the last digit. A numeric column's values are pulled, and sums of
    # floats (mean, std, Wasserstein) follow the order the rows arrive in: equal to the last digit or two.
    for mine, theirs in zip(server["features"], files["features"], strict=True):
        if mine["kind"] == "categorical":
            assert mine == theirs
        else:
            _close(mine, theirs)
    assert server["inputs"][0]["rows"] == ROWS
    numeric = [f["column"] for f in server["features"] if f["kind"] == "numeric"]
    categorical = [f["column"] for f in server["features"] if f["kind"] == "categorical"]
    assert numeric
    assert categorical
    assert server["inputs"][0]["pushdown"] == f"category counts pushed down; values pulled: {', '.join(numeric)}"
    # Only the numeric columns' values left the server; each category column came back as its counts.
    assert recorded.rows_pulled() == [
        "SELECT " + ", ".join(f'"{c}"' for c in numeric) + ' FROM "lending"."credit_applications_v2"'
    ]
    counted = [n for sql, n in recorded.statements if "GROUP BY" in sql]
    assert len(counted) == len(categorical)
    assert max(counted) <= 10


def _close(mine: Any, theirs: Any) -> None:
    """Equal, floats to 12 significant digits."""
    if isinstance(mine, dict):
        assert mine.keys() == theirs.keys()
        for key, value in mine.items():
            _close(value, theirs[key])
    elif isinstance(mine, list):
        assert len(mine) == len(theirs)
        for value, other in zip(mine, theirs, strict=True):
            _close(value, other)
    elif isinstance(mine, float):
        assert mine == pytest.approx(theirs, rel=1e-12)
    else:
        assert mine == theirs


def _queries(recorded: Recorded, marker: str) -> str:
    return "\n".join(sql for sql, _ in recorded.statements if marker in sql)


@pytest.fixture
def pushed_sql(
    project: Path, predictions: Path, local_file: Path, traffic: Path, recorded: Recorded, tmp_path: Path
) -> dict[str, str]:
    """The eval gate's grouped query and the drift gate's category counts, as the gates ran them on PostgreSQL."""
    _eval(project, tmp_path, "--server", "warehouse", "--table", "lending.credit_default_predictions")
    eval_sql = _queries(recorded, "GROUP BY")
    recorded.statements.clear()
    base = ["drift", str(project), "--model", "credit-default"]
    run_gate([*base, "--reference-server", "warehouse", "--current", str(traffic)], tmp_path / "drift.json")
    return {"eval": eval_sql, "drift": _queries(recorded, "GROUP BY")}


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_the_eval_and_drift_aggregations_in_each_dialect_are_the_reviewed_ones(
    pushed_sql: dict[str, str], dialect: str
) -> None:
    for gate, sql in pushed_sql.items():
        rendered = "\n".join(
            render(line, DIALECTS[dialect]) if dialect in DIALECTS else sqlglot.transpile(line, "duckdb", dialect)[0]
            for line in sql.splitlines()
        )
        golden = GOLDENS / f"{gate}-{dialect}.sql"
        if os.environ.get("CHARTER_UPDATE_GOLDENS"):
            golden.write_text(rendered + "\n", "utf-8")
        assert rendered + "\n" == golden.read_text("utf-8")
        for line in rendered.splitlines():
            parsed = sqlglot.parse_one(line, read=dialect)
            assert isinstance(parsed, sqlglot.exp.Select)
            # Only aggregates: every output is a group key or a count.
            assert parsed.args.get("group") is not None
            assert any(isinstance(e.unalias(), sqlglot.exp.Count) for e in parsed.expressions)


def test_counts_weighted_give_every_value_rows_give() -> None:
    """The same code on rows and on their combinations weighted by count: equal floats, not close ones."""
    import numpy as np

    from compiler.core.models.suite import Confidence
    from compiler.gates.eval import confidence, fairness, scoring

    rng = np.random.default_rng(5)
    n, groups = 50_000, 7
    y, pred = rng.integers(0, 2, n).astype(np.int8), rng.integers(0, 2, n).astype(np.int8)
    codes = rng.integers(0, groups, n).astype(np.int32)
    combos, weight = np.unique(np.stack([y, pred, codes]), axis=1, return_counts=True)
    rows, counted = scoring.Binary(y, pred, None), scoring.Binary(combos[0], combos[1], None, weight.astype(np.int64))
    names = sorted(scoring.FROM_CONFUSION)
    assert counted.grouped(combos[2], groups, names) == rows.grouped(codes, groups, names)
    labels = [f"g{i}" for i in range(groups)]
    for metric in [m for m, rates in fairness.FAIRNESS_RATES.items() if not {"mae", "rmse"} & set(rates)]:
        by_rows = fairness.fairness_value(metric, fairness.binary_groups(codes, labels, rows))
        by_counts = fairness.fairness_value(metric, fairness.binary_groups(combos[2], labels, counted))
        assert by_counts == by_rows, metric
    level = Confidence(level=0.9, resamples=200, seed=3)
    assert confidence.interval("equalized_odds_difference", counted, combos[2], labels, None, level) == (
        confidence.interval("equalized_odds_difference", rows, codes, labels, None, level)
    )
    k = 4
    true, guess = rng.integers(0, k, n), rng.integers(0, k, n)
    combos, weight = np.unique(np.stack([true, guess, codes]), axis=1, return_counts=True)
    many = scoring.Multiclass(true, guess, k)
    few = scoring.Multiclass(combos[0], combos[1], k, weight=weight.astype(np.int64))
    names = sorted(scoring.FROM_CLASS_COUNTS)
    assert few.grouped(combos[2], groups, names) == many.grouped(codes, groups, names)
    rates = fairness.multiclass_groups(combos[2], labels, few, 1), fairness.multiclass_groups(codes, labels, many, 1)
    assert rates[0].rate("selection_rate") == rates[1].rate("selection_rate")
    assert rates[0].rate("accuracy") == rates[1].rate("accuracy")


def test_a_multiclass_model_is_judged_from_the_counts_postgres_sends(
    project: Path, pg: Postgres, recorded: Recorded, tmp_path: Path
) -> None:
    """Three classes, fairness by selection of the favourable class, a slice: the local report, from counts."""
    import numpy as np
    import pyarrow as pa
    import yaml

    rng = np.random.default_rng(8)
    n, classes = 6_000, np.asarray(["high", "low", "medium"])
    truth = rng.choice(classes, n, p=[0.2, 0.5, 0.3])
    guess = np.where(rng.random(n) < 0.7, truth, rng.choice(classes, n))
    groups = {
        "gender": rng.choice(["female", "male"], n),
        "age_band": rng.choice(["18-24", "25-34", "35-44", "45-54", "55-64", "65+"], n),
        "marital_status": rng.choice(["single", "married", "divorced", "widowed"], n),
        "employment_status": rng.choice(["employed", "self_employed", "retired"], n),
    }
    table = pa.table({"y_true": truth, "y_pred": guess, **groups})
    local = tmp_path / "multiclass.parquet"
    pq.write_table(table, local)
    load_table(pg, "lending.multiclass_predictions", table)
    model_path, suite_path = project / "models" / "credit-default.yaml", project / "suites" / "credit-default-eval.yaml"
    model = yaml.safe_load(model_path.read_text("utf-8"))
    model["spec"]["task"] = "multiclass-classification"
    model_path.write_text(yaml.safe_dump(model, sort_keys=False), "utf-8")
    suite = yaml.safe_load(suite_path.read_text("utf-8"))
    suite["spec"]["positiveLabel"] = "high"
    suite["spec"]["metrics"] = [
        {"metric": "accuracy", "min": 0.75},
        {"metric": "f1_macro", "min": 0.5},
        {"metric": "balanced_accuracy", "min": 0.5},
        {"metric": "precision_macro", "min": 0.5},
        {"metric": "recall_macro", "min": 0.5},
        {"metric": "f1_weighted", "slice": "young-applicants", "min": 0.5},
    ]
    suite["spec"]["fairness"] = [f for f in suite["spec"]["fairness"] if f["metric"].startswith("demographic")]
    suite["spec"]["confidence"] = {"level": 0.9, "resamples": 200, "seed": 7}
    suite_path.write_text(yaml.safe_dump(suite, sort_keys=False), "utf-8")
    local_code, local_report = _eval(project, tmp_path, "--predictions", str(local))
    server_code, server = _eval(project, tmp_path, "--server", "warehouse", "--table", "multiclass_predictions")
    assert local_code == server_code == 1
    assert judged(server) == judged(local_report)
    # Groups drawn alike select alike; one ratio's interval reaches below 0.8 at these sizes.
    undecided = [c["id"] for c in server["checks"] if c["status"] != "pass"]
    assert undecided == ["fairness[3].demographic_parity_ratio@age_band"]
    assert server["classes"] == ["high", "low", "medium"]
    assert server["inputs"][0]["pushdown"] == "counts pushed down"
    assert recorded.rows_pulled() == []
    assert max(n for sql, n in recorded.statements if "sha256" not in sql.lower()) <= 3 * 3 * 2 * 6 * 4 * 3
