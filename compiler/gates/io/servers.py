"""`--server NAME`: read a contract's data where its ODCS `servers` entry says it lives.

Object storage and local paths (`s3`, `gcs`, `azure`, `local`) become pyarrow
datasets that DuckDB scans in batches. Databases and warehouses (`postgres`,
`redshift`, ... see `db.DIALECTS`) either run the gate's SQL themselves
(push-down: only aggregates come back; the data gate's checks, the eval
gate's confusion counts, the drift gate's category counts) or stream the rows
a gate needs into DuckDB (pull: what counts cannot give, `Table.pull_instead`
and `Table.pulled`). Spark (`spark_engine`: Delta, files marked for it,
catalogue tables), Snowflake (`snowflake_engine`), BigQuery (`bigquery_engine`) and Databricks SQL
warehouses (`databricks_engine`) are such engines too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb

from compiler.core.endpoints import Allowed, Refusal, judge
from compiler.core.engines import reads_with_spark
from compiler.core.odcs import Server, read_odcs
from compiler.core.suggest import did_you_mean
from compiler.gates.errors import UnusableInput
from compiler.gates.io import database as db
from compiler.gates.io import objectstore

if TYPE_CHECKING:
    from compiler.gates.io.bigquery_engine import BigQueryDatabase
    from compiler.gates.io.databricks_engine import DatabricksDatabase
    from compiler.gates.io.snowflake_engine import SnowflakeDatabase
    from compiler.gates.io.spark_engine import SparkEngine
    from compiler.gates.project import Reach

UNTRUSTED = "CH750"
Session: TypeAlias = "db.Database | SparkEngine | SnowflakeDatabase | BigQueryDatabase | DatabricksDatabase"

# Each backend gets its own view names: the drift gate attaches two sources to one connection.
_VIEWS = itertools.count(1)


def _view() -> str:
    return f"charter_source_{next(_VIEWS)}"


def find_server(contract: Any, name: str, contract_id: str) -> Server:
    """The contract's `servers` entry called `name`."""
    servers = read_odcs(contract).servers
    for server in servers:
        if server.name == name:
            return server
    names = [str(server.name) for server in servers]
    raise UnusableInput(
        f"contract `{contract_id}` has no server `{name}`",
        hint=did_you_mean(name, names) or f"servers: {', '.join(names) or 'none (add `servers` to the contract)'}",
    )


@dataclass
class ObjectStore:
    """Files in object storage, registered in DuckDB as views over pyarrow datasets."""

    filesystem: Any
    files: list[str]
    format: str
    delimiter: str | None
    database: db.Database | None = None
    view: str = field(default_factory=_view)

    def relation(self, all_varchar: bool) -> str:
        return f"{self.view}_text" if all_varchar and self.format == "csv" else self.view

    def dataset(self, *, all_text: bool = False) -> Any:
        return objectstore.dataset(
            self.filesystem, self.files, self.format, all_text=all_text, delimiter=self.delimiter
        )

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        con.register(self.view, self.dataset())
        if self.format == "csv":
            con.register(f"{self.view}_text", self.dataset(all_text=True))

    def close(self) -> None:
        return None


@dataclass
class Table:
    """A database table: the data gate's SQL runs in the database; other gates pull rows into DuckDB."""

    database: Session | None
    session: Session
    schema: str
    table: str
    pushdown: bool
    column_types: dict[str, str] = field(default_factory=dict)
    view: str = field(default_factory=_view)
    files: tuple[str, ...] = ()
    """The files the table is (Parquet or Delta read by Spark); none for a database's table."""

    def relation(self, all_varchar: bool) -> str:
        return db.quoted(self.schema, self.table) if self.pushdown else self.view

    def columns(self) -> dict[str, str]:
        if not self.column_types:
            self.column_types = self.session.columns(self.schema, self.table)
        return self.column_types

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self.pushdown:
            pull(self.session, self.schema, self.table, self.columns(), con=con, into=self.view)

    def pull_instead(self, con: duckdb.DuckDBPyConnection) -> None:
        """Stop pushing down: the rows are pulled into DuckDB, for a gate that needs them after all."""
        self.database = None
        self.pushdown = False
        _attached(self, con)

    def pulled(self, con: duckdb.DuckDBPyConnection, names: list[str]) -> Table:
        """These columns' rows pulled into DuckDB, the rest left on the server (this table's session, not
        closed by the copy)."""
        types = self.columns()
        copy = Table(None, self.session, self.schema, self.table, False, {name: types[name] for name in names})
        _attached(copy, con)
        return copy

    def close(self) -> None:
        self.session.close()


Backend = ObjectStore | Table


def _attached(table: Table, con: duckdb.DuckDBPyConnection) -> None:
    """Pull the table's rows through a cursor of its own: the gate's connection may hold a result it is reading
    (a cursor shares the database, so the pulled table is the connection's too)."""
    cursor = con.cursor()
    try:
        table.attach(cursor)
    finally:
        cursor.close()


def open_server(
    contract: Any, contract_id: str, name: str, physical_name: str, *, pushdown: bool, reach: Reach
) -> tuple[str, Backend]:
    """A label and a backend for the server `name`, reading the table `physical_name`.

    Nothing is contacted, and no credential leaves, unless the Project trusts the server (CH750).
    """
    server = find_server(contract, name, contract_id)
    kind = server.text("type")
    display = f"server `{name}` ({kind})"
    allowed = judge(server, reach.project)
    if isinstance(allowed, Refusal):
        raise UnusableInput(
            f"{display}: {allowed.message}; not contacted",
            hint=allowed.hint + " (a change to spec.endpoints is the Project owners' decision)",
            code=UNTRUSTED,
        )
    if reads_with_spark(server):
        from compiler.gates.io import spark_engine

        label, engine, files = spark_engine.open_spark(server, kind, display, reach.root, physical_name)
        return label, Table(engine if pushdown else None, engine, engine.schema, engine.view, pushdown, files=files)
    if kind in objectstore.OBJECT_STORE_TYPES:
        return _object_store(server, kind, display, allowed, reach.root)
    dialect = db.DIALECTS.get(kind)
    if dialect is None:
        known = ", ".join([*objectstore.OBJECT_STORE_TYPES, *db.DIALECTS])
        raise UnusableInput(f"{display}: charter cannot read `{kind}` servers yet", hint=f"readable types: {known}")
    if kind in ("snowflake", "bigquery", "databricks"):
        return _warehouse(server, kind, display, physical_name, pushdown=pushdown)
    if dialect.driver is None:
        raise UnusableInput(
            f"{display}: charter renders {kind} SQL, but has no {kind} driver yet",
            hint="export the table to object storage and add an s3/gcs/azure server, or use a postgres server",
        )
    session = db.Database(server, dialect, display, allowed)
    schema, table = db.table_parts(physical_name, _str(server.schema))
    backend = Table(session if pushdown else None, session, schema, table, pushdown)
    return f"{display} {schema}.{table}", backend


def _warehouse(server: Server, kind: str, display: str, physical_name: str, *, pushdown: bool) -> tuple[str, Table]:
    """A table in a warehouse whose driver Charter has (its session, which connects on first use)."""
    warehouse: SnowflakeDatabase | BigQueryDatabase | DatabricksDatabase
    if kind == "snowflake":
        from compiler.gates.io.snowflake_engine import SnowflakeDatabase, folded

        warehouse = SnowflakeDatabase(server, display)
        schema, table = (folded(p) for p in db.table_parts(physical_name, _str(server.schema)))
    elif kind == "bigquery":
        from compiler.gates.io.bigquery_engine import BigQueryDatabase

        warehouse = BigQueryDatabase(server, display)
        schema, table = db.table_parts(physical_name, _str(server.dataset))
    else:
        from compiler.gates.io.databricks_engine import DatabricksDatabase

        warehouse = DatabricksDatabase(server, display)
        schema, table = db.table_parts(physical_name, _str(server.schema))
    return f"{display} {schema}.{table}", Table(warehouse if pushdown else None, warehouse, schema, table, pushdown)


def _object_store(server: Server, kind: str, display: str, allowed: Allowed, root: Path) -> tuple[str, ObjectStore]:
    raw = server.path if kind == "local" else server.location
    if not isinstance(raw, str) or not raw:
        raise UnusableInput(f"{display}: the server has no `{'path' if kind == 'local' else 'location'}`")
    location = objectstore.parse_location(kind, raw)
    endpoint = _str(server.endpoint_url)
    filesystem = objectstore.filesystem(location, endpoint, _str(server.region), plain_http=allowed.tls == "disabled")
    # A local path is read as --data is: inside the project, no link followed.
    local = kind == "local"
    files = objectstore.list_local(root, location) if local else objectstore.list_files(filesystem, location)
    if not files:
        raise UnusableInput(f"{display} {raw}: no non-empty files there")
    fmt = objectstore.file_format(_str(server.format), files, f"{display} {raw}")
    backend = ObjectStore(filesystem, files, fmt, _str(server.delimiter))
    label = f"{display} {raw}" + (f" ({len(files)} files)" if len(files) > 1 else "")
    return label, backend


def pull(
    session: Session,
    schema: str,
    table: str,
    types: dict[str, str],
    *,
    con: duckdb.DuckDBPyConnection,
    into: str,
) -> int:
    """Stream a table's rows into a DuckDB table in batches; the rows pulled."""
    import pyarrow as pa

    arrow_types = {name: _arrow_type(kind) for name, kind in types.items()}
    selected = ", ".join(db.quoted_name(name) + ("" if arrow_types[name] is not None else "::text") for name in types)
    schema_arrow = pa.schema([(name, arrow_types[name] or pa.string()) for name in types])
    rows = 0
    created = False
    for batch in session.batches(f"SELECT {selected} FROM {db.quoted(schema, table)}"):
        arrays = [pa.array([row[i] for row in batch], type=schema_arrow.field(i).type) for i in range(len(types))]
        chunk = pa.Table.from_arrays(arrays, schema=schema_arrow)
        con.register("charter_chunk", chunk)
        verb = f"INSERT INTO {into}" if created else f"CREATE TABLE {into} AS"
        con.execute(f"{verb} SELECT * FROM charter_chunk")
        con.unregister("charter_chunk")
        created = True
        rows += len(batch)
    if not created:
        con.register("charter_chunk", schema_arrow.empty_table())
        con.execute(f"CREATE TABLE {into} AS SELECT * FROM charter_chunk")
        con.unregister("charter_chunk")
    return rows


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    simple = {
        "SMALLINT": pa.int16(),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "FLOAT": pa.float32(),
        "DOUBLE": pa.float64(),
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
        "TIME": pa.time64("us"),
    }
    if kind.startswith("DECIMAL("):
        precision, scale = (int(x) for x in kind[8:-1].split(","))
        return pa.decimal128(precision, scale) if precision <= 38 else None
    return simple.get(kind)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
