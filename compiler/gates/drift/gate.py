"""`charter gate drift`: production traffic against the reference data, per watched column.

The watched columns are the monitored features, the model's prediction
column when `monitoring.drift.prediction` names one, and its label when both
samples have it (`label: true`, the default). Numbers get PSI, KS (statistic
and asymptotic p-value), Wasserstein, and chi-squared, Jensen-Shannon and
Hellinger over the PSI bins; categories (strings, booleans) get PSI,
chi-squared, total variation, Jensen-Shannon and Hellinger over their values.
Each column is judged by its `perFeature` method and threshold, else the
drift section's (see drift_verdict for which statistic each method reads).

A column compared over fewer than `minSampleSize` values on either side (rows
where a missing value is a bin of its own; present values for KS and
Wasserstein) gets the verdict "not enough data": a warning, never drift. A
numeric column whose current values are all missing has drifted under every
method. Chi-squared says when Cochran's rule fails (an expected count below 1,
or more than 20% below 5): its p-value is then approximate.

Drift on any column fails the gate (exit 1); with `driftShare`, the data set
drifts (and the gate fails) when at least that share of the judged columns
drifted, and a column's drift alone is a warning. The report says whether
retraining should be dispatched (`retrain.triggers.drift`, or the deprecated `retrainOnDrift`). See drift_stats for the
binning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compiler.core import markdown
from compiler.core.gate_report import GateReport, Status, check
from compiler.core.models.model import Drift, Model
from compiler.gates.data import contract_rules as rules
from compiler.gates.drift import histogram, measure, stats
from compiler.gates.drift import verdict as verdicts
from compiler.gates.errors import UnusableInput
from compiler.gates.io.digests import input_digests
from compiler.gates.io.inputs import Source, columns, connection, open_input, require_columns
from compiler.gates.project import ProjectSpecs, bare
from compiler.reporters.gate import ICON, show


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
    pushdown: bool = True
    """On a server that computes, count the categories there (`measure.counted_there`), and the current window's
    numeric bins (`histogram.counted_there`); False pulls every row."""


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
    features = list(dict.fromkeys([*(drift.features or model.spec.features), *filter(None, [drift.prediction])]))
    label = model.spec.label if drift.label else None
    reference = open_input(
        options.reference,
        _server(project, model, options.reference_server, "reference"),
        "reference",
        reach=project.reach,
        pushdown=options.pushdown,
    )
    current = open_input(
        options.current,
        _server(project, model, options.current_server, "current"),
        "current",
        reach=project.reach,
        pushdown=options.pushdown,
    )
    # `retrain.triggers.drift` (which proposes a candidate version), else the deprecated `retrainOnDrift`.
    retrains = monitoring.retrain.triggers.drift if monitoring.retrain is not None else monitoring.retrain_on_drift
    report = GateReport(
        "drift",
        f"model `{model_spec.name}` {model.spec.version} · {drift.method} threshold "
        f"{'per column' if drift.threshold is None else show(drift.threshold)} · "
        f"reference {reference.label} · current {current.label}",
        subject={
            "model": model_spec.name,
            "version": model.spec.version,
            "method": drift.method,
            "threshold": drift.threshold,
            "retrainOnDrift": retrains,
        },
    )
    logical = _logical_types(project, model_spec.name, [*features, *filter(None, [label])])
    results = _measure(report, options, (reference, current), (features, label), (logical, drift))
    judged_by = verdicts.rules(drift, [r["feature"] for r in results])
    for result in results:
        verdicts.decide(result, judged_by[result["feature"]], drift.min_sample_size)
    _record(report, results, retrain_on_drift=retrains, drift=drift)
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
    watched: tuple[list[str], str | None],
    judging: tuple[dict[str, str | None], Drift],
) -> list[dict[str, Any]]:
    """One result per watched column, its statistics computed inside DuckDB; the inputs' row counts on the report.

    `watched`: the columns both inputs must have, and the label, watched when both have it; `judging`: their
    logical types and the drift section (a column judged by its bins has them counted on the current server)."""
    reference, current = inputs
    features, label = watched
    logical, drift = judging
    results: list[dict[str, Any]] = []
    with connection(options.memory_limit, options.threads, inputs) as con:
        ref_columns = columns(con, reference)
        cur_columns = columns(con, current)
        wanted = {bare(name): "drift monitoring" for name in features}
        require_columns(ref_columns, wanted, reference)
        require_columns(cur_columns, wanted, current)
        report.inputs += [
            {"role": role, "path": source.label, "format": source.format, "rows": measure.rows(con, source)}
            | input_digests(source)
            for role, source in (("reference", reference), ("current", current))
        ]
        both = label is not None and bare(label) in ref_columns and bare(label) in cur_columns
        judged = [*features, *([label] if both and label is not None and label not in features else [])]
        methods = {bare(name): rule.method for name, rule in verdicts.rules(drift, judged).items()}
        numeric = {bare(name): measure.is_numeric(logical.get(name), ref_columns[bare(name)]) for name in judged}
        there = {c: measure.counted_there(numeric[c], ref_columns[c], cur_columns[c]) for c in numeric}
        binned = [
            bare(name)
            for name in judged
            if numeric[bare(name)]
            and histogram.counted_there(methods[bare(name)], current, cur_columns[bare(name)], logical.get(name))
        ]
        pulled = [c for c in numeric if not there[c]]
        ref_rows = measure.rows_source(con, reference, report.inputs[0], pulled, [])
        cur_rows = measure.rows_source(con, current, report.inputs[1], [c for c in pulled if c not in binned], binned)
        for name in judged:
            column = bare(name)
            # A binned column's current window is counted where it lives, not in the pulled copy.
            sources = (reference, current) if there[column] else (ref_rows, current if column in binned else cur_rows)
            result = _column(con, sources, column, (ref_columns[column], cur_columns[column]), options.bins,
                             logical.get(name), numeric=numeric[column], binned=column in binned)  # fmt: skip
            role = "label" if name == label else "feature"
            result.update({"feature": name, "column": column, "logicalType": logical.get(name), "role": role})
            results.append(result)
    return results


def _column(
    con: Any,
    sources: tuple[Source, Source],
    column: str,
    types: tuple[str, str],
    bins: int,
    logical: str | None,
    *,
    numeric: bool,
    binned: bool,
) -> dict[str, Any]:
    """One column's measurement: categories counted, a numeric column's bins counted on the current server
    (`binned`, the current read where it lives), or its values compared."""
    ref, cur = sources
    if not numeric:
        return measure.categorical(con, ref, cur, column)
    if binned:
        return histogram.numeric(con, ref, cur, column, reference_type=types[0], bins=bins, logical=logical)
    return measure.numeric(con, ref, cur, column, types=types, bins=bins, logical=logical)


def _record(report: GateReport, results: list[dict[str, Any]], *, retrain_on_drift: bool, drift: Drift) -> None:
    drifted = [r["feature"] for r in results if r["drift"]]
    unjudged = [r["feature"] for r in results if r["verdict"] == verdicts.NOT_ENOUGH]
    whole = verdicts.dataset(results, drift.drift_share)
    for r in results:
        status: Status = "warn" if r["verdict"] == verdicts.NOT_ENOUGH else ("pass" if not r["drift"] else "fail")
        if status == "fail" and drift.drift_share is not None:
            status = "warn"  # the data set's share decides
        report.add(
            check(
                "CH740",
                f"drift.{r['feature']}",
                f"`{r['feature']}` ({r['kind']})",
                status,
                target=r["feature"],
                value=r["statistic"],
                expected=r["rule"],
                message=r["explanation"],
            )
        )
    if drift.drift_share is not None:
        share, bound = whole["driftShare"], drift.drift_share
        report.add(
            check(
                "CH740",
                "drift.dataset",
                "data set (share of drifted columns)",
                "fail" if whole["datasetDrift"] else "pass",
                value=round(share, 6),
                expected=f"< {show(bound)}",
                message=f"{len(drifted)} of {len(results) - len(unjudged)} judged column(s) drifted",
            )
        )
    retrain = whole["datasetDrift"] and retrain_on_drift
    report.details.update(
        {
            "drift": whole["datasetDrift"],
            "driftedFeatures": drifted,
            "notEnoughData": unjudged,
            "retrain": retrain,
            "method": drift.method,
            "threshold": drift.threshold,
            **whole,
            "features": results,
        }
    )
    report.sections.extend(_markdown(results, whole, retrain, retrain_on_drift))
    if unjudged:
        report.sections.append(
            f"**Not enough data to judge {len(unjudged)} feature(s): {markdown.text(', '.join(unjudged))}** "
            "(see each feature's row counts); they are neither drift nor stable.\n"
        )


def _markdown(results: list[dict[str, Any]], whole: dict[str, Any], retrain: bool, retrain_on_drift: bool) -> list[str]:
    """A table of every watched column, then the largest shifts of those that drifted. Category names appear only
    as bins of the drifted columns."""
    lines = [
        "### Watched columns",
        "",
        "| | Column | Kind | Rows (ref. / current) | Judged by | Value | Rule | Verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        icon = ICON["fail" if r["drift"] else ("warn" if r["verdict"] == verdicts.NOT_ENOUGH else "pass")]
        ref_rows, cur_rows = r["sizes"]["rows"]
        role = "" if r.get("role", "feature") == "feature" else f" ({r['role']})"
        lines.append(
            f"| {icon} | {markdown.code(r['feature'])}{role} | {r['kind']} | {ref_rows:,} / {cur_rows:,} | "
            f"{r['statisticName']} | {_cell(r['statistic'])} | {r['rule']} | {r['verdict']} |"
        )
    lines.append("")
    drifted = [r for r in results if r["drift"]]
    names = markdown.text(", ".join(r["feature"] for r in drifted))
    share = whole["driftShareThreshold"]
    if share is not None:
        lines += [
            f"Drift share: {whole['driftShare']:.0%} of the judged columns drifted (the data set drifts at "
            f"{share:.0%}).",
            "",
        ]
    if whole["datasetDrift"]:
        action = (
            "retraining is dispatched"
            if retrain
            else "retraining is not automatic (neither `retrain.triggers.drift` nor `retrainOnDrift`)"
        )
        lines += [f"**Drift in {len(drifted)} feature(s): {names}**: {action}.", ""]
    elif drifted:
        lines += [f"Drift in {len(drifted)} column(s), {names}, below the data set's drift share: no retraining.", ""]
    else:
        lines += ["No feature drifted" + ("." if not retrain_on_drift else "; no retraining needed."), ""]
    for r in drifted:
        top = sorted(r["bins"], key=lambda b: -abs(float(b["current"]) - float(b["reference"])))[:5]
        lines += [f"Largest shifts in {markdown.code(r['feature'])}:", "", "| Bin | Reference | Current |"]
        lines += ["| --- | --- | --- |"]
        lines += [f"| {markdown.text(b['bin'])} | {b['reference']:.2%} | {b['current']:.2%} |" for b in top]
        lines.append("")
    return lines


def _cell(value: Any) -> str:
    return "n/a" if value is None else show(value)
