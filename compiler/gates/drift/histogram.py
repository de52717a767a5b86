"""The drift gate's push-down of a numeric column's bins: on a server that computes, the current window's
column is counted into the reference's bins there, and only those counts come back.

PSI, chi-squared, Jensen-Shannon and Hellinger read a numeric column only through its counts per bin
(drift/stats.py): the edges are the reference's quantiles (the reference's values are read as before), and
the current window's counts are one aggregate query, each edge a cumulative count

    SELECT count(*) - count(x), sum(CASE WHEN NOT (x >= -max AND x <= max) THEN 1 ELSE 0 END),
           sum(CASE WHEN CAST(x AS DOUBLE) <= e1 THEN 1 ELSE 0 END), ..., count(x) FROM t

written in DuckDB's dialect and rendered by sqlglot for the server (`database.render`). A value v is in bin i
when e(i-1) < v <= e(i), as `numpy.searchsorted(edges, v, side="left")` places it locally (bins closed on
the right, the outer ones open-ended): bin i holds cumulative(i) - cumulative(i-1), the last count(x) -
cumulative(k). Nulls are counted as the local read counts them (count(*) - count(x)), and a NaN or infinite
value is refused as locally (NaN is above every number in PostgreSQL, Spark and DuckDB alike, so the finite
range test catches both). The counts are the integers the local run counts, and they go through the same
statistics code, so the values are equal to the last digit.

KS, its p-value and Wasserstein need the sorted values (and `auto` chooses one of those): such columns' values
are still pulled (`measure.numeric`). Dates, times and numbers stored as text are pulled too: their conversion
(epoch, TRY_CAST) is DuckDB's.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from compiler.gates.drift import measure, stats
from compiler.gates.drift import verdict as verdicts
from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import Source, pushed, query, quote

# The methods whose statistic of a numeric column is a function of its counts per bin.
BINNED = frozenset({"psi", "chi2", "jensenshannon", "hellinger"})
_PLAIN_NUMBERS = tuple(t for t in measure.NUMERIC_TYPES if t != "DECIMAL")
_LARGEST = "1.7976931348623157e308"


def counted_there(method: str, current: Source, data_type: str, logical: str | None) -> bool:
    """Whether the current window's bins of this numeric column are counted on its server.

    DECIMAL is left out: DuckDB converts a decimal to a double by dividing by a power of ten, a server by
    parsing its digits, and the two may differ in the last bit for a value on an edge."""
    return (
        method in BINNED
        and pushed(current)
        and logical not in ("date", "timestamp")
        and data_type.upper().startswith(_PLAIN_NUMBERS)
    )


def bins_sql(column: str, edges: np.ndarray[Any, np.dtype[np.float64]], relation: str) -> str:
    """The one aggregate query: nulls, values not finite, one cumulative count per edge, and present values."""
    x = f"CAST({quote(column)} AS DOUBLE)"
    finite = f"{x} >= CAST('-{_LARGEST}' AS DOUBLE) AND {x} <= CAST('{_LARGEST}' AS DOUBLE)"
    # repr() is the shortest text that parses back to the same double; CAST of that text is exact everywhere.
    cumulative = [
        f"sum(CASE WHEN {x} <= CAST('{float(edge)!r}' AS DOUBLE) THEN 1 ELSE 0 END) AS e{i}"
        for i, edge in enumerate(edges.tolist(), start=1)
    ]
    selected = ", ".join(
        [
            f"count(*) - count({quote(column)}) AS nulls",
            f"sum(CASE WHEN NOT ({finite}) THEN 1 ELSE 0 END) AS not_finite",
            *cumulative,
            f"count({quote(column)}) AS present",
        ]
    )
    return f"SELECT {selected} FROM {relation}"


def current_counts(
    con: duckdb.DuckDBPyConnection, source: Source, column: str, edges: np.ndarray[Any, np.dtype[np.float64]]
) -> tuple[stats.Counts, int]:
    """The current window's counts in the bins over `edges` (len(edges) + 1 of them), and its nulls."""
    row = query(con, bins_sql(column, edges, source.relation()), source).fetchone()
    assert row is not None
    counted = [int(n or 0) for n in row]  # sum() of no rows is NULL
    nulls, not_finite, present = counted[0], counted[1], counted[-1]
    if not_finite:
        raise UnusableInput(f"{source.label}: column `{column}` holds NaN or infinite values")
    cumulative = np.asarray([0, *counted[2:-1], present], dtype=np.int64)
    return np.diff(cumulative).astype(np.int64), nulls


def numeric(
    con: duckdb.DuckDBPyConnection,
    reference: Source,
    current: Source,
    column: str,
    *,
    reference_type: str,
    bins: int,
    logical: str | None,
) -> dict[str, Any]:
    """`measure.numeric`'s result for a column judged by its bins, the current window counted on its server:
    the statistics that need the current values (KS, Wasserstein, mean, median) are not computed (None)."""
    ref, ref_nulls = measure.values(con, reference, column, reference_type, logical)
    if ref.size == 0:
        raise UnusableInput(f"{reference.label}: column `{column}` has no values to compare with")
    edges = stats.quantile_edges(ref, bins)
    cur, cur_nulls = current_counts(con, current, column, edges)
    binned = stats.labelled(edges, stats.bin_counts(ref, edges), cur, ref_nulls, cur_nulls)
    present = int(cur.sum())
    return {
        "kind": "numeric",
        **verdicts.distances(binned.reference, binned.current),
        "ks": None,
        "ksPValue": None,
        "wasserstein": None,
        "sizes": {"rows": [int(ref.size) + ref_nulls, present + cur_nulls], "values": [ref.size, present]},
        "reference": measure.profile(ref, ref_nulls),
        "current": {"rows": present + cur_nulls, "nulls": cur_nulls},
        "bins": measure.bin_rows(binned.labels, binned.reference, binned.current),
    }
