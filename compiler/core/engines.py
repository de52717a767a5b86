"""Which engine reads a contract's server: shared by the gates (that read it) and the pipelines (that install it).

Spark reads catalogue tables (`databricks`: catalog and schema; `hive`: database) and files when the entry
says so: `format: delta` (nothing else here reads Delta), or `customProperties` with `engine: spark` on a
`local`, `s3`, `gcs` or `azure` server. A `databricks` entry naming a SQL warehouse (customProperties
`http_path`) is read through databricks-sql-connector instead (`compiler/gates/io/databricks_engine.py`).
"""

from __future__ import annotations

from typing import Any

SPARK_CATALOGUE_TYPES = ("databricks", "hive")
SPARK_FILE_TYPES = ("local", "s3", "gcs", "azure")


def reads_with_spark(server: dict[str, Any]) -> bool:
    """Whether this server's data is read by Spark."""
    kind = server.get("type")
    if reads_with_databricks_sql(server):
        return False
    if kind in SPARK_CATALOGUE_TYPES:
        return True
    if kind not in SPARK_FILE_TYPES:
        return False
    return str(server.get("format", "")).lower() == "delta" or custom_property(server, "engine") == "spark"


def reads_with_databricks_sql(server: dict[str, Any]) -> bool:
    """Whether this server is a Databricks SQL warehouse (its entry names the warehouse's `http_path`)."""
    return server.get("type") == "databricks" and custom_property(server, "http_path") is not None


def custom_property(server: dict[str, Any], name: str) -> str | None:
    """An ODCS `customProperties` entry's value (a string), if the server has it."""
    entries = server.get("customProperties")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("property") == name and isinstance(entry.get("value"), str):
            return str(entry["value"])
    return None
