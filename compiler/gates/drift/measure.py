"""The drift gate's measurement of one column in the reference and the current data, inside DuckDB: numbers
(dates and times as seconds) by their distributions' distance, categories by their shares.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from compiler.gates.drift import stats
from compiler.gates.drift import verdict as verdicts
from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import Source, pushed, query, quote

MAX_CATEGORIES = 100_000
_NUMERIC_LOGICAL = ("integer", "number", "date", "timestamp")
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
_TIME_TYPES = ("DATE", "TIMESTAMP")
# Column types every engine writes as the same text (CAST AS VARCHAR): their categories are counted where the
# rows live. Numbers need the sorted values (quantile bins, KS, Wasserstein, median) and come here, but for
# the current window's bins of a column judged by them (drift/histogram.py).
_COUNTED_THERE = ("VARCHAR", "BOOLEAN")


def rows(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    row = query(con, f"SELECT count(*) FROM {source.relation()}", source).fetchone()
    rows = int(row[0]) if row else 0
    if rows == 0:
        raise UnusableInput(f"{source.label}: no rows")
    return rows


def counted_there(numeric: bool, *types: str) -> bool:
    """Whether a server computes the column's statistics' inputs exactly: categories of text or booleans."""
    return not numeric and all(t.upper() in _COUNTED_THERE for t in types)


def rows_source(
    con: duckdb.DuckDBPyConnection, source: Source, shown: dict[str, Any], pulled: list[str], binned: list[str]
) -> Source:
    """The source the `pulled` columns, whose statistics need their values, are read from: on a server that
    computes, those columns' rows pulled into DuckDB (only those), said on the report's input (`shown`) with
    the numeric columns whose bins the server counted (`binned`, drift/histogram.py)."""
    if not pushed(source):
        return source
    import dataclasses

    from compiler.gates.io.servers import Table

    assert isinstance(source.backend, Table)
    shown["pushdown"] = (
        "category counts pushed down"
        + (f"; bins counted: {', '.join(binned)}" if binned else "")
        + (f"; values pulled: {', '.join(pulled)}" if pulled else "")
    )
    if not pulled:
        return source
    return dataclasses.replace(source, backend=source.backend.pulled(con, pulled))


def is_numeric(logical: str | None, data_type: str) -> bool:
    if logical is not None:
        return logical in _NUMERIC_LOGICAL
    upper = data_type.upper()
    return upper.startswith(NUMERIC_TYPES) or upper.startswith(_TIME_TYPES)


def _as_number(column: str, data_type: str, logical: str | None) -> str:
    """SQL: the column as a number; dates and times as seconds since 1970 (UTC)."""
    upper = data_type.upper()
    if upper.startswith(_TIME_TYPES):
        return f"epoch({quote(column)})"
    if upper.startswith("VARCHAR"):
        if logical in ("date", "timestamp"):
            return f"epoch(TRY_CAST({quote(column)} AS TIMESTAMPTZ))"
        return f"TRY_CAST({quote(column)} AS DOUBLE)"
    return f"CAST({quote(column)} AS DOUBLE)"


def values(
    con: duckdb.DuckDBPyConnection, source: Source, column: str, data_type: str, logical: str | None
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], int]:
    expression = _as_number(column, data_type, logical)
    counted = query(
        con,
        f"SELECT count(*) - count({quote(column)}), count({quote(column)}) - count({expression}) "
        f"FROM {source.relation()}",
        source,
    ).fetchone()
    assert counted is not None
    nulls, unparsable = int(counted[0]), int(counted[1])
    if unparsable:
        what = "dates or times" if logical in ("date", "timestamp") else "numbers"
        raise UnusableInput(f"{source.label}: column `{column}`: {unparsable:,} value(s) are not {what}")
    fetched = query(
        con, f"SELECT {expression} AS v FROM {source.relation()} WHERE {quote(column)} IS NOT NULL", source
    ).fetchnumpy()
    values = np.asarray(fetched["v"], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise UnusableInput(f"{source.label}: column `{column}` holds NaN or infinite values")
    return values, nulls


def numeric(
    con: duckdb.DuckDBPyConnection,
    reference: Source,
    current: Source,
    column: str,
    *,
    types: tuple[str, str],
    bins: int,
    logical: str | None,
) -> dict[str, Any]:
    ref_type, cur_type = types
    ref, ref_nulls = values(con, reference, column, ref_type, logical)
    cur, cur_nulls = values(con, current, column, cur_type, logical)
    if ref.size == 0:
        raise UnusableInput(f"{reference.label}: column `{column}` has no values to compare with")
    binned = stats.numeric_bins(ref, cur, ref_nulls, cur_nulls, bins)
    ks = stats.ks_statistic(ref, cur) if cur.size else None
    return {
        "kind": "numeric",
        **verdicts.distances(binned.reference, binned.current),
        "ks": ks,
        "ksPValue": None if ks is None else stats.ks_p_value(ks, ref.size, cur.size),
        "wasserstein": stats.wasserstein_normed(ref, cur) if cur.size else None,
        "sizes": {"rows": [int(ref.size) + ref_nulls, int(cur.size) + cur_nulls], "values": [ref.size, cur.size]},
        "reference": profile(ref, ref_nulls),
        "current": profile(cur, cur_nulls),
        "bins": bin_rows(binned.labels, binned.reference, binned.current),
    }


def profile(values: np.ndarray[Any, np.dtype[np.float64]], nulls: int) -> dict[str, Any]:
    if values.size == 0:
        return {"rows": nulls, "nulls": nulls}
    return {
        "rows": int(values.size) + nulls,
        "nulls": nulls,
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "median": float(np.median(values)),
        "max": float(values.max()),
    }


def _counts(con: duckdb.DuckDBPyConnection, source: Source, column: str) -> dict[str | None, int]:
    # approx_count_distinct is DuckDB's (and Spark's), not every server's: a server counts them exactly.
    distinct = "count(DISTINCT " if pushed(source) else "approx_count_distinct("
    approx = query(con, f"SELECT {distinct}{quote(column)}) FROM {source.relation()}", source).fetchone()
    if approx is not None and int(approx[0]) > MAX_CATEGORIES:
        raise UnusableInput(
            f"{source.label}: column `{column}` has about {int(approx[0]):,} distinct values; "
            "too many categories (is it a number the contract does not type?)"
        )
    rows = query(
        con,
        f"SELECT CAST({quote(column)} AS VARCHAR) AS v, count(*) FROM {source.relation()} GROUP BY v",
        source,
    ).fetchall()
    return {(None if value is None else str(value)): int(n) for value, n in rows}


def categorical(con: duckdb.DuckDBPyConnection, reference: Source, current: Source, column: str) -> dict[str, Any]:
    ref = _counts(con, reference, column)
    cur = _counts(con, current, column)
    keys = sorted({k for k in (*ref, *cur) if k is not None})
    if None in ref or None in cur:
        keys_all: list[str | None] = [*keys, None]
    else:
        keys_all = list(keys)
    ref_counts = np.asarray([ref.get(k, 0) for k in keys_all], dtype=np.int64)
    cur_counts = np.asarray([cur.get(k, 0) for k in keys_all], dtype=np.int64)
    labels = ["(missing)" if k is None else k for k in keys_all]
    new = [k for k in keys if k not in ref]
    rows = [int(ref_counts.sum()), int(cur_counts.sum())]
    present = [rows[0] - ref.get(None, 0), rows[1] - cur.get(None, 0)]
    return {
        "kind": "categorical",
        **verdicts.distances(ref_counts, cur_counts),
        "ks": None,
        "ksPValue": None,
        "wasserstein": None,
        "sizes": {"rows": rows, "values": present},
        "newCategories": new[:50],
        "bins": bin_rows(labels, ref_counts, cur_counts),
    }


def bin_rows(labels: list[str], ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    ref_total, cur_total = max(int(ref.sum()), 1), max(int(cur.sum()), 1)
    rows: list[dict[str, Any]] = [
        {"bin": label, "reference": int(r) / ref_total, "current": int(c) / cur_total}
        for label, r, c in zip(labels, ref.tolist(), cur.tolist(), strict=True)
    ]
    if len(rows) > 50:  # keep the largest shifts of a long list of categories
        rows = sorted(rows, key=lambda row: -abs(float(row["current"]) - float(row["reference"])))[:50]
    return rows
