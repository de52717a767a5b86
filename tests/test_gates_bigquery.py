"""BigQuery: the data gate's one aggregate query through the real google-cloud-bigquery client.

Offline, the client talks HTTP to a local stand-in of BigQuery's REST API (tests/bigquery_standin.py): the
SQL it receives is the reviewed golden, the dry run comes first, the job carries the timeout, the byte cap and
Charter's labels, the row the driver returns is DuckDB's on the same rows, and the whole data gate through
`--server` gives the findings of the local file (the stand-in runs BigQuery's SQL on DuckDB, so this proves
the driver and the SQL, not BigQuery's engine). Application Default
Credentials are replaced by anonymous ones (there is no Google account here). The project check refuses a
spec-named project before anything is contacted. The test against BigQuery itself needs a project and
credentials, and is skipped here with that reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
import test_pushdown_dialects as pushdown
from bigquery_standin import BigQuery, bigquery

from compiler.core.odcs import Server
from compiler.gates.data import synthetic
from compiler.gates.errors import UnusableInput
from compiler.gates.io.bigquery_engine import BigQueryDatabase, duckdb_type

# The data gate's aggregate query on the credit-scoring contract: test_pushdown_dialects' fixture, shared.
aggregate_query = pushdown.aggregate_sql
GOLDENS = pushdown.GOLDENS

pytest.importorskip("google.cloud.bigquery", reason="google-cloud-bigquery is in the bigquery extra")

SERVER = {"server": "warehouse", "type": "bigquery", "project": "charter-lending", "dataset": "lending"}
DISPLAY = "server `warehouse` (bigquery)"


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[BigQuery]:
    import google.auth
    from google.auth.credentials import AnonymousCredentials

    con = duckdb.connect()
    con.execute("CREATE SCHEMA lending")
    con.execute(f"CREATE TABLE lending.applications AS {synthetic.credit_applications(500)}")
    with bigquery(con) as server:
        monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", server.url)
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "charter-lending")
        monkeypatch.setattr(google.auth, "default", lambda scopes=None: (AnonymousCredentials(), None))
        yield server
    con.close()


def test_the_driver_sends_the_golden_query_after_a_dry_run_and_returns_the_aggregates(
    standin: BigQuery,
    aggregate_query: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHARTER_GATE_STATEMENT_TIMEOUT_MS", "120000")
    monkeypatch.setenv("CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED", "10000000")
    warehouse = BigQueryDatabase(Server(0, SERVER), DISPLAY)
    row = warehouse.execute(aggregate_query).fetchone()
    warehouse.close()

    golden = (GOLDENS / "bigquery.sql").read_text("utf-8")
    (dry_path, dry), (query_path, query) = standin.requests
    assert dry_path == "/bigquery/v2/projects/charter-lending/jobs"
    assert dry["configuration"]["dryRun"] is True
    assert dry["configuration"]["query"]["query"] + "\n" == golden
    assert query_path == "/bigquery/v2/projects/charter-lending/queries"
    assert query["query"] + "\n" == golden
    assert query["useLegacySql"] is False
    assert query["jobTimeoutMs"] == "120000"
    assert query["maximumBytesBilled"] == "10000000"
    assert query["labels"] == {"charter": "gate", "charter-gate": "data"}
    expected = standin.con.execute(aggregate_query).fetchone()
    assert row is not None
    assert expected is not None
    assert row == expected
    assert warehouse.bytes_received > 0


def test_a_spec_named_project_is_not_contacted(standin: BigQuery, monkeypatch: pytest.MonkeyPatch) -> None:
    other = {**SERVER, "project": "attacker-project"}
    with pytest.raises(UnusableInput) as refused:
        BigQueryDatabase(Server(0, other), DISPLAY).execute("SELECT 1")
    assert refused.value.code == "CH789"
    assert refused.value.message == (
        "server `warehouse` (bigquery): project `attacker-project` is not the project GOOGLE_CLOUD_PROJECT "
        "names (`charter-lending`); not contacted"
    )
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    with pytest.raises(UnusableInput) as unset:
        BigQueryDatabase(Server(0, SERVER), DISPLAY).execute("SELECT 1")
    assert unset.value.code == "CH789"
    assert standin.requests == []


def test_anything_but_one_select_is_refused_before_bigquery_sees_it(standin: BigQuery) -> None:
    warehouse = BigQueryDatabase(Server(0, SERVER), DISPLAY)
    for statement in ("DELETE FROM lending.applications WHERE TRUE", "SELECT 1; DROP TABLE lending.applications"):
        with pytest.raises(UnusableInput) as refused:
            warehouse.execute(statement, native=True)
        assert refused.value.code == "CH786"
    assert standin.requests == []


def test_bigquerys_own_reading_of_the_statement_is_checked_by_the_dry_run(standin: BigQuery) -> None:
    standin.statement_type = "SCRIPT"
    with pytest.raises(UnusableInput) as refused:
        BigQueryDatabase(Server(0, SERVER), DISPLAY).execute("SELECT 1", native=True)
    assert refused.value.code == "CH786"
    assert refused.value.message == (
        "server `warehouse` (bigquery): BigQuery reads the statement as SCRIPT, not one SELECT; not run"
    )
    assert [path for path, _ in standin.requests] == ["/bigquery/v2/projects/charter-lending/jobs"]


def test_a_query_over_the_byte_cap_is_not_run(standin: BigQuery, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED", "999")
    with pytest.raises(UnusableInput) as refused:
        BigQueryDatabase(Server(0, SERVER), DISPLAY).execute("SELECT 1", native=True)
    assert refused.value.code == "CH790"
    assert refused.value.message == (
        "server `warehouse` (bigquery): the query would process 1000 bytes, over "
        "CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED=999; not run"
    )
    assert [path for path, _ in standin.requests] == ["/bigquery/v2/projects/charter-lending/jobs"]


@pytest.mark.parametrize(
    ("kind", "duckdb"),
    [("STRING", "VARCHAR"), ("INT64", "BIGINT"), ("FLOAT64", "DOUBLE"), ("NUMERIC(10, 2)", "DECIMAL(10,2)"),
     ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE"), ("DATETIME", "TIMESTAMP"), ("BOOL", "BOOLEAN")],
)  # fmt: skip
def test_bigquery_types_read_as_the_duckdb_types_the_gates_compare(kind: str, duckdb: str) -> None:
    assert duckdb_type(kind) == duckdb


@pytest.mark.skipif(
    not os.environ.get("CHARTER_TEST_BIGQUERY_PROJECT"),
    reason="not runnable here: needs a BigQuery project and credentials (CHARTER_TEST_BIGQUERY_PROJECT, "
    "CHARTER_TEST_BIGQUERY_DATASET with the credit applications table, and Application Default Credentials)",
)
def test_bigquery_itself_runs_the_golden_query(aggregate_query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project = os.environ["CHARTER_TEST_BIGQUERY_PROJECT"]
    server: dict[str, Any] = {**SERVER, "project": project, "dataset": os.environ["CHARTER_TEST_BIGQUERY_DATASET"]}
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project)
    warehouse = BigQueryDatabase(Server(0, server), DISPLAY)
    sql = aggregate_query.replace('"lending"', f'"{server["dataset"]}"')
    row = warehouse.execute(sql).fetchone()
    warehouse.close()
    assert row is not None
    assert len(row) == len(sqlglot.parse_one(aggregate_query, read="duckdb").expressions)


def test_the_data_gate_on_bigquery_gives_the_findings_of_the_local_file(standin: BigQuery, tmp_path: Path) -> None:
    from ruamel.yaml import YAML
    from test_gates_support import CREDIT, run_gate

    root = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
    standin.con.execute(f"COPY lending.applications TO '{root / 'applications.parquet'}' (FORMAT parquet)")
    standin.con.execute("ALTER TABLE lending.applications RENAME TO credit_applications_v2")
    path = root / "contracts" / "credit-applications.odcs.yaml"
    yaml = YAML()
    contract = yaml.load(path.read_text("utf-8"))
    contract["servers"].append({**SERVER, "server": "bigquery"})
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    argv = ["data", str(root), "--contract", "credit-applications", "--now", "2024-07-01T06:00:00Z"]
    local_code, local = run_gate([*argv, "--data", str(root / "applications.parquet")], tmp_path / "local.json")
    bq_code, bq = run_gate([*argv, "--server", "bigquery"], tmp_path / "bq.json")
    assert local_code == bq_code == 1
    assert findings(bq) == findings(local)
    assert bq["inputs"][0]["digest"].startswith("sha256:")
    queries = [body["query"] for path, body in standin.requests if path.endswith("/queries")]
    assert any(
        query + "\n"
        == (GOLDENS / "bigquery.sql")
        .read_text("utf-8")
        .replace("`lending`.`applications`", "`lending`.`credit_applications_v2`")
        for query in queries
    )


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check; BigQuery has one integer type (INT64), so a type check's stored type is left out."""
    return [
        {k: v for k, v in c.items() if (k != "details" or "query" not in v) and (k != "value" or c["code"] != "CH701")}
        for c in report["checks"]
    ]


def test_an_error_that_may_quote_the_data_is_shown_by_kind_only() -> None:
    from google.api_core import exceptions

    from compiler.gates.io.engine_errors import engine_error

    bad_value = exceptions.BadRequest(
        "Bad int64 value: NID000000000001", errors=[{"reason": "invalidQuery", "message": "Bad int64 value"}]
    )
    shown = engine_error(DISPLAY, bad_value)
    assert shown.code == "CH751"
    assert shown.message == (
        "server `warehouse` (bigquery): BadRequest 400 invalidQuery; its message is withheld, since it may quote "
        "the data"
    )
    denied = exceptions.Forbidden(
        "Access Denied: Table charter-lending:lending.applications", errors=[{"reason": "accessDenied"}]
    )
    assert engine_error(DISPLAY, denied).message == (
        "server `warehouse` (bigquery): Forbidden 403 accessDenied: Access Denied: Table "
        "charter-lending:lending.applications"
    )


def test_the_eval_and_drift_gates_pull_columns_a_page_at_a_time(standin: BigQuery) -> None:
    from compiler.gates.io import database as db
    from compiler.gates.io.servers import pull

    warehouse = BigQueryDatabase(Server(0, SERVER), DISPLAY)
    types = {"application_id": "VARCHAR", "loan_amount": "DOUBLE", "application_date": "DATE"}
    con = duckdb.connect()
    rows = pull(warehouse, "lending", "applications", types, con=con, into="pulled")
    warehouse.close()
    assert rows == 500
    summary = "SELECT count(DISTINCT application_id), sum(loan_amount), max(application_date) FROM {}"
    assert (
        con.execute(summary.format("pulled")).fetchone()
        == standin.con.execute(summary.format("lending.applications")).fetchone()
    )
    query = next(body["query"] for path, body in standin.requests if path.endswith("/queries"))
    assert query == "SELECT `application_id`, `loan_amount`, `application_date` FROM `lending`.`applications`"
    assert int(next(b for p, b in standin.requests if p.endswith("/queries"))["maxResults"]) == db.FETCH_BATCH_ROWS
