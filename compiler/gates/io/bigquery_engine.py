"""BigQuery: the data gate's checks rendered in BigQuery's dialect and run as one query job; only aggregates
come back. The eval and drift gates pull the few columns they need a page at a time (`servers.pull`).

Where and who, never from a spec's text alone:
- the project is the server entry's `project` (tables are its `dataset`'s); it must be the project the
  standard environment names (`GOOGLE_CLOUD_PROJECT`), so a pull request cannot send the job's credentials to
  bill or read another project;
- credentials only from Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, workload identity
  federation, the metadata server), resolved by google-auth;
- the API host is Google's; `BIGQUERY_EMULATOR_HOST` (the operator's environment, never the spec) points the
  client elsewhere (a local stand-in in tests).
BigQuery has no read-only session: every statement is parsed (`query_fence`), then BigQuery dry-runs it and
it runs only when BigQuery says it is one SELECT within `CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED`. The job
has a timeout (CHARTER_GATE_STATEMENT_TIMEOUT_MS), the byte cap when one is set, and Charter's labels.
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
from compiler.gates.io.query_fence import NOT_A_QUERY, only_a_query, timeout_ms

BIGQUERY = db.Dialect("bigquery", "google-cloud-bigquery", "bigquery")
PROJECT_MISMATCH = "CH789"
OVER_BYTES = "CH790"
LABELS = {"charter": "gate", "charter-gate": "data"}
_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIME": "TIME",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
    "BYTES": "BLOB",
    "JSON": "JSON",
    "NUMERIC": "DECIMAL(38,9)",
}


class BigQueryDatabase(db.Session):
    """Query jobs in one BigQuery project, shaped like `database.Database` for the gates; its connection is
    the BigQuery client."""

    def __init__(self, server: Server, display: str):
        super().__init__(server, BIGQUERY, display)

    def project(self) -> str:
        """The entry's project, when it is the one the environment's credentials are for (else CH789)."""
        project = self.server.text("project")
        pinned = os.environ.get("GOOGLE_CLOUD_PROJECT", "")
        if not project or pinned != project:
            raise UnusableInput(
                f"{self.display}: project `{project}` is not the project GOOGLE_CLOUD_PROJECT names "
                f"(`{pinned}`); not contacted",
                hint="the job's credentials are for GOOGLE_CLOUD_PROJECT: the server entry must name that project",
                code=PROJECT_MISMATCH,
            )
        return project

    def open(self) -> Any:
        project = self.project()
        try:
            import google.auth
            from google.cloud import bigquery
        except ImportError:
            raise UnusableInput(
                f"{self.display}: reading a BigQuery server needs google-cloud-bigquery",
                hint="pip install 'charter[bigquery]'",
            ) from None
        try:
            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery.readonly"])
        except google.auth.exceptions.DefaultCredentialsError as error:
            raise UnusableInput(
                f"{self.display}: no Application Default Credentials: {db._first_line(error)}",
                hint="set GOOGLE_APPLICATION_CREDENTIALS, or authenticate the job to Google Cloud (OIDC)",
            ) from None
        return bigquery.Client(project=project, credentials=credentials, location=self._location())

    def _location(self) -> str | None:
        location = self.server.location or self.server.region
        return location if isinstance(location, str) and location else None

    def job_config(self, *, dry_run: bool) -> Any:
        """The query job's settings: standard SQL, the timeout, the byte cap, Charter's labels."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            dry_run=dry_run, use_legacy_sql=False, use_query_cache=not dry_run, labels=dict(LABELS)
        )
        config.job_timeout_ms = timeout_ms()
        cap = maximum_bytes_billed()
        if cap is not None:
            config.maximum_bytes_billed = cap
        return config

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, native: bool = False) -> db.Rows:
        """One query (DuckDB SQL unless `native`); a BigQuery error is unusable input."""
        if params:
            raise UnusableInput(f"{self.display}: a BigQuery query takes no positional parameters here")
        text = sql if native else db.render(sql, BIGQUERY)
        return db.Rows([row for page in self._pages(text) for row in page])

    def read_only_scalar(self, sql: str, timeout_ms: int) -> Any:
        """One value of a native query (a contract's `sql` rule); the job's timeout bounds it."""
        row = self.execute(sql, native=True).fetchone()
        return row[0] if row is not None and len(row) == 1 else row

    def batches(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of a DuckDB query, a result page at a time."""
        yield from self._pages(db.render(sql, BIGQUERY))

    def _pages(self, text: str) -> Iterator[list[tuple[Any, ...]]]:
        from google.api_core import exceptions

        only_a_query(text, "bigquery")
        self.connect()
        try:
            self._dry_run(text)
            rows = self.connection.query_and_wait(
                text, job_config=self.job_config(dry_run=False), page_size=db.FETCH_BATCH_ROWS,
                wait_timeout=timeout_ms() / 1000,
            )  # fmt: skip
            for page in rows.pages:
                batch = [tuple(row.values()) for row in page]
                self.bytes_received += sum(len(repr(row)) for row in batch)
                yield batch
        except exceptions.GoogleAPIError as error:
            raise engine_error(self.display, error) from None

    def _dry_run(self, text: str) -> None:
        """BigQuery's own reading of the statement: one SELECT, within the byte cap, before anything runs."""
        job = self.connection.query(text, job_config=self.job_config(dry_run=True))
        if job.statement_type != "SELECT":
            raise UnusableInput(
                f"{self.display}: BigQuery reads the statement as {job.statement_type or 'unknown'}, not one "
                "SELECT; not run",
                code=NOT_A_QUERY,
            )
        cap = maximum_bytes_billed()
        processed = job.total_bytes_processed or 0
        if cap is not None and processed > cap:
            raise UnusableInput(
                f"{self.display}: the query would process {processed} bytes, over "
                f"CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED={cap}; not run",
                hint="raise CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED, or check a partition of the table",
                code=OVER_BYTES,
            )

    def columns(self, schema: str, table: str) -> dict[str, str]:
        rows = self.execute(
            "SELECT column_name, data_type "
            f"FROM {_identifier(schema)}.INFORMATION_SCHEMA.COLUMNS WHERE table_name = {_literal(table)} "
            "ORDER BY ordinal_position",
            native=True,
        ).fetchall()
        if not rows:
            raise UnusableInput(
                f"{self.display}: no table {schema}.{table}, or no permission to see it",
                hint="check the contract's physicalName and the server's `dataset`",
            )
        return {str(name): duckdb_type(str(kind)) for name, kind in rows}

    def input_digests(self, schema: str, table: str) -> dict[str, Any]:
        """The SHA-256 of each row's JSON, computed in BigQuery and sent back sorted; their SHA-256 here."""
        relation = f"{_identifier(schema)}.{_identifier(table)}"
        digest = hashlib.sha256()
        sql = f"SELECT TO_HEX(SHA256(TO_JSON_STRING(t))) AS h FROM {relation} AS t ORDER BY 1"
        for page in self._pages(sql):
            for (row_digest,) in page:
                digest.update(f"{row_digest}\n".encode())
        return {"digest": "sha256:" + digest.hexdigest()}


def maximum_bytes_billed() -> int | None:
    """CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED: the most a gate's query may bill; none when unset."""
    value = os.environ.get("CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED", "")
    if not value:
        return None
    if not value.isdigit():
        raise UnusableInput(f"CHARTER_BIGQUERY_MAXIMUM_BYTES_BILLED={value!r}: not a number of bytes")
    return int(value)


def _identifier(name: str) -> str:
    from sqlglot import exp

    return str(exp.to_identifier(name, quoted=True).sql(dialect="bigquery"))


def _literal(text: str) -> str:
    from sqlglot import exp

    return str(exp.Literal.string(text).sql(dialect="bigquery"))


def duckdb_type(kind: str) -> str:
    """A BigQuery INFORMATION_SCHEMA type as the DuckDB type name the gates compare logical types with."""
    base = kind.split("(", maxsplit=1)[0].strip().upper()
    if base in ("NUMERIC", "BIGNUMERIC") and "(" in kind:
        return "DECIMAL" + kind[kind.index("(") :].replace(" ", "")
    return _TYPES.get(base, base)
