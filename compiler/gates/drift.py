"""`charter gate drift`: production traffic against the reference data, per monitored feature.

Numbers get PSI, the two-sample KS statistic and a chi-squared test over the
PSI bins; categories (strings, booleans) get PSI and chi-squared over their
values, and the total variation distance. The model's `monitoring.drift`
decides which one judges, against its threshold:

    psi    PSI > threshold                                   (numbers and categories)
    ks     KS statistic > threshold for numbers; for categories, where KS
           has no order to work with, the total variation distance, the same
           "largest gap in probability" on the same 0..1 scale
    chi2   p-value < threshold (the threshold is a significance level); when
           Cochran's rule fails (an expected count below 1, or more than 20%
           below 5) the verdict stands and says that the p-value is approximate

A feature compared over fewer than `minSampleSize` values on either side (rows
for PSI and chi2, where a missing value is a bin of its own; non-missing values
for KS) gets the verdict "not enough data": a warning, never drift. A numeric
feature whose current values are all missing has drifted under every method
(KS has no values to compare, PSI and chi2 see the missing bin).

Drift on any feature fails the gate (exit 1), and the report says whether
retraining should be dispatched (`retrainOnDrift`). See drift_stats for the
binning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from compiler.core import markdown
from compiler.core.models.model import Model
from compiler.gates import contract_rules as rules
from compiler.gates import drift_stats as stats
from compiler.gates.errors import UnusableInput
from compiler.gates.io import Source, columns, connection, open_input, query, quote, require_columns
from compiler.gates.project import ProjectSpecs, bare
from compiler.gates.report import ICON, GateReport, check, show

MAX_CATEGORIES = 100_000
_NUMERIC_LOGICAL = ("integer", "number", "date", "timestamp")
_NUMERIC_TYPES = (
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


@dataclass(frozen=True)
class DriftOptions:
    model: str
    reference: Sequence[str] = ()
    current: Sequence[str] = ()
    reference_server: str | None = None
    current_server: str | None = None
    bins: int = stats.DEFAULT_BINS
    memory_limit: str | None = None
    threads: int | None = None


def _server(project: ProjectSpecs, model: Model, server: str | None, role: str) -> tuple[Any, str, str, str] | None:
    """The contract and table a drift input is read from: the reference contract
    (monitoring.reference, else training) or the production traffic contract (data.production)."""
    if server is None:
        return None
    data = model.spec.data
    monitoring = model.spec.monitoring
    ref = (monitoring.reference if monitoring else None) or data.training if role == "reference" else data.production
    if ref is None:
        raise UnusableInput(
            "the model names no production traffic contract to read --server from",
            hint="add spec.data.production: {contract: ..., server: ...}",
        )
    spec = project.contract(ref.contract, ref.version)
    assert spec.contract is not None
    tables = rules.tables(spec.data)
    if len(tables) != 1:
        raise UnusableInput(f"contract `{spec.contract.id}` has {len(tables)} tables; drift reads one")
    return spec.data, spec.contract.id, server, tables[0].physical_name or tables[0].name


def run(project: ProjectSpecs, options: DriftOptions) -> GateReport:
    model_spec, model = project.model(options.model)
    monitoring = model.spec.monitoring
    if monitoring is None:
        raise UnusableInput(
            f"model `{model_spec.name}` has no `monitoring` section: nothing says which method and threshold apply",
            hint="add spec.monitoring.drift (method, threshold, features) to the model",
        )
    drift = monitoring.drift
    features = list(drift.features) or list(model.spec.features)
    reference = open_input(
        options.reference, _server(project, model, options.reference_server, "reference"), "reference"
    )
    current = open_input(options.current, _server(project, model, options.current_server, "current"), "current")
    report = GateReport(
        "drift",
        f"model `{model_spec.name}` {model.spec.version} · {drift.method} threshold {show(drift.threshold)} · "
        f"reference {reference.label} · current {current.label}",
        subject={
            "model": model_spec.name,
            "version": model.spec.version,
            "method": drift.method,
            "threshold": drift.threshold,
            "retrainOnDrift": monitoring.retrain_on_drift,
        },
    )
    logical = _logical_types(project, model_spec.name, features)
    results = _measure(report, options, (reference, current), features, logical)
    for result in results:
        _decide(result, drift.method, drift.threshold, drift.min_sample_size)
    _record(
        report, results, retrain_on_drift=monitoring.retrain_on_drift, method=drift.method, threshold=drift.threshold
    )
    return report


def _logical_types(project: ProjectSpecs, model: str, features: list[str]) -> dict[str, str | None]:
    """Each feature's ODCS logical type in the training contract, when the contract names it once."""
    contract_spec = project.training_contract(model)
    logical: dict[str, str | None] = {}
    if contract_spec is not None and contract_spec.contract is not None:
        for name in features:
            found = contract_spec.contract.find(name)
            logical[name] = found[0].logical_type if len(found) == 1 else None
    return logical


def _measure(
    report: GateReport,
    options: DriftOptions,
    inputs: tuple[Source, Source],
    features: list[str],
    logical: dict[str, str | None],
) -> list[dict[str, Any]]:
    """One result per feature, its statistic computed inside DuckDB; the inputs' row counts on the report."""
    reference, current = inputs
    results: list[dict[str, Any]] = []
    with connection(options.memory_limit, options.threads, inputs) as con:
        ref_columns = columns(con, reference)
        cur_columns = columns(con, current)
        wanted = {bare(name): "drift monitoring" for name in features}
        require_columns(ref_columns, wanted, reference)
        require_columns(cur_columns, wanted, current)
        report.inputs += [
            {"role": "reference", "path": reference.label, "format": reference.format, "rows": _rows(con, reference)},
            {"role": "current", "path": current.label, "format": current.format, "rows": _rows(con, current)},
        ]
        for name in features:
            column = bare(name)
            if _is_numeric(logical.get(name), ref_columns[column]):
                types = (ref_columns[column], cur_columns[column])
                result = _numeric(
                    con, reference, current, column, types=types, bins=options.bins, logical=logical.get(name)
                )
            else:
                result = _categorical(con, reference, current, column)
            result.update({"feature": name, "column": column, "logicalType": logical.get(name)})
            results.append(result)
    return results


def _record(
    report: GateReport, results: list[dict[str, Any]], *, retrain_on_drift: bool, method: str, threshold: float
) -> None:
    drifted = [r["feature"] for r in results if r["drift"]]
    unjudged = [r["feature"] for r in results if r["verdict"] == "not enough data"]
    for r in results:
        report.add(
            check(
                "CH740",
                f"drift.{r['feature']}",
                f"`{r['feature']}` ({r['kind']})",
                "fail" if r["drift"] else ("warn" if r["verdict"] == "not enough data" else "pass"),
                target=r["feature"],
                value=r["statistic"],
                expected=r["rule"],
                message=r["explanation"],
            )
        )
    retrain = bool(drifted) and retrain_on_drift
    report.details.update(
        {
            "drift": bool(drifted),
            "driftedFeatures": drifted,
            "notEnoughData": unjudged,
            "retrain": retrain,
            "method": method,
            "threshold": threshold,
            "features": results,
        }
    )
    report.sections.extend(_markdown(results, drifted, retrain, retrain_on_drift))
    if unjudged:
        report.sections.append(
            f"**Not enough data to judge {len(unjudged)} feature(s): {markdown.text(', '.join(unjudged))}** "
            "(see each feature's row counts); they are neither drift nor stable.\n"
        )


def _rows(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    row = query(con, f"SELECT count(*) FROM {source.relation()}", source).fetchone()
    rows = int(row[0]) if row else 0
    if rows == 0:
        raise UnusableInput(f"{source.label}: no rows")
    return rows


def _is_numeric(logical: str | None, data_type: str) -> bool:
    if logical is not None:
        return logical in _NUMERIC_LOGICAL
    upper = data_type.upper()
    return upper.startswith(_NUMERIC_TYPES) or upper.startswith(_TIME_TYPES)


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


def _values(
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


def _numeric(
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
    ref, ref_nulls = _values(con, reference, column, ref_type, logical)
    cur, cur_nulls = _values(con, current, column, cur_type, logical)
    if ref.size == 0:
        raise UnusableInput(f"{reference.label}: column `{column}` has no values to compare with")
    binned = stats.numeric_bins(ref, cur, ref_nulls, cur_nulls, bins)
    return {
        "kind": "numeric",
        "psi": stats.psi(binned.reference, binned.current),
        "ks": stats.ks_statistic(ref, cur) if cur.size else None,
        **_chi2(binned.reference, binned.current),
        "sizes": {"rows": [int(ref.size) + ref_nulls, int(cur.size) + cur_nulls], "values": [ref.size, cur.size]},
        "totalVariation": stats.total_variation(binned.reference, binned.current),
        "reference": _profile(ref, ref_nulls),
        "current": _profile(cur, cur_nulls),
        "bins": _bins(binned.labels, binned.reference, binned.current),
    }


def _profile(values: np.ndarray[Any, np.dtype[np.float64]], nulls: int) -> dict[str, Any]:
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
    approx = query(con, f"SELECT approx_count_distinct({quote(column)}) FROM {source.relation()}", source).fetchone()
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


def _categorical(con: duckdb.DuckDBPyConnection, reference: Source, current: Source, column: str) -> dict[str, Any]:
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
        "psi": stats.psi(ref_counts, cur_counts),
        "ks": None,
        **_chi2(ref_counts, cur_counts),
        "sizes": {"rows": rows, "values": present},
        "totalVariation": stats.total_variation(ref_counts, cur_counts),
        "newCategories": new[:50],
        "bins": _bins(labels, ref_counts, cur_counts),
    }


def _bins(labels: list[str], ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    ref_total, cur_total = max(int(ref.sum()), 1), max(int(cur.sum()), 1)
    rows: list[dict[str, Any]] = [
        {"bin": label, "reference": int(r) / ref_total, "current": int(c) / cur_total}
        for label, r, c in zip(labels, ref.tolist(), cur.tolist(), strict=True)
    ]
    if len(rows) > 50:  # keep the largest shifts of a long list of categories
        rows = sorted(rows, key=lambda row: -abs(float(row["current"]) - float(row["reference"])))[:50]
    return rows


def _chi2(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> dict[str, Any]:
    chi2, dof, p_value = stats.chi2_homogeneity(reference, current)
    small, cells, reliable = stats.small_expected_counts(reference, current)
    return {
        "chi2": chi2,
        "chi2Dof": dof,
        "chi2PValue": p_value,
        "chi2SmallExpected": small,
        "chi2Cells": cells,
        "chi2Reliable": reliable,
    }


def _judged_by(result: dict[str, Any], method: str, threshold: float) -> tuple[str, str, str]:
    """(the result's key of the statistic that decides, its name in the report, the rule it must meet)."""
    if method == "chi2":
        return "chi2PValue", "chi2 p-value", f"p ≥ {show(threshold)}"
    if method == "ks":
        if result["kind"] == "numeric":
            return "ks", "KS statistic", f"≤ {show(threshold)}"
        return "totalVariation", "total variation (KS for categories)", f"≤ {show(threshold)}"
    return "psi", "PSI", f"≤ {show(threshold)}"


def _decide(result: dict[str, Any], method: str, threshold: float, min_size: int) -> None:
    """The feature's verdict: drift, stable, or not enough data (fewer than `min_size` values on a side)."""
    key, name, rule = _judged_by(result, method, threshold)
    sizes = result["sizes"]
    compared = sizes["values"] if key == "ks" else sizes["rows"]
    result.update(statisticName=name, rule=rule, statistic=result[key], minSampleSize=min_size)
    reference, current = compared
    if min(sizes["rows"]) >= min_size and sizes["values"][0] and not sizes["values"][1]:
        result.update(drift=True, verdict="drift", explanation="drifted: every current value is missing")
        return
    if min(compared) < min_size:
        what = "values" if key == "ks" else "rows"
        result.update(
            drift=False,
            verdict="not enough data",
            explanation=f"not enough data: {reference:,} reference and {current:,} current {what}; "
            f"a verdict needs at least {min_size:,} on each side",
        )
        return
    value = float(result[key])
    drift = value < threshold if method == "chi2" else value > threshold
    result.update(drift=drift, verdict="drift" if drift else "stable")
    result["explanation"] = f"{'drifted' if drift else 'stable'}: {name} {show(value)}"
    if method == "chi2" and not result["chi2Reliable"]:
        result["explanation"] += (
            f"; the p-value is approximate: {result['chi2SmallExpected']:,} of {result['chi2Cells']:,} "
            "expected counts are below 5 (Cochran's rule)"
        )


def _markdown(results: list[dict[str, Any]], drifted: list[str], retrain: bool, retrain_on_drift: bool) -> list[str]:
    lines = [
        "### Features",
        "",
        "| | Feature | Kind | Rows (ref. / current) | PSI | KS | χ² p-value | Total variation | Judged by | Verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        icon = ICON["fail" if r["drift"] else ("warn" if r["verdict"] == "not enough data" else "pass")]
        ref_rows, cur_rows = r["sizes"]["rows"]
        lines.append(
            f"| {icon} | {markdown.code(r['feature'])} | {r['kind']} | {ref_rows:,} / {cur_rows:,} | "
            f"{_cell(r['psi'])} | {_cell(r['ks'])} | {_cell(r['chi2PValue'])} | {_cell(r['totalVariation'])} | "
            f"{r['statisticName']} {r['rule']} | {r['verdict']} |"
        )
    lines.append("")
    if drifted:
        action = (
            "retraining is dispatched (`retrainOnDrift: true`)"
            if retrain
            else "retraining is not automatic (`retrainOnDrift: false`)"
        )
        lines += [f"**Drift in {len(drifted)} feature(s): {markdown.text(', '.join(drifted))}**: {action}.", ""]
        for r in results:
            if not r["drift"]:
                continue
            top = sorted(r["bins"], key=lambda b: -abs(float(b["current"]) - float(b["reference"])))[:5]
            lines += [
                f"Largest shifts in {markdown.code(r['feature'])}:",
                "",
                "| Bin | Reference | Current |",
                "| --- | --- | --- |",
            ]
            lines += [f"| {markdown.text(b['bin'])} | {b['reference']:.2%} | {b['current']:.2%} |" for b in top]
            lines.append("")
    else:
        lines += ["No feature drifted" + ("." if not retrain_on_drift else "; no retraining needed."), ""]
    return lines


def _cell(value: Any) -> str:
    return "n/a" if value is None else show(value)
