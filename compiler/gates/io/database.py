"""Tables in a database or warehouse: checks run inside it as SQL, only aggregates come back.

The gates write their SQL once, in DuckDB's dialect; sqlglot renders it in the
server's dialect, so a warehouse is a driver plus a dialect (`DIALECTS`).
PostgreSQL (and Redshift, which speaks its protocol) go through psycopg.
Connection details come from the contract's server (`host`, `port`,
`database`, `schema`); credentials only from the driver's standard
environment (`PGUSER`, `PGPASSWORD`, `PGSERVICEFILE`, `~/.pgpass`), never from
a spec. Every session is read-only, in UTC, with a statement timeout.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.core.endpoints import DEFAULT_PORTS, Allowed
from compiler.core.odcs import Server
from compiler.gates.errors import UnusableInput
from compiler.gates.io.engine_errors import engine_error

_KINDS = {"postgres": "postgres", "redshift": "redshift"}
DEFAULT_STATEMENT_TIMEOUT_MS = 30 * 60 * 1000
FETCH_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Dialect:
    """How Charter talks to one kind of server: sqlglot's dialect, and the driver that connects."""

    sqlglot: str
    driver: str | None
    extra: str


DIALECTS: dict[str, Dialect] = {
    "postgres": Dialect("postgres", "psycopg", "postgres"),
    "postgresql": Dialect("postgres", "psycopg", "postgres"),
    "redshift": Dialect("redshift", "psycopg", "postgres"),
    # Rendered by sqlglot already; each needs its driver before it can connect.
    "snowflake": Dialect("snowflake", None, "snowflake"),
    "bigquery": Dialect("bigquery", None, "bigquery"),
    "databricks": Dialect("databricks", None, "databricks"),
}

# information_schema data types -> the DuckDB type names the gates compare logical types with.
_TYPES = {
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "FLOAT",
    "double precision": "DOUBLE",
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "time without time zone": "TIME",
    "uuid": "UUID",
    "json": "JSON",
    "jsonb": "JSON",
}


def render(sql: str, dialect: Dialect) -> str:
    """DuckDB SQL in the server's dialect."""
    import sqlglot

    return str(sqlglot.transpile(sql, read="duckdb", write=dialect.sqlglot)[0])


def table_parts(physical_name: str, default_schema: str | None) -> tuple[str, str]:
    """`schema.table` from the contract's physicalName, the server's schema otherwise."""
    parts = physical_name.split(".")
    if len(parts) == 1:
        return default_schema or "public", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise UnusableInput(f"physicalName `{physical_name}`: expected `table` or `schema.table`")


def quoted_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quoted(schema: str, table: str) -> str:
    return quoted_name(schema) + "." + quoted_name(table)


class Rows:
    """A query result, shaped like DuckDB's so the gates read both alike."""

    def __init__(self, rows: Sequence[tuple[Any, ...]]):
        self.rows = list(rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Session(ABC):
    """One server session of a gate, whatever the driver: opened on first use (`open`), closed once."""

    def __init__(self, server: Server, dialect: Dialect, display: str):
        self.dialect = dialect
        self.display = display
        self.server = server
        self.connection: Any = None
        self.bytes_received = 0

    def connect(self) -> None:
        if self.connection is None:
            self.connection = self.open()

    @abstractmethod
    def open(self) -> Any:
        """The driver's connection; a missing driver or a refused connection is unusable input."""

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Database(Session):
    """One read-only session on a PostgreSQL-protocol server."""

    def __init__(self, server: Server, dialect: Dialect, display: str, allowed: Allowed):
        super().__init__(server, dialect, display)
        self.allowed = allowed

    def open(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise UnusableInput(
                f"{self.display}: reading a {self.dialect.sqlglot} server needs psycopg",
                hint=f"pip install 'charter[{self.dialect.extra}]'",
            ) from None
        timeout = os.environ.get("CHARTER_GATE_STATEMENT_TIMEOUT_MS", str(DEFAULT_STATEMENT_TIMEOUT_MS))
        if not timeout.isdigit():
            raise UnusableInput(f"CHARTER_GATE_STATEMENT_TIMEOUT_MS={timeout!r}: not a number of milliseconds")
        try:
            return psycopg.connect(
                psycopg.conninfo.make_conninfo("", **self.conninfo()),
                connect_timeout=15,
                autocommit=True,
                # A gate never writes: the session refuses to, whatever the SQL says.
                options=f"-c default_transaction_read_only=on -c statement_timeout={timeout} -c TimeZone=UTC",
            )
        except psycopg.OperationalError as error:
            raise UnusableInput(f"{self.display}: cannot connect: {_first_line(error)}") from None

    def conninfo(self) -> dict[str, str | int]:
        """Where and how to connect: the host and port the Project trusts, TLS and authentication as it says.

        Given explicitly, these win over libpq's environment (`PGSSLMODE`, `PGREQUIREAUTH`, `PGHOST`...), so
        only the Project can lower them. `require_auth` makes libpq leave a server that asks for another
        method (a cleartext password, or none) before it sends the password.
        """
        database = self.server.text("database")
        if "=" in database or database.startswith(("postgres://", "postgresql://")):
            # libpq expands a dbname that looks like a connection string: it could name another host.
            raise UnusableInput(f"{self.display}: database `{database}` is not a plain database name")
        settings: dict[str, str | int] = {
            "host": self.server.text("host"),
            "port": int(self.server.port or DEFAULT_PORTS[_KINDS.get(self.dialect.sqlglot, "postgres")]),
            "dbname": database,
            "sslmode": {"verify-full": "verify-full", "require": "require", "disabled": "disable"}[self.allowed.tls],
            "require_auth": self.allowed.auth or "scram-sha-256",
        }
        if self.allowed.tls == "verify-full" and not os.environ.get("PGSSLROOTCERT"):
            settings["sslrootcert"] = "system"  # the machine's trusted roots, unless PGSSLROOTCERT names others
        return settings

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, native: bool = False) -> Rows:
        """Run one statement (DuckDB SQL unless `native`); a database error is unusable input."""
        import psycopg

        self.connect()
        text = sql if native else render(sql, self.dialect)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(text, params)
                rows = cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as error:
            raise engine_error(self.display, error) from None
        return Rows(rows)

    def columns(self, schema: str, table: str) -> dict[str, str]:
        rows = self.execute(
            "SELECT column_name, data_type, numeric_precision, numeric_scale, udt_name "
            "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position",
            (schema, table),
            native=True,
        ).fetchall()
        if not rows:
            raise UnusableInput(
                f"{self.display}: no table {schema}.{table}, or no permission to see it",
                hint="check the contract's physicalName and the server's schema",
            )
        return {
            str(name): _duckdb_type(str(kind), precision, scale, str(udt)) for name, kind, precision, scale, udt in rows
        }

    def read_only_scalar(self, sql: str, timeout_ms: int) -> Any:
        """One value of a native query, in a read-only transaction that is always rolled back."""
        import psycopg

        self.connect()
        try:
            with self.connection.transaction(force_rollback=True), self.connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                cursor.execute(sql)
                row = cursor.fetchone() if cursor.description is not None else None
        except psycopg.Error as error:
            raise engine_error(None, error) from None
        return row[0] if row is not None and len(row) == 1 else row

    def batches(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of a native query in batches, through a server-side cursor (bounded memory)."""
        import psycopg

        self.connect()
        try:
            with self.connection.transaction(), self.connection.cursor(name="charter_pull") as cursor:
                cursor.itersize = FETCH_BATCH_ROWS
                cursor.execute(sql)
                while batch := cursor.fetchmany(FETCH_BATCH_ROWS):
                    yield batch
        except psycopg.Error as error:
            raise engine_error(self.display, error) from None


def duckdb_text(value: Any) -> str:
    """A value as DuckDB's CAST(... AS VARCHAR) writes it, so examples read alike in every engine."""
    import datetime

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        offset = value.utcoffset() or datetime.timedelta()
        hours, rest = divmod(int(offset.total_seconds()), 3600)
        minutes = f":{rest // 60:02d}" if rest else ""
        return value.replace(tzinfo=None).isoformat(sep=" ") + f"{hours:+03d}{minutes}"
    if isinstance(value, datetime.datetime | datetime.time):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    return str(value)


def _duckdb_type(kind: str, precision: Any, scale: Any, udt: str) -> str:
    if kind == "numeric":
        return f"DECIMAL({precision},{scale})" if precision is not None else "DOUBLE"
    if kind == "ARRAY":
        element = _TYPES.get(_ARRAY_ELEMENTS.get(udt, ""), "VARCHAR")
        return f"{element}[]"
    return _TYPES.get(kind, kind.upper())


_ARRAY_ELEMENTS = {
    "_int2": "smallint",
    "_int4": "integer",
    "_int8": "bigint",
    "_float4": "real",
    "_float8": "double precision",
    "_text": "text",
    "_varchar": "character varying",
    "_bool": "boolean",
}


def _first_line(error: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(error)).strip()
    return text[:300] or type(error).__name__
