"""Which engine reads a contract's server: shared by the gates (that read it) and the pipelines (that install it).

Spark reads catalogue tables (`databricks`: catalog and schema; `hive`: database) and files when the entry
says so: `format: delta` (nothing else here reads Delta), or `customProperties` with `engine: spark` on a
`local`, `s3`, `gcs` or `azure` server. A `databricks` entry naming a SQL warehouse (customProperties
`http_path`) is read through databricks-sql-connector instead (`compiler/gates/io/databricks_engine.py`).
"""

from __future__ import annotations

from compiler.core.odcs import Server

SPARK_CATALOGUE_TYPES = ("databricks", "hive")
SPARK_FILE_TYPES = ("local", "s3", "gcs", "azure")


def reads_with_spark(server: Server) -> bool:
    """Whether this server's data is read by Spark."""
    kind = server.kind
    if reads_with_databricks_sql(server):
        return False
    if kind in SPARK_CATALOGUE_TYPES:
        return True
    if kind not in SPARK_FILE_TYPES:
        return False
    return server.text("format").lower() == "delta" or server.engine == "spark"


def reads_with_databricks_sql(server: Server) -> bool:
    """Whether this server is a Databricks SQL warehouse (its entry names the warehouse's `http_path`)."""
    return server.kind == "databricks" and server.custom("http_path") is not None
