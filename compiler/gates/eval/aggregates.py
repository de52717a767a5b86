"""The eval gate's push-down: on a server that computes (PostgreSQL, Spark, Snowflake, BigQuery, Databricks),
the rows are grouped where they live and only counts come back.

A classification metric that derives from counts depends on each row only through its label, its prediction
and its groups: one `SELECT y_true, y_pred, <groups>, count(*) ... GROUP BY` returns every combination present
with the rows it stands for, a few hundred rows whatever the table's size. The loader codes those combinations
as it codes rows (labels and groups by their place in the sorted distinct values), and every metric is computed
by the same code as from rows, each position weighted by its count (`scoring.tally`): the counts are the same
integers, so the values are the same to the last digit.

What cannot come from counts pulls the rows into DuckDB as before (`NEEDS_ROWS`, one table, by metric). The
query is written in DuckDB's dialect and rendered by sqlglot for the server (`database.render`), through the
session the data gate uses: read-only, with its statement timeout.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from compiler.core.metrics import gate_metrics
from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import Source, pushed, query

__all__ = ["NEEDS_ROWS", "Pushed", "pushed", "rows_needed"]

_BINARY, _MULTICLASS = "binary-classification", "multiclass-classification"
ROWS_ALIAS = "charter_rows"

# What needs every row, by task: the metrics of these sets (and every metric of another task) pull the rows.
# Everything else of a classifier, and every fairness metric and confidence interval (they read the same
# per-group confusion counts), is computed from the pushed-down counts.
NEEDS_ROWS: dict[str, tuple[frozenset[str], str]] = {
    _BINARY: (gate_metrics(_BINARY, "score", "probability"), "every score (a sort, or a sum of logs)"),
    _MULTICLASS: (gate_metrics(_MULTICLASS, "probability"), "every probability (a sort, or a sum of logs)"),
}


def rows_needed(task: str, metrics: set[str]) -> str | None:
    """Why the suite's metrics need the rows themselves, or None when counts serve them all."""
    if task not in NEEDS_ROWS:
        return f"{task} metrics need every row"
    needs, what = NEEDS_ROWS[task]
    wanted = sorted(metrics & needs)
    return f"{', '.join(wanted)} need {what}" if wanted else None


class Pushed:
    """The loader's reads on a server: distinct values, and the rows grouped into counts."""

    def __init__(self, source: Source, con: duckdb.DuckDBPyConnection):
        self.source = source
        self.con = con
        self.codings: dict[str, list[Any]] = {}
        self.weight: np.ndarray[Any, np.dtype[np.int64]] | None = None

    def distinct(self, relation: str, expression: str, column: str, limit: int) -> list[Any]:
        """The distinct non-null values of `expression`, sorted here (a server's collation may sort text
        otherwise than DuckDB's byte order, and the order numbers the groups)."""
        # One query: at most `limit` + 1 values come back, enough to know there are too many.
        sql = f"SELECT DISTINCT {expression} AS v FROM {relation} WHERE {expression} IS NOT NULL LIMIT {limit + 1}"
        rows = query(self.con, sql, self.source).fetchall()
        if len(rows) > limit:
            raise UnusableInput(
                f"{self.source.label}: column `{column}` has more than {limit:,} distinct values; "
                f"at most {limit:,} groups or classes are supported"
            )
        return sorted(row[0] for row in rows)

    def code(self, expression: str, values: list[Any]) -> str:
        """The raw expression is grouped by; its values are coded here by their 1-based place in `values`."""
        self.codings[expression] = values
        return expression

    def fetch(self, relation: str, every: dict[str, str]) -> dict[str, np.ndarray[Any, Any]]:
        """One row per combination of the expressions' values, with its count; coded columns as the local
        read codes them (0 for NULL)."""
        # Plain aliases: a warehouse's column names are letters, digits and underscores (BigQuery's are).
        selected = ", ".join(f"{expr} AS c{i}" for i, expr in enumerate(every.values(), start=1))
        ordinals = ", ".join(str(i) for i in range(1, len(every) + 1))
        sql = f"SELECT {selected}, count(*) AS {ROWS_ALIAS} FROM {relation} GROUP BY {ordinals}"
        rows = query(self.con, sql, self.source).fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(every) + 1)]
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        for (alias, expr), values in zip(every.items(), columns, strict=False):
            dictionary = self.codings.get(expr)
            if dictionary is None:  # already a code (a binned group)
                arrays[alias] = np.asarray(values, dtype=np.int32)
                continue
            place = {value: i + 1 for i, value in enumerate(dictionary)}
            arrays[alias] = np.asarray([place.get(v, 0) if v is not None else 0 for v in values], dtype=np.int32)
        self.weight = np.asarray(columns[-1], dtype=np.int64)
        return arrays
