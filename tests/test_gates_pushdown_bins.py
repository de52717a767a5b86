"""The drift gate counts a numeric column's bins on the PostgreSQL server that holds the current window.

PSI, chi-squared, Jensen-Shannon and Hellinger read a numeric column only through its counts in the
reference's quantile bins (compiler/gates/drift/histogram.py): the server sends one row of cumulative counts,
never a value, and the statistics equal the local run's to the last digit. KS and Wasserstein still pull the
column's values. The query, as each warehouse receives it, is a reviewed golden
(tests/goldens/pushdown/drift-bins-<dialect>.sql); `CHARTER_UPDATE_GOLDENS=1` rewrites them.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from live_servers import Postgres
from ruamel.yaml import YAML
from test_gates_pushdown_eval import DIALECT_NAMES, GOLDENS, Recorded, recorded
from test_gates_servers import load_table, local_file, pg, project, rows, s3, traffic
from test_gates_support import run_gate

from compiler.gates.drift import stats
from compiler.gates.io.database import DIALECTS, render

__all__ = ["local_file", "pg", "project", "recorded", "rows", "s3", "traffic"]

NUMERIC = ("annual_income", "debt_to_income", "delinquencies_24m")
# What a binned column's push-down does not compute: the statistics that need the current window's values.
FROM_VALUES = ("ks", "ksPValue", "wasserstein", "current")


@pytest.fixture(scope="module")
def scoring_db(pg: Postgres, traffic: Path) -> str:
    """The production traffic as a PostgreSQL table, `scoring.credit_applications_v2`."""
    return _database(pg, "scoring", pq.read_table(traffic))


def _database(pg: Postgres, name: str, table: pa.Table) -> str:
    """A database `name` of its own holding the table the contract names, `lending.credit_applications_v2`."""
    con: Any = pg.connect()
    con.execute(f"CREATE DATABASE {name}")
    con.close()
    other = dataclasses.replace(pg, database=name)
    con = other.connect()
    con.execute("CREATE SCHEMA lending")
    con.close()
    load_table(other, "lending.credit_applications_v2", table)
    return name


def _serve(project: Path, pg: Postgres, name: str, database: str, methods: dict[str, str]) -> None:
    """A PostgreSQL server `name` on the contract, reading `database`, and each numeric feature's method."""
    yaml = YAML()
    contract_path = project / "contracts" / "credit-applications.odcs.yaml"
    contract = yaml.load(contract_path.read_text("utf-8"))
    contract["servers"].append(
        {
            "server": name,
            "type": "postgres",
            "host": pg.host,
            "port": pg.port,
            "database": database,
            "schema": "lending",
        }
    )
    with contract_path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    model_path = project / "models" / "credit-default.yaml"
    model = yaml.load(model_path.read_text("utf-8"))
    model["spec"]["monitoring"]["drift"]["perFeature"] = [
        {"feature": feature, "method": method, "threshold": 0.2 if method != "chi2" else 0.05}
        for feature, method in methods.items()
    ]
    with model_path.open("w", encoding="utf-8") as out:
        yaml.dump(model, out)


def _drift(project: Path, tmp_path: Path, name: str, *current: str) -> tuple[int, dict[str, Any]]:
    base = ["drift", str(project), "--model", "credit-default"]
    return run_gate([*base, *current], tmp_path / f"{name}.json")


def _aggregates_only(recorded: Recorded) -> list[str]:
    """The bin queries the server ran; every statement returned a handful of rows, and no rows were pulled."""
    assert recorded.rows_pulled() == []
    # The table's column list (the catalogue's rows) aside, every statement returns aggregates: a few rows.
    assert max(n for sql, n in recorded.statements if "information_schema" not in sql) <= 10
    bins = [sql for sql, n in recorded.statements if "CASE WHEN" in sql]
    assert all(n == 1 for sql, n in recorded.statements if sql in bins)
    return bins


def same_but_values(pushed: dict[str, Any], local: dict[str, Any], binned: tuple[str, ...]) -> None:
    """Every finding and value equal, exactly; a binned column lacks only what needs the current values."""
    assert pushed["checks"] == local["checks"]
    assert [i["rows"] for i in pushed["inputs"]] == [i["rows"] for i in local["inputs"]]
    for mine, theirs in zip(pushed["features"], local["features"], strict=True):
        if mine["column"] not in binned:
            assert mine == theirs
            continue
        assert {k: v for k, v in mine.items() if k not in FROM_VALUES} == {
            k: v for k, v in theirs.items() if k not in FROM_VALUES
        }
        assert (mine["ks"], mine["ksPValue"], mine["wasserstein"]) == (None, None, None)
        assert mine["current"] == {k: theirs["current"][k] for k in ("rows", "nulls")}


@pytest.mark.parametrize(
    ("methods", "binned"),
    [
        ({"annual_income": "psi", "debt_to_income": "jensenshannon", "delinquencies_24m": "hellinger"}, NUMERIC),
        ({"annual_income": "ks", "debt_to_income": "chi2", "delinquencies_24m": "psi"}, NUMERIC[1:]),
    ],
    ids=["binned", "ks-pulls-its-column"],
)
def test_numeric_bins_are_counted_on_the_server_and_every_value_equals_the_local_run(
    project: Path,
    pg: Postgres,
    scoring_db: str,
    local_file: Path,
    traffic: Path,
    recorded: Recorded,
    tmp_path: Path,
    methods: dict[str, str],
    binned: tuple[str, ...],
) -> None:
    _serve(project, pg, "scoring-db", scoring_db, methods)
    local_code, local = _drift(project, tmp_path, "local", "--reference", str(local_file), "--current", str(traffic))
    recorded.statements.clear()
    code, pushed = _drift(project, tmp_path, "pushed", "--reference", str(local_file), "--server", "scoring-db")
    assert code == local_code == 1
    assert pushed["checks"][0]["id"] == "drift.annual_income"
    assert pushed["checks"][0]["status"] == "fail"  # incomes moved up by half
    same_but_values(pushed, local, binned)
    pulled = [c for c in NUMERIC if c not in binned]
    assert pushed["inputs"][1]["pushdown"] == (
        f"category counts pushed down; bins counted: {', '.join(binned)}"
        + (f"; values pulled: {', '.join(pulled)}" if pulled else "")
    )
    if pulled:  # KS needs the values: only that column's, only from the current window
        assert recorded.rows_pulled() == ['SELECT "annual_income" FROM "lending"."credit_applications_v2"']
        recorded.pulls.clear()
    assert len(_aggregates_only(recorded)) == len(binned)


@pytest.fixture(scope="module")
def on_edges(pg: Postgres, local_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A current window whose values sit exactly on the reference's bin edges (each twice), one below the
    first, one above the last, and nulls; the same rows as a PostgreSQL table and as a Parquet file."""
    table = edge_rows(pq.read_table(local_file))
    name = _database(pg, "edges", table)
    path = tmp_path_factory.mktemp("edges") / "edges.parquet"
    pq.write_table(table, path)
    return name, path


def edge_rows(reference: pa.Table) -> pa.Table:
    """Each numeric feature's values: the reference's bin edges (each twice), one below the first edge, one
    above the last, then nulls; and a label."""
    columns: dict[str, list[Any]] = {}
    for name in NUMERIC:
        values = reference.column(name).drop_null().to_numpy().astype("float64")
        edges = stats.quantile_edges(values).tolist()
        column = [*edges, *edges, edges[0] - 1, edges[-1] + 1, None, None]
        columns[name] = column + [None] * (2 * 10 + 4 - len(column))
    return pa.table(
        {name: pa.array(columns[name], type=reference.schema.field(name).type) for name in NUMERIC}
        | {"defaulted": pa.array([i % 3 == 0 for i in range(len(columns[NUMERIC[0]]))])}
    )


def assert_on_edges(report: dict[str, Any]) -> None:
    """The first bin (≤ e1) holds e1 twice and the value below it; (e(i-1), e(i)] holds e(i) twice; above the
    last edge only the value above it; then the missing values."""
    income = next(f for f in report["features"] if f["column"] == "annual_income")
    edges = len(income["bins"]) - 2  # the bins: one per edge, one above the last, and the missing values
    rows = income["sizes"]["rows"][1]
    assert [round(b["current"] * rows) for b in income["bins"]] == [3, *[2] * (edges - 1), 1, rows - 2 * edges - 2]
    assert income["bins"][-1]["bin"] == "(missing)"


def test_values_exactly_on_a_bin_edge_fall_in_the_bin_closed_on_their_right(
    project: Path,
    pg: Postgres,
    on_edges: tuple[str, Path],
    local_file: Path,
    recorded: Recorded,
    tmp_path: Path,
) -> None:
    database, path = on_edges
    _serve(project, pg, "edges-db", database, dict.fromkeys(NUMERIC, "psi"))
    local_code, local = _drift(project, tmp_path, "local", "--reference", str(local_file), "--current", str(path))
    recorded.statements.clear()
    code, pushed = _drift(project, tmp_path, "pushed", "--reference", str(local_file), "--server", "edges-db")
    assert code == local_code
    same_but_values(pushed, local, NUMERIC)
    assert len(_aggregates_only(recorded)) == len(NUMERIC)
    assert_on_edges(pushed)


def test_the_bin_query_in_each_dialect_is_the_reviewed_one(
    project: Path, pg: Postgres, scoring_db: str, local_file: Path, recorded: Recorded, tmp_path: Path
) -> None:
    _serve(project, pg, "scoring-db", scoring_db, {"annual_income": "psi"})
    _drift(project, tmp_path, "pushed", "--reference", str(local_file), "--server", "scoring-db")
    sql = [s for s, _ in recorded.statements if "CASE WHEN" in s and "annual_income" in s]
    assert len(sql) == 1
    for dialect in DIALECT_NAMES:
        rendered = (
            render(sql[0], DIALECTS[dialect])
            if dialect in DIALECTS
            else sqlglot.transpile(sql[0], "duckdb", dialect)[0]
        )
        golden = GOLDENS / f"drift-bins-{dialect}.sql"
        if os.environ.get("CHARTER_UPDATE_GOLDENS"):
            golden.write_text(rendered + "\n", "utf-8")
        assert rendered + "\n" == golden.read_text("utf-8")
        parsed = sqlglot.parse_one(rendered, read=dialect)
        assert isinstance(parsed, sqlglot.exp.Select)
        # Only aggregates: every output is a count or a sum, nothing groups, so exactly one row comes back.
        assert parsed.args.get("group") is None
        for output in parsed.expressions:
            assert output.unalias().find(sqlglot.exp.Count, sqlglot.exp.Sum) is not None
