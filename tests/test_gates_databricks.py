"""Databricks SQL warehouses: the data gate's one aggregate query through databricks-sql-connector.

The connector speaks Thrift over HTTP to a workspace; there is no workspace here and no stand-in for its
protocol, so these tests stop at the connector's door: the arguments `databricks.sql.connect` receives (host,
warehouse, the environment's token, the session's STATEMENT_TIMEOUT), the exact SQL the driver hands the
cursor (the reviewed golden), the host check refusing a spec-named host before anything is contacted, and
the fence. The test against a real SQL warehouse is skipped here with that reason.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import sqlglot
import test_pushdown_dialects as pushdown

from compiler.core.engines import reads_with_databricks_sql, reads_with_spark
from compiler.core.odcs import Server
from compiler.gates.errors import UnusableInput
from compiler.gates.io.databricks_engine import DatabricksDatabase, duckdb_type

# The data gate's aggregate query on the credit-scoring contract: test_pushdown_dialects' fixture, shared.
aggregate_query = pushdown.aggregate_sql

pytest.importorskip("databricks.sql", reason="databricks-sql-connector is in the databricks extra")

HOST = "dbc-a1b2c3d4-e5f6.cloud.databricks.com"
SERVER: dict[str, Any] = {
    "server": "lakehouse",
    "type": "databricks",
    "host": f"https://{HOST}/",
    "catalog": "main",
    "schema": "lending",
    "customProperties": [{"property": "http_path", "value": "/sql/1.0/warehouses/0123456789abcdef"}],
}
DISPLAY = "server `lakehouse` (databricks)"


class Cursor:
    """What the driver hands a DB-API cursor, recorded; answers with one row of as many zeros as it asks."""

    def __init__(self, sent: list[str]):
        self.sent = sent
        self.rows: list[tuple[int, ...]] = []

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, text: str) -> None:
        self.sent.append(text)
        self.rows = [(0,) * len(sqlglot.parse_one(text, read="databricks").expressions)]

    def fetchmany(self, size: int) -> list[tuple[int, ...]]:
        rows, self.rows = self.rows[:size], self.rows[size:]
        return rows


class Connection:
    def __init__(self, **settings: Any):
        self.settings = settings
        self.sent: list[str] = []
        self.closed = False

    def cursor(self) -> Cursor:
        return Cursor(self.sent)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> list[Connection]:
    from databricks import sql

    opened: list[Connection] = []

    def connect(**settings: Any) -> Connection:
        opened.append(Connection(**settings))
        return opened[-1]

    monkeypatch.setattr(sql, "connect", connect)
    monkeypatch.setenv("DATABRICKS_HOST", f"https://{HOST.upper()}")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test-token")
    monkeypatch.setenv("CHARTER_GATE_STATEMENT_TIMEOUT_MS", "90000")
    return opened


def test_the_connector_gets_the_entrys_warehouse_and_the_environments_token(workspace: list[Connection]) -> None:
    warehouse = DatabricksDatabase(Server(0, SERVER), DISPLAY)
    warehouse.connect()
    assert workspace[0].settings == {
        "server_hostname": HOST,
        "http_path": "/sql/1.0/warehouses/0123456789abcdef",
        "access_token": "dapi-test-token",
        "user_agent_entry": "charter-gate",
        "enable_telemetry": False,
        "session_configuration": {"STATEMENT_TIMEOUT": 90, "TIMEZONE": "UTC"},
        "catalog": "main",
        "schema": "lending",
    }
    warehouse.close()
    assert workspace[0].closed


def test_the_driver_sends_the_golden_query(workspace: list[Connection], aggregate_query: str) -> None:
    warehouse = DatabricksDatabase(Server(0, SERVER), DISPLAY)
    row = warehouse.execute(aggregate_query).fetchone()
    (sent,) = workspace[0].sent
    assert sent + "\n" == (pushdown.GOLDENS / "databricks.sql").read_text("utf-8")
    assert row == (0,) * len(sqlglot.parse_one(aggregate_query, read="duckdb").expressions)


def test_a_spec_named_host_is_not_contacted(workspace: list[Connection], monkeypatch: pytest.MonkeyPatch) -> None:
    other = {**SERVER, "host": "collector.attacker.example"}
    with pytest.raises(UnusableInput) as refused:
        DatabricksDatabase(Server(0, other), DISPLAY).execute("SELECT 1", native=True)
    assert refused.value.code == "CH791"
    assert refused.value.message == (
        f"server `lakehouse` (databricks): host `collector.attacker.example` is not the workspace DATABRICKS_HOST "
        f"names (`{HOST}`); not contacted"
    )
    monkeypatch.delenv("DATABRICKS_HOST")
    with pytest.raises(UnusableInput) as unset:
        DatabricksDatabase(Server(0, SERVER), DISPLAY).execute("SELECT 1", native=True)
    assert unset.value.code == "CH791"
    assert workspace == []


def test_no_token_or_no_warehouse_is_said_so(workspace: list[Connection], monkeypatch: pytest.MonkeyPatch) -> None:
    no_path = {key: value for key, value in SERVER.items() if key != "customProperties"}
    with pytest.raises(UnusableInput) as no_warehouse:
        DatabricksDatabase(Server(0, no_path), DISPLAY).connect()
    assert no_warehouse.value.message == "server `lakehouse` (databricks): no SQL warehouse: `http_path` is None"
    monkeypatch.delenv("DATABRICKS_TOKEN")
    with pytest.raises(UnusableInput) as no_token:
        DatabricksDatabase(Server(0, SERVER), DISPLAY).connect()
    assert no_token.value.message == "server `lakehouse` (databricks): DATABRICKS_TOKEN is not set"
    assert workspace == []


def test_anything_but_one_select_is_refused_before_the_warehouse_sees_it(workspace: list[Connection]) -> None:
    warehouse = DatabricksDatabase(Server(0, SERVER), DISPLAY)
    for statement in ("DELETE FROM lending.applications", "SELECT 1; DROP TABLE lending.applications"):
        with pytest.raises(UnusableInput) as refused:
            warehouse.execute(statement, native=True)
        assert refused.value.code == "CH786"
    assert workspace == []


def test_an_entry_naming_a_warehouse_is_read_by_the_connector_not_spark() -> None:
    assert reads_with_databricks_sql(Server(0, SERVER))
    assert not reads_with_spark(Server(0, SERVER))
    catalogue_only = {key: value for key, value in SERVER.items() if key != "customProperties"}
    assert not reads_with_databricks_sql(Server(0, catalogue_only))
    assert reads_with_spark(Server(0, catalogue_only))


@pytest.mark.parametrize(
    ("kind", "duckdb"),
    [("string", "VARCHAR"), ("int", "INTEGER"), ("decimal(10, 2)", "DECIMAL(10,2)"), ("timestamp_ntz", "TIMESTAMP")],
)
def test_databricks_types_read_as_the_duckdb_types_the_gates_compare(kind: str, duckdb: str) -> None:
    assert duckdb_type(kind) == duckdb


@pytest.mark.skipif(
    not os.environ.get("CHARTER_TEST_DATABRICKS_HTTP_PATH"),
    reason="not runnable here: needs a Databricks workspace, a SQL warehouse and a token (DATABRICKS_HOST, "
    "DATABRICKS_TOKEN, CHARTER_TEST_DATABRICKS_HTTP_PATH, CHARTER_TEST_DATABRICKS_SCHEMA with the credit "
    "applications table)",
)
def test_a_databricks_sql_warehouse_runs_the_golden_query(aggregate_query: str) -> None:
    server = {
        **SERVER,
        "host": os.environ["DATABRICKS_HOST"],
        "schema": os.environ["CHARTER_TEST_DATABRICKS_SCHEMA"],
        "customProperties": [{"property": "http_path", "value": os.environ["CHARTER_TEST_DATABRICKS_HTTP_PATH"]}],
    }
    warehouse = DatabricksDatabase(Server(0, server), DISPLAY)
    row = warehouse.execute(aggregate_query.replace('"lending"', f'"{server["schema"]}"')).fetchone()
    warehouse.close()
    assert row is not None
    assert len(row) == len(sqlglot.parse_one(aggregate_query, read="duckdb").expressions)


def test_an_error_that_may_quote_the_data_is_shown_by_kind_only() -> None:
    from databricks.sql.exc import RequestError, ServerOperationError

    from compiler.gates.io.engine_errors import engine_error

    cast = ServerOperationError(
        '[CAST_INVALID_INPUT] The value \'NID000000000001\' of the type "STRING" cannot be cast to "BIGINT". '
        "SQLSTATE: 22018"
    )
    shown = engine_error(DISPLAY, cast)
    assert shown.code == "CH751"
    assert shown.message == (
        "server `lakehouse` (databricks): ServerOperationError [CAST_INVALID_INPUT] SQLSTATE 22018; its message "
        "is withheld, since it may quote the data"
    )
    missing = ServerOperationError(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `lending`.`applications` cannot be found. SQLSTATE: 42P01"
    )
    assert engine_error(DISPLAY, missing).message == (
        "server `lakehouse` (databricks): SQLSTATE 42P01 ServerOperationError [TABLE_OR_VIEW_NOT_FOUND]: The table "
        "or view `lending`.`applications` cannot be found."
    )
    refused = RequestError("Error during request to server: 403 Forbidden")
    assert engine_error(DISPLAY, refused).message == (
        "server `lakehouse` (databricks): RequestError: Error during request to server: 403 Forbidden"
    )
