"""The data gate's one aggregate query, as each warehouse receives it: a golden file per dialect.

The gate writes its SQL once, in DuckDB's dialect, and sqlglot renders it for the server. The query recorded
here is the one the gate ran on the credit-scoring example's contract; its rendering in each dialect must
equal the reviewed golden (tests/goldens/pushdown/<dialect>.sql) and parse back in that dialect. Spark and
Snowflake also run theirs (tests/test_gates_spark.py, tests/test_gates_snowflake.py); BigQuery and
Databricks SQL have no engine here: their drivers send exactly these goldens (tests/test_gates_bigquery.py,
tests/test_gates_databricks.py), and the goldens are what a reviewer checks of the SQL itself.
`CHARTER_UPDATE_GOLDENS=1` rewrites the files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from test_gates_support import CREDIT, run_gate

from compiler.gates.data import scan, synthetic
from compiler.gates.io.database import DIALECTS, render

GOLDENS = Path(__file__).resolve().parent / "goldens" / "pushdown"
DIALECT_NAMES = ("postgres", "redshift", "snowflake", "bigquery", "databricks", "spark")


@pytest.fixture(scope="module")
def aggregate_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("pushdown")
    path = folder / "applications.parquet"
    con = duckdb.connect()
    con.execute(f"COPY ({synthetic.credit_applications(500)}) TO '{path}' (FORMAT parquet)")
    con.close()
    seen: list[str] = []
    real = scan.query

    def recording(con: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return real(con, sql, *args, **kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(scan, "query", recording)
    try:
        argv = ["data", str(CREDIT), "--contract", "credit-applications", "--data", str(path)]
        run_gate([*argv, "--now", "2024-07-01T06:00:00Z"], folder / "report.json")
    finally:
        patch.undo()
    aggregates = [sql for sql in seen if sql.startswith("SELECT count(*), ")]
    assert len(aggregates) == 1
    return aggregates[0].replace(f"read_parquet(['{path}'], union_by_name = true)", '"lending"."applications"')


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_the_aggregate_query_in_each_dialect_is_the_reviewed_one(aggregate_sql: str, dialect: str) -> None:
    rendered = (
        render(aggregate_sql, DIALECTS[dialect])
        if dialect in DIALECTS
        else sqlglot.transpile(aggregate_sql, read="duckdb", write=dialect)[0]
    )
    golden = GOLDENS / f"{dialect}.sql"
    if os.environ.get("CHARTER_UPDATE_GOLDENS"):
        golden.write_text(rendered + "\n", "utf-8")
    assert rendered + "\n" == golden.read_text("utf-8")
    parsed = sqlglot.parse_one(rendered, read=dialect)
    assert isinstance(parsed, sqlglot.exp.Select)
    # Every aggregate survives the rendering: the gate reads the one row back by position.
    assert len(parsed.expressions) == len(sqlglot.parse_one(aggregate_sql, read="duckdb").expressions)
