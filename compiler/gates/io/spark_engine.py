"""Spark: the data gate's checks run as Spark SQL where the data lives; only aggregates come back.

The gates write their SQL once, in DuckDB's dialect; sqlglot renders it in Spark's, so a Spark server is a
session plus a dialect, as PostgreSQL is (`database.Database`, whose interface `SparkEngine` has). The eval
and drift gates push their counts down the same way (compiler/gates/eval/aggregates.py, drift/measure.py);
what needs every value they read through Spark in batches and compute in DuckDB (`servers.pull`).

What Spark reads (`compiler.core.engines.reads_with_spark`):
- a catalogue table: a `databricks` server (`catalog`, `schema`) or a `hive` one (`database`), the table
  being the contract's physicalName;
- files: a server whose `format` is `delta` (nothing else here reads Delta), or a files server (`local`,
  `s3`, `gcs`, `azure`) whose `customProperties` say `engine: spark`. A `local` path is inside the project
  and reached without a link, as for DuckDB.
Delta is read by Delta's own Spark reader when the session has it (delta-spark on the cluster); otherwise
through the table's log (`deltalake`): the files of its current version, read as Parquet, so a file the
log has removed is never counted. A table whose log needs a reader feature that this cannot honour
(deletion vectors, column mapping) is refused, not misread.

The session is the standard Spark environment's, never one the spec names: the active session (a job on a
cluster), else `SparkSession.builder` with whatever `SPARK_REMOTE`, `PYSPARK_SUBMIT_ARGS` or
spark-defaults say (a pull request could otherwise point the gate at a cluster that forges its verdict).
Every statement is parsed first and must be one query (Spark has no read-only session), runs tagged,
and is interrupted past the statement timeout.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from compiler.core.engines import SPARK_CATALOGUE_TYPES as CATALOGUE_TYPES
from compiler.core.odcs import Server
from compiler.gates.errors import UnusableInput
from compiler.gates.io import database as db
from compiler.gates.io.engine_errors import engine_error
from compiler.gates.io.query_fence import only_a_query, timeout_ms

SPARK = db.Dialect("spark", "pyspark", "spark")
DELTA_UNREADABLE = "CH785"
TIMED_OUT = "CH787"
# Delta reader features the log route cannot honour: it would count deleted rows, or misname columns.
_UNREADABLE_FEATURES = frozenset({"deletionVectors", "columnMapping"})
# pyspark logs every failed query's message to stderr as JSON, the values it choked on included: the gate
# reports the error itself, withheld when it may quote data (engine_errors), so these stay silent.
_QUERY_CONTEXT_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
_VIEWS = itertools.count(1)
# The Parquet names `--data` reads (compiler.gates.io.inputs, which imports this module through servers).
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_TAGS = itertools.count(1)

# Spark's type names -> the DuckDB type names the gates compare logical types with.
_TYPES = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    # Spark's TIMESTAMP is an instant (shown in the session's time zone, UTC here); TIMESTAMP_NTZ is local.
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
    "binary": "BLOB",
}


def spark_session() -> Any:
    """The standard environment's Spark session: the active one, else the builder's (never the spec's)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UnusableInput("reading a server with Spark needs pyspark", hint="pip install 'charter[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    session = SparkSession.builder.appName("charter-gate").config("spark.ui.showConsoleProgress", "false")
    started = session.getOrCreate()
    # Spark logs failed queries with their messages, which may quote the data: the gate reports them itself.
    if hasattr(started, "sparkContext") and not os.environ.get("SPARK_REMOTE"):
        started.sparkContext.setLogLevel("OFF")
    return started


class SparkEngine:
    """One source read through Spark SQL, shaped like `database.Database` for the gates."""

    def __init__(self, display: str, reader: Reader):
        self.dialect = SPARK
        self.display = display
        self.reader = reader
        self.view = f"charter_source_{next(_VIEWS)}"
        self.spark: Any = None
        self.bytes_received = 0

    @property
    def schema(self) -> str:
        return "global_temp"

    def connect(self) -> None:
        if self.spark is not None:
            return
        spark = spark_session()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        for name in _QUERY_CONTEXT_LOGGERS:
            logging.getLogger(name).disabled = True
        try:
            self.reader.frame(spark).createOrReplaceGlobalTempView(self.view)
        except UnusableInput:
            raise
        except spark_errors() as error:
            raise engine_error(self.display, error) from None
        self.spark = spark

    def close(self) -> None:
        if self.spark is not None:
            self.spark.catalog.dropGlobalTempView(self.view)
            self.spark = None

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, native: bool = False) -> db.Rows:
        """One query (DuckDB SQL unless `native`), within the statement timeout; its rows."""
        if params:
            raise UnusableInput(f"{self.display}: Spark queries take no parameters")
        text = sql if native else db.render(sql, SPARK)
        table = self._run(text, timeout_ms())
        return db.Rows([tuple(row.values()) for row in table.to_pylist()])

    def read_only_scalar(self, sql: str, timeout_ms: int) -> Any:
        """One value of a native query (a contract's `sql` rule), within `timeout_ms`."""
        rows = db.Rows([tuple(r.values()) for r in self._run(sql, timeout_ms).to_pylist()]).fetchone()
        return rows[0] if rows is not None and len(rows) == 1 else rows

    def batches(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of a DuckDB query in batches, streamed from Spark a partition at a time (bounded memory)."""
        self.connect()
        frame = self._frame(db.render(sql, SPARK))
        batch: list[tuple[Any, ...]] = []
        try:
            with _collected_sockets():
                for row in frame.toLocalIterator():
                    batch.append(tuple(row))
                    if len(batch) == db.FETCH_BATCH_ROWS:
                        self.bytes_received += _size(batch)
                        yield batch
                        batch = []
        except spark_errors() as error:
            raise engine_error(self.display, error) from None
        if batch:
            self.bytes_received += _size(batch)
            yield batch

    def columns(self, schema: str, table: str) -> dict[str, str]:
        """Column name -> DuckDB type name, in the table's order."""
        self.connect()
        fields = self.spark.table(f"{schema}.{table}").schema.fields
        return {field.name: duckdb_type(field.dataType.simpleString()) for field in fields}

    def input_digests(self, schema: str, table: str) -> dict[str, Any]:
        """The digest of a catalogue table's rows (files on this machine are digested by their bytes, as
        `--data` names them: compiler.gates.io.digests)."""
        return {"digest": self._row_digest()}

    def _row_digest(self) -> str:
        import hashlib

        sql = f"SELECT sha2(to_json(struct(*)), 256) AS h FROM {self.schema}.{self.view} ORDER BY 1"
        digest = hashlib.sha256()
        for (row_digest,) in self._run(sql, timeout_ms()).to_pylist():
            digest.update(f"{row_digest}\n".encode())
        return "sha256:" + digest.hexdigest()

    def _timed_out(self, timeout_ms: int) -> UnusableInput:
        return UnusableInput(
            f"{self.display}: the query took longer than {timeout_ms:,} ms and was cancelled",
            hint="raise CHARTER_GATE_STATEMENT_TIMEOUT_MS",
            code=TIMED_OUT,
        )

    def _frame(self, sql: str) -> Any:
        only_a_query(sql, "spark")
        try:
            return self.spark.sql(sql)
        except spark_errors() as error:
            raise engine_error(self.display, error) from None

    def _run(self, sql: str, timeout_ms: int) -> Any:
        """The query's result as an Arrow table, the query interrupted past `timeout_ms`."""
        self.connect()
        frame = self._frame(sql)
        tag = f"charter-{os.getpid()}-{next(_TAGS)}"
        done, interrupted = threading.Event(), threading.Event()
        cancel = _canceller(self.spark, tag)

        def watchdog() -> None:
            if done.wait(timeout_ms / 1000):
                return
            interrupted.set()
            # Again until the query returns: a job Spark had not started yet at the first call escapes it.
            while not done.is_set():
                cancel()
                done.wait(0.2)

        watcher = threading.Thread(target=watchdog, name=tag, daemon=True)
        watcher.start()
        try:
            with _collected_sockets():
                table = frame.toArrow()
        except spark_errors() as error:
            if interrupted.is_set():
                raise self._timed_out(timeout_ms) from None
            raise engine_error(self.display, error) from None
        finally:
            done.set()
            watcher.join()
            _release(self.spark, tag)
        if interrupted.is_set():
            raise self._timed_out(timeout_ms)
        self.bytes_received += int(table.nbytes)
        return table


@contextmanager
def _collected_sockets() -> Iterator[None]:
    """pyspark reads every result through a local socket it leaves for the garbage collector to close
    (a ResourceWarning each): they are collected here, where that warning is expected, not later elsewhere."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()


def _connected(spark: Any) -> bool:
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _canceller(spark: Any, tag: str) -> Callable[[], None]:
    """Start labelling this thread's jobs with `tag`; what cancels them.

    Spark Connect cancels by operation tag; a classic session by job group (its tags do not reach the jobs a
    result is served from), with `interruptOnCancel` so running tasks stop, not only the ones still queued."""
    if _connected(spark):
        spark.addTag(tag)
        return lambda: spark.interruptTag(tag)
    context = spark.sparkContext
    context.setJobGroup(tag, "charter gate", interruptOnCancel=True)
    return lambda: context.cancelJobGroup(tag)


def _release(spark: Any, tag: str) -> None:
    if _connected(spark):
        spark.removeTag(tag)
    else:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)


def spark_errors() -> tuple[type[BaseException], ...]:
    """What pyspark and py4j raise (they share no base class but Exception)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


def _size(batch: list[tuple[Any, ...]]) -> int:
    """Bytes a batch of rows holds as Arrow would: what crossed from Spark."""
    import pyarrow as pa

    if not batch:
        return 0
    columns = list(zip(*batch, strict=True))
    return int(sum(pa.array(list(column)).nbytes for column in columns))


def duckdb_type(spark_type: str) -> str:
    """A Spark type name (`decimal(10,2)`, `array<int>`) as the DuckDB type name the gates compare."""
    if spark_type.startswith("decimal("):
        return spark_type.upper()
    if spark_type.startswith("array<") and spark_type.endswith(">"):
        return duckdb_type(spark_type[6:-1]) + "[]"
    return _TYPES.get(spark_type, spark_type.upper())


class Reader:
    """How Spark reaches the rows: a DataFrame over them, and the files they are in (when they are files)."""

    def frame(self, spark: Any) -> Any:
        raise NotImplementedError

    def files(self) -> list[str]:
        return []


class CatalogueTable(Reader):
    def __init__(self, name: str):
        self.name = name

    def frame(self, spark: Any) -> Any:
        return spark.table(self.name)


class ParquetFiles(Reader):
    def __init__(self, paths: list[str]):
        self.paths = paths

    def frame(self, spark: Any) -> Any:
        return spark.read.parquet(*self.paths)

    def files(self) -> list[str]:
        return [p for p in self.paths if "://" not in p]


class DeltaTable(Reader):
    """A Delta table: Delta's Spark reader when the session has it, else the current version's files."""

    def __init__(self, location: str, display: str):
        self.location = location
        self.display = display
        self.active: list[str] | None = None

    def frame(self, spark: Any) -> Any:
        if _has_delta(spark):
            return spark.read.format("delta").load(self.location)
        return spark.read.parquet(*self.snapshot())

    def snapshot(self) -> list[str]:
        """The Parquet files of the table's current version, from its log."""
        if self.active is not None:
            return self.active
        try:
            import deltalake
        except ImportError:
            raise UnusableInput(
                f"{self.display}: reading Delta without delta-spark needs deltalake",
                hint="pip install 'charter[spark]'",
            ) from None
        try:
            table = deltalake.DeltaTable(self.location)
        except (deltalake.exceptions.DeltaError, OSError) as error:
            raise UnusableInput(f"{self.display}: not a Delta table ({type(error).__name__})") from None
        features = set(table.protocol().reader_features or ())
        unreadable = sorted(features & _UNREADABLE_FEATURES)
        if unreadable:
            raise UnusableInput(
                f"{self.display}: the Delta table uses {', '.join(unreadable)}, which only Delta's own reader honours",
                hint="run the gate on a Spark cluster with delta-spark (spark.sql.extensions includes Delta's)",
                code=DELTA_UNREADABLE,
            )
        self.active = [_local(uri) for uri in table.file_uris()]
        if not self.active:
            raise UnusableInput(f"{self.display}: the Delta table's current version has no files")
        return self.active

    def files(self) -> list[str]:
        return [p for p in self.snapshot() if "://" not in p]


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def _has_delta(spark: Any) -> bool:
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    return "delta" in extensions.lower()


def open_spark(
    server: Server, kind: str, display: str, root: Path, physical_name: str
) -> tuple[str, SparkEngine, tuple[str, ...]]:
    """A label, an engine over the server's table or files, and those files (none for a catalogue table)."""
    from compiler.gates.io import objectstore

    if kind in CATALOGUE_TYPES:
        name = catalogue_name(server, kind, physical_name)
        return f"{display} {name}", SparkEngine(display, CatalogueTable(name)), ()
    raw = server.path if kind == "local" else server.location
    if not isinstance(raw, str) or not raw:
        raise UnusableInput(f"{display}: the server has no `{'path' if kind == 'local' else 'location'}`")
    location = objectstore.parse_location(kind, raw)
    delta = server.text("format").lower() == "delta"
    if kind == "local":
        files = objectstore.list_local(root, location)  # refuses a path outside the project or through a link
        if not files:
            raise UnusableInput(f"{display} {raw}: no non-empty files there")
        base = str(root / location.base)
    else:
        base = raw.replace("s3://", "s3a://", 1)
        files = [base]
    if delta:
        reader: Reader = DeltaTable(base, f"{display} {raw}")
        shown: tuple[str, ...] = tuple(reader.files())
    else:
        parquet = [f for f in files if f.lower().endswith(PARQUET_SUFFIXES)] if kind == "local" else files
        if not parquet:
            raise UnusableInput(f"{display} {raw}: no Parquet files there", hint="Spark reads parquet or delta")
        reader, shown = ParquetFiles(parquet), tuple(parquet)
    return f"{display} {raw}", SparkEngine(display, reader), shown


def catalogue_name(server: Server, kind: str, physical_name: str) -> str:
    """`catalog.schema.table` (databricks) or `database.table` (hive), each part quoted for Spark."""
    parts = [p for p in physical_name.split(".") if p]
    if not parts or len(parts) > 3:
        raise UnusableInput(f"physicalName `{physical_name}`: expected `table`, `schema.table` or three parts")
    if len(parts) == 1:
        prefix = (server.catalog, server.schema) if kind == "databricks" else (server.database,)
        parts = [str(value) for value in prefix if value] + parts
    elif len(parts) == 2 and kind == "databricks" and server.catalog:
        parts = [str(server.catalog), *parts]
    return ".".join("`" + p.replace("`", "``") + "`" for p in parts)
