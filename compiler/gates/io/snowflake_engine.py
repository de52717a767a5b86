"""Snowflake: the data gate's checks rendered in Snowflake's dialect and run in the warehouse; only aggregates
come back. The eval and drift gates pull the few columns they need in batches (`servers.pull`).

Where and who, never from a spec's text alone:
- the account is the server entry's `account` (with `database`, `schema`, `warehouse`); when the standard
  environment names one (`SNOWFLAKE_ACCOUNT`) they must agree, so a pull request cannot send the job's
  credentials to another account;
- credentials only from the environment: `SNOWFLAKE_USER` with `SNOWFLAKE_PRIVATE_KEY_FILE` (key-pair, and
  `SNOWFLAKE_PRIVATE_KEY_FILE_PWD` when it is encrypted) or `SNOWFLAKE_PASSWORD`;
- the host is the account's own; `SNOWFLAKE_HOST`, `SNOWFLAKE_PORT` and `SNOWFLAKE_PROTOCOL` (the operator's
  environment, never the spec) point the driver elsewhere (a private link, or a local stand-in in tests).
Snowflake has no read-only session: every statement is parsed and must be one query (`query_fence`). The
session has `STATEMENT_TIMEOUT_IN_SECONDS` (CHARTER_GATE_STATEMENT_TIMEOUT_MS), runs in UTC and is tagged.
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

SNOWFLAKE = db.Dialect("snowflake", "snowflake-connector-python", "snowflake")
ACCOUNT_MISMATCH = "CH788"
_TYPES = {
    "TEXT": "VARCHAR",
    "FLOAT": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP_NTZ": "TIMESTAMP",
    "TIMESTAMP_LTZ": "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_TZ": "TIMESTAMP WITH TIME ZONE",
    "BINARY": "BLOB",
    "VARIANT": "JSON",
}


class SnowflakeDatabase(db.Session):
    """One session in a Snowflake warehouse, shaped like `database.Database` for the gates."""

    def __init__(self, server: Server, display: str):
        super().__init__(server, SNOWFLAKE, display)

    def open(self) -> Any:
        try:
            import snowflake.connector
        except ImportError:
            raise UnusableInput(
                f"{self.display}: reading a Snowflake server needs snowflake-connector-python",
                hint="pip install 'charter[snowflake]'",
            ) from None
        try:
            return snowflake.connector.connect(**self.settings())
        except snowflake.connector.errors.Error as error:
            raise UnusableInput(f"{self.display}: cannot connect: {db._first_line(error)}") from None

    def settings(self) -> dict[str, Any]:
        """The driver's arguments: the entry's account and names, the environment's credentials and host."""
        account = self.server.text("account")
        pinned = os.environ.get("SNOWFLAKE_ACCOUNT")
        if not account or (pinned and pinned.lower() != account.lower()):
            raise UnusableInput(
                f"{self.display}: account `{account}` is not the account SNOWFLAKE_ACCOUNT names; not contacted",
                hint="the job's credentials are for SNOWFLAKE_ACCOUNT: the server entry must name that account",
                code=ACCOUNT_MISMATCH,
            )
        user = os.environ.get("SNOWFLAKE_USER")
        if not user:
            raise UnusableInput(f"{self.display}: SNOWFLAKE_USER is not set", hint=_CREDENTIALS_HINT)
        settings: dict[str, Any] = {"account": account, "user": user, "login_timeout": 30, "network_timeout": 60}
        key, password = os.environ.get("SNOWFLAKE_PRIVATE_KEY_FILE"), os.environ.get("SNOWFLAKE_PASSWORD")
        if key:
            settings["private_key_file"] = key
            if os.environ.get("SNOWFLAKE_PRIVATE_KEY_FILE_PWD"):
                settings["private_key_file_pwd"] = os.environ["SNOWFLAKE_PRIVATE_KEY_FILE_PWD"]
        elif password:
            settings["password"] = password
        else:
            raise UnusableInput(f"{self.display}: no Snowflake credential in the environment", hint=_CREDENTIALS_HINT)
        for name, value in (
            ("database", self.server.database),
            ("schema", self.server.schema),
            ("warehouse", self.server.warehouse),
        ):
            if isinstance(value, str):
                settings[name] = value
        for name, cast in (("host", str), ("port", int), ("protocol", str)):
            value = os.environ.get(f"SNOWFLAKE_{name.upper()}")
            if value:
                settings[name] = cast(value)
        settings["session_parameters"] = {
            "STATEMENT_TIMEOUT_IN_SECONDS": max(1, timeout_ms() // 1000),
            "TIMEZONE": "UTC",
            "QUERY_TAG": "charter-gate",
        }
        return settings

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, native: bool = False) -> db.Rows:
        """One query (DuckDB SQL unless `native`); a warehouse error is unusable input."""
        text = sql if native else db.render(sql, SNOWFLAKE)
        return db.Rows(self._fetch(text, params))

    def read_only_scalar(self, sql: str, timeout_ms: int) -> Any:
        """One value of a native query (a contract's `sql` rule); the session's timeout bounds it."""
        row = db.Rows(self._fetch(sql, None)).fetchone()
        return row[0] if row is not None and len(row) == 1 else row

    def _fetch(self, text: str, params: Sequence[Any] | None) -> list[tuple[Any, ...]]:
        import snowflake.connector

        only_a_query(text, "snowflake")
        self.connect()
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(text, params)
                rows = [tuple(row) for row in cursor.fetchall()]
        except snowflake.connector.errors.Error as error:
            raise engine_error(self.display, error) from None
        self.bytes_received += sum(len(repr(row)) for row in rows)
        return rows

    def batches(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of a DuckDB query in batches (the driver streams its result chunks)."""
        import snowflake.connector

        text = db.render(sql, SNOWFLAKE)
        only_a_query(text, "snowflake")
        self.connect()
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(text)
                while batch := cursor.fetchmany(db.FETCH_BATCH_ROWS):
                    self.bytes_received += sum(len(repr(row)) for row in batch)
                    yield [tuple(row) for row in batch]
        except snowflake.connector.errors.Error as error:
            raise engine_error(self.display, error) from None

    def columns(self, schema: str, table: str) -> dict[str, str]:
        database = self.server.text("database")
        catalogue = db.quoted_name(database) + "." if database else ""
        rows = self._fetch(
            "SELECT column_name, data_type, numeric_precision, numeric_scale "
            f"FROM {catalogue}information_schema.columns WHERE table_schema = {_literal(schema)} "
            f"AND table_name = {_literal(table)} ORDER BY ordinal_position",
            None,
        )
        if not rows:
            raise UnusableInput(
                f"{self.display}: no table {schema}.{table}, or no permission to see it",
                hint="check the contract's physicalName and the server's schema (Snowflake folds unquoted names "
                "to upper case)",
            )
        return {str(name): duckdb_type(str(kind), precision, scale) for name, kind, precision, scale in rows}

    def input_digests(self, schema: str, table: str) -> dict[str, Any]:
        """The SHA-256 of each row's JSON, computed in the warehouse and sent back sorted; their SHA-256 here.

        No value leaves the warehouse, and the same rows give the same digest whatever their order."""
        relation = db.quoted(schema, table)
        digest = hashlib.sha256()
        sql = f"SELECT SHA2(TO_JSON(OBJECT_CONSTRUCT(*)), 256) AS h FROM {relation} ORDER BY 1"
        for batch in self.batches(sql):
            for (row_digest,) in batch:
                digest.update(f"{row_digest}\n".encode())
        return {"digest": "sha256:" + digest.hexdigest()}


def _literal(text: str) -> str:
    from sqlglot import exp

    return str(exp.Literal.string(text).sql(dialect="snowflake"))


def folded(name: str) -> str:
    """A physicalName part as Snowflake resolves it unquoted: upper case (`lending` is LENDING)."""
    return name.upper()


_CREDENTIALS_HINT = "set SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_FILE (or SNOWFLAKE_PASSWORD) in the job's environment"


def duckdb_type(kind: str, precision: Any, scale: Any) -> str:
    """A Snowflake information_schema type as the DuckDB type name the gates compare logical types with."""
    if kind == "NUMBER":
        if scale in (0, None):
            return "BIGINT" if precision is None or int(precision) > 18 else "INTEGER"
        return f"DECIMAL({precision},{scale})"
    return _TYPES.get(kind, kind)
