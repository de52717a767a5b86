"""Databricks SQL: the data gate's checks rendered in Databricks' dialect and run on a SQL warehouse through
databricks-sql-connector; only aggregates come back. The eval and drift gates pull the few columns they need
in batches (`servers.pull`). A `databricks` entry without an `http_path` is read by Spark (`spark_engine`).

Where and who, never from a spec's text alone:
- the workspace is the server entry's `host`, the warehouse its `http_path` custom property (with `catalog` and
  `schema`); the host must be the workspace the standard environment names (`DATABRICKS_HOST`), so a pull
  request cannot send the job's token to another host;
- the token only from the environment (`DATABRICKS_TOKEN`).
A SQL warehouse has no read-only session: every statement is parsed and must be one query (`query_fence`).
The session has `STATEMENT_TIMEOUT` (CHARTER_GATE_STATEMENT_TIMEOUT_MS) and runs in UTC.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

from compiler.core.odcs import Server
from compiler.gates.errors import UnusableInput
from compiler.gates.io import database as db
from compiler.gates.io.engine_errors import engine_error
from compiler.gates.io.query_fence import only_a_query, timeout_ms

DATABRICKS = db.Dialect("databricks", "databricks-sql-connector", "databricks")
HOST_MISMATCH = "CH791"
_TYPES = {
    "STRING": "VARCHAR",
    "BIGINT": "BIGINT",
    "INT": "INTEGER",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_NTZ": "TIMESTAMP",
    "BINARY": "BLOB",
}


def workspace_host(value: str) -> str:
    """A workspace host as DATABRICKS_HOST or a server entry may write it: no scheme, no slash, lower case."""
    host = value.strip().lower()
    for scheme in ("https://", "http://"):
        host = host.removeprefix(scheme)
    return host.rstrip("/")


class DatabricksDatabase(db.Session):
    """One session on a Databricks SQL warehouse, shaped like `database.Database` for the gates."""

    def __init__(self, server: Server, display: str):
        super().__init__(server, DATABRICKS, display)

    def settings(self) -> dict[str, Any]:
        """The connector's arguments: the entry's host, warehouse and names, the environment's token."""
        host = workspace_host(self.server.text("host"))
        pinned = workspace_host(os.environ.get("DATABRICKS_HOST", ""))
        if not host or host != pinned:
            raise UnusableInput(
                f"{self.display}: host `{host}` is not the workspace DATABRICKS_HOST names (`{pinned}`); not contacted",
                hint="the job's token is for DATABRICKS_HOST: the server entry must name that workspace",
                code=HOST_MISMATCH,
            )
        http_path = self.server.custom("http_path")
        if not http_path or not http_path.startswith("/sql/"):
            raise UnusableInput(
                f"{self.display}: no SQL warehouse: `http_path` is {http_path!r}",
                hint="add customProperties `http_path: /sql/1.0/warehouses/<id>` to the server entry",
            )
        token = os.environ.get("DATABRICKS_TOKEN")
        if not token:
            raise UnusableInput(
                f"{self.display}: DATABRICKS_TOKEN is not set",
                hint="set DATABRICKS_TOKEN (a personal access or service principal token) in the job's environment",
            )
        settings: dict[str, Any] = {
            "server_hostname": host,
            "http_path": http_path,
            "access_token": token,
            "user_agent_entry": "charter-gate",
            # The connector would send its errors (which may quote the data) to Databricks' telemetry.
            "enable_telemetry": False,
            "session_configuration": {"STATEMENT_TIMEOUT": max(1, timeout_ms() // 1000), "TIMEZONE": "UTC"},
        }
        for name in ("catalog", "schema"):
            value = getattr(self.server, name)
            if isinstance(value, str):
                settings[name] = value
        return settings

    def open(self) -> Any:
        settings = self.settings()
        try:
            from databricks import sql
        except ImportError:
            raise UnusableInput(
                f"{self.display}: reading a Databricks SQL warehouse needs databricks-sql-connector",
                hint="pip install 'charter[databricks]'",
            ) from None
        try:
            return sql.connect(**settings)
        except sql.exc.Error as error:
            raise UnusableInput(f"{self.display}: cannot connect: {db._first_line(error)}") from None

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, native: bool = False) -> db.Rows:
        """One query (DuckDB SQL unless `native`); a warehouse error is unusable input."""
        if params:
            raise UnusableInput(f"{self.display}: a Databricks query takes no positional parameters here")
        text = sql if native else db.render(sql, DATABRICKS)
        return db.Rows([row for batch in self._batches(text) for row in batch])

    def read_only_scalar(self, sql: str, timeout_ms: int) -> Any:
        """One value of a native query (a contract's `sql` rule); the session's timeout bounds it."""
        row = self.execute(sql, native=True).fetchone()
        return row[0] if row is not None and len(row) == 1 else row

    def batches(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of a DuckDB query in batches (the connector fetches them in chunks)."""
        yield from self._batches(db.render(sql, DATABRICKS))

    def _batches(self, text: str) -> Iterator[list[tuple[Any, ...]]]:
        only_a_query(text, "databricks")
        self.connect()
        from databricks import sql

        try:
            with self.connection.cursor() as cursor:
                cursor.execute(text)
                while batch := cursor.fetchmany(db.FETCH_BATCH_ROWS):
                    rows = [tuple(row) for row in batch]
                    self.bytes_received += sum(len(repr(row)) for row in rows)
                    yield rows
        except sql.exc.Error as error:
            raise engine_error(self.display, error) from None

    def columns(self, schema: str, table: str) -> dict[str, str]:
        catalog = self.server.catalog
        prefix = _identifier(catalog) + "." if isinstance(catalog, str) and catalog else ""
        rows = self.execute(
            "SELECT column_name, full_data_type "
            f"FROM {prefix}information_schema.columns WHERE table_schema = {_literal(schema)} "
            f"AND table_name = {_literal(table)} ORDER BY ordinal_position",
            native=True,
        ).fetchall()
        if not rows:
            raise UnusableInput(
                f"{self.display}: no table {schema}.{table}, or no permission to see it",
                hint="check the contract's physicalName and the server's catalog and schema",
            )
        return {str(name): duckdb_type(str(kind)) for name, kind in rows}

    def input_digests(self, schema: str, table: str) -> dict[str, Any]:
        """The SHA-256 of each row's JSON, computed in the warehouse and sent back sorted; their SHA-256 here."""
        relation = f"{_identifier(schema)}.{_identifier(table)}"
        digest = hashlib.sha256()
        sql = f"SELECT sha2(to_json(struct(*)), 256) AS h FROM {relation} ORDER BY 1"
        for batch in self._batches(sql):
            for (row_digest,) in batch:
                digest.update(f"{row_digest}\n".encode())
        return {"digest": "sha256:" + digest.hexdigest()}


def _identifier(name: str) -> str:
    from sqlglot import exp

    return str(exp.to_identifier(name, quoted=True).sql(dialect="databricks"))


def _literal(text: str) -> str:
    from sqlglot import exp

    return str(exp.Literal.string(text).sql(dialect="databricks"))


def duckdb_type(kind: str) -> str:
    """A Databricks information_schema type as the DuckDB type name the gates compare logical types with."""
    upper = kind.strip().upper()
    if upper.startswith("DECIMAL"):
        return upper.replace(" ", "")
    return _TYPES.get(upper, upper)
