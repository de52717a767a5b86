"""A local stand-in for BigQuery's REST API (jobs.insert for dry runs, jobs.query), for the real
google-cloud-bigquery client to talk to over HTTP on 127.0.0.1 (`BIGQUERY_EMULATOR_HOST`).

It answers a query by translating BigQuery's SQL back to DuckDB (sqlglot) and running it on a DuckDB database,
and returns the result as BigQuery's query-results JSON (schema, rows of `{"f": [{"v": ...}]}` cells, values
as strings). So the client parses a real response, and the driver's rows are what DuckDB computed. It proves
the driver's code path and the SQL it sends, not BigQuery's engine.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import duckdb
import sqlglot

_BQ_TYPES = {
    "BIGINT": "INT64",
    "INTEGER": "INT64",
    "HUGEINT": "INT64",
    "DOUBLE": "FLOAT64",
    "BOOLEAN": "BOOL",
    "DATE": "DATE",
}


@dataclass
class BigQuery:
    """The stand-in's address and what it received."""

    url: str
    con: duckdb.DuckDBPyConnection
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    bytes_processed: int = 1_000
    statement_type: str = "SELECT"


def _cell(value: Any) -> dict[str, Any]:
    if value is None:
        return {"v": None}
    if isinstance(value, bool):
        return {"v": "true" if value else "false"}
    return {"v": str(value)}


# DuckDB's column types as BigQuery's INFORMATION_SCHEMA names them.
_COLUMN_TYPES = {"VARCHAR": "STRING", "INTEGER": "INT64", "BIGINT": "INT64", "DOUBLE": "FLOAT64", "BOOLEAN": "BOOL"}
_COLUMNS = re.compile(
    r"^SELECT column_name, data_type FROM `([^`]+)`\.INFORMATION_SCHEMA\.COLUMNS WHERE table_name = '([^']+)'"
)


def _execute(state: BigQuery, query: str) -> duckdb.DuckDBPyConnection:
    """BigQuery's SQL run on DuckDB; a dataset's INFORMATION_SCHEMA.COLUMNS answered from DuckDB's catalogue."""
    columns = _COLUMNS.match(query)
    if columns is None:
        return state.con.execute(sqlglot.transpile(query, read="bigquery", write="duckdb")[0])
    state.con.execute(
        "CREATE OR REPLACE TEMP TABLE bq_columns AS SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [columns.group(1), columns.group(2)],
    )
    mapping = " ".join(f"WHEN '{duck}' THEN '{bq}'" for duck, bq in _COLUMN_TYPES.items())
    return state.con.execute(f"SELECT column_name, CASE data_type {mapping} ELSE data_type END FROM bq_columns")


def _results(state: BigQuery, body: dict[str, Any]) -> dict[str, Any]:
    cursor = _execute(state, body["query"])
    rows = cursor.fetchall()
    fields = [
        {"name": f"f{i}_", "type": _BQ_TYPES.get(str(kind).upper(), "STRING"), "mode": "NULLABLE"}
        for i, (_, kind, *_) in enumerate(cursor.description or [])
    ]
    return {
        "kind": "bigquery#queryResponse",
        "jobComplete": True,
        "jobReference": {"projectId": "p", "jobId": "charter-standin", "location": "EU"},
        "schema": {"fields": fields},
        "rows": [{"f": [_cell(value) for value in row]} for row in rows],
        "totalRows": str(len(rows)),
        "totalBytesProcessed": str(state.bytes_processed),
    }


def _dry_run(state: BigQuery, body: dict[str, Any]) -> dict[str, Any]:
    reference = body.get("jobReference", {})
    return {
        "kind": "bigquery#job",
        "id": f"{reference.get('projectId')}:{reference.get('jobId')}",
        "jobReference": reference,
        "configuration": body["configuration"],
        "status": {"state": "DONE"},
        "statistics": {
            "totalBytesProcessed": str(state.bytes_processed),
            "query": {"statementType": state.statement_type, "totalBytesProcessed": str(state.bytes_processed)},
        },
    }


@contextmanager
def bigquery(con: duckdb.DuckDBPyConnection) -> Iterator[BigQuery]:
    """Serve the stand-in on 127.0.0.1 until the block ends."""
    state = BigQuery("", con)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            state.requests.append((self.path.split("?")[0], body))
            if self.path.split("?")[0].endswith("/queries"):
                answer = _results(state, body)
            elif self.path.split("?")[0].endswith("/jobs") and body["configuration"].get("dryRun"):
                answer = _dry_run(state, body)
            else:
                self.send_error(404)
                return
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
