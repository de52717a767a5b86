"""`charter gate eval`: a model's predictions against its evaluation suite.

The predictions file (Parquet or CSV) holds one row per held-out example:

    y_true                 the observed label (or value, for regression)
    y_pred                 the predicted label (binary, multiclass, generation)
    y_score                binary: the score or probability of the positive class; ranking: the score
    query_id               ranking: the query a row's document answers (`y_true` is its graded relevance)
    y_prob_<class>         multiclass: the probability of each class
    prediction             regression: the predicted value (`y_pred` works too)
    <sensitive features>   every column the suite's fairness checks group by
    <slice features>       every column a slice of the suite filters on

Every metric the suite lists is computed (with scikit-learn's definitions),
overall, on its slice when it names one, and per group of every sensitive
feature; every fairness check with fairlearn's definitions (differences are
max - min over groups, ratios min / max; equalized odds takes the worse of
the true and false positive rates).

Decisions:
- Binary without `y_pred`: predictions are `y_score >= 0.5`, said in the report.
- A group smaller than the suite's `minGroupSize` refuses a verdict: the
  fairness checks on that feature get "no verdict" (their values are still
  reported, with every group's numbers), and the gate fails closed (exit 1).
  A model is not shown fair on a group too small to measure; the report
  names the groups, so the fix (more evaluation data, merged groups, or a
  reviewed change of minGroupSize) is a decision people make.
- A metric that does not exist on the data (ROC AUC with one class in
  y_true, a rate for a group with no positives) is "no verdict", not 0.
- Nulls in a sensitive feature form their own group, `(missing)`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import numpy as np

from compiler.core import markdown
from compiler.core.gate_report import GateReport
from compiler.core.gate_report import check as judged
from compiler.core.metrics import TASKS, gate_metrics
from compiler.core.models.suite import EvaluationSuite, MetricBound, Slice
from compiler.gates.data import contract_rules as rules
from compiler.gates.errors import UnusableInput
from compiler.gates.eval import scoring
from compiler.gates.eval import window as eval_window
from compiler.gates.eval.bounds import against, bounds_text, camel
from compiler.gates.eval.fairness_checks import fairness_checks
from compiler.gates.eval.load import EvalOptions, Feature, Loaded, Loader
from compiler.gates.io.digests import input_digests
from compiler.gates.io.inputs import canonical, connection, open_input
from compiler.gates.project import ProjectSpecs, bare
from compiler.reporters.gate import show

# What the gate computes per task: the metrics table's (compiler.core.metrics), defined once.
SUPPORTED = {task: gate_metrics(task) for task in TASKS}


def _server(project: ProjectSpecs, suite_name: str, options: EvalOptions) -> tuple[Any, str, str, str] | None:
    """With --server: the suite dataset contract's server, and the predictions table in it.

    `--table` names it (a contract table's name maps to its physicalName); by default the
    contract's only table.
    """
    if options.server is None:
        return None
    contract = project.suite_dataset(suite_name)
    if contract is None or contract.contract is None:
        raise UnusableInput(f"suite `{suite_name}` has no dataset contract that resolves")
    tables = {t.name: t.physical_name or t.name for t in rules.tables(contract.data)}
    if options.table is not None:
        physical = tables.get(options.table, options.table)
    elif len(tables) == 1:
        physical = next(iter(tables.values()))
    else:
        raise UnusableInput("the suite's dataset contract has several tables", hint="add --table")
    return contract.data, contract.contract.id, options.server, physical


def run(project: ProjectSpecs, options: EvalOptions) -> GateReport:
    model_spec, model = project.model(options.model)
    suite_spec, suite = project.suite_of(options.model)
    watched = eval_window.performance(model_spec.name, model) if options.production else None
    if watched is None:
        server = _server(project, suite_spec.name, options)
    else:
        server = None if options.predictions else eval_window.server(project, watched, options.server)
    # A production window filters with SQL of DuckDB's that not every engine parses alike: its rows are pulled.
    pushdown = options.pushdown and watched is None
    source = open_input(options.predictions, server, "predictions", reach=project.reach, pushdown=pushdown)
    task = model.spec.task
    report = GateReport(
        "eval",
        f"model `{model_spec.name}` {model.spec.version} ({task}) · suite `{suite_spec.name}` · {source.label}",
        subject={"model": model_spec.name, "version": model.spec.version, "task": task, "suite": suite_spec.name},
    )
    supported = SUPPORTED.get(task, frozenset())
    wanted: list[str] = [bound.metric for bound in suite.spec.metrics]
    with connection(options.memory_limit, options.threads, (source,)) as con:
        if watched is not None:
            now = options.now or datetime.datetime.now(datetime.UTC)
            source, described = eval_window.restrict(con, source, watched, now)
            report.subject["production"] = described
            report.headline += f" · production {described['from'][:10]} to {described['to'][:10]}"
        loader = Loader(con, source, model, suite, options)
        loaded = loader.load(set(wanted) & supported)
        digests = input_digests(source)  # while a table's session is open
    # A server naming its DVC file: the data version judged, as the data gate records it (compiler/gates/data/scan.py).
    version = {"dvc": source.version} if source.version else {}
    report.inputs.append(
        {
            "path": source.label,
            "files": list(source.files),
            "format": source.format,
            "rows": loaded.rows,
            **digests,
            **version,
        }
    )
    if loader.pushdown is not None:
        report.inputs[-1]["pushdown"] = loader.pushdown
    report.headline += f" · {loaded.rows:,} rows"
    report.notes.extend(loaded.notes)
    _judge(report, loaded, suite, supported)
    return report


# --- loading -----------------------------------------------------------------------------


# --- judging -------------------------------------------------------------------------------


def _judge(report: GateReport, loaded: Loaded, suite: EvaluationSuite, supported: frozenset[str]) -> None:
    body = suite.spec
    slices = {piece.name: piece for piece in body.slices}
    if loaded.data is not None:
        names = sorted({b.key for b in body.metrics if b.metric in supported})
        overall = loaded.data.grouped(np.zeros(loaded.positions, dtype=np.int32), 1, names)
        loaded.overall = {name: values[0] for name, values in overall.items()}
    metrics_out: list[dict[str, Any]] = []
    for index, bound in enumerate(body.metrics):
        judged_bound = _judge_bound(report, loaded, (index, bound), slices, supported)
        if judged_bound is not None:
            metrics_out.append(judged_bound)
    unsliced: list[str] = sorted({b.key for b in body.metrics if b.slice is None and b.metric in supported})
    fairness_out = fairness_checks(report, loaded, suite, unsliced)
    report.details.update(
        {
            "task": loaded.task,
            "rows": loaded.rows,
            "positiveLabel": loaded.positive,
            "minGroupSize": body.min_group_size,
            "metrics": metrics_out,
            "fairness": fairness_out,
            "slices": {
                name: {
                    "feature": piece.feature,
                    "values": list(piece.values),
                    "rows": loaded.count(_slice_mask(loaded.features[piece.feature], piece.values))
                    if piece.feature in loaded.features
                    else None,
                }
                for name, piece in slices.items()
            },
        }
    )
    if loaded.classes:
        report.details["classes"] = loaded.classes
    report.sections.extend(_markdown(report, loaded, suite))


def _judge_bound(
    report: GateReport,
    loaded: Loaded,
    numbered: tuple[int, MetricBound],
    slices: dict[str, Slice],
    supported: frozenset[str],
) -> dict[str, Any] | None:
    """One performance bound (the suite's `index`th) as a check, CH720; what the report's `metrics` shows of it."""
    index, bound = numbered
    label = bound.key + (f" on slice {bound.slice}" if bound.slice else "")
    check_id = f"metrics[{index}].{bound.metric}" + (f"@{bound.slice}" if bound.slice else "")
    expected = bounds_text(bound.min, bound.max)
    if bound.metric not in supported:
        message = f"charter gate eval cannot compute {bound.metric} for {loaded.task} yet"
        report.add(
            judged("CH720", check_id, label, "no-verdict", target=bound.metric, expected=expected, message=message)
        )
        return None
    subset_rows = loaded.rows
    mask = None
    if bound.slice is not None:
        piece = slices[bound.slice]
        feature = loaded.features.get(piece.feature)
        if feature is None:
            raise UnusableInput(f"slice {piece.name}: column `{bare(piece.feature)}` is not in the predictions")
        mask = _slice_mask(feature, piece.values)
        subset_rows = loaded.count(mask)
    value = _metric(loaded, bound.key, mask)
    status, message = against(value, bound.min, bound.max)
    if subset_rows == 0:
        status, message = "no-verdict", f"slice {bound.slice} has no rows"
    report.add(
        judged("CH720", check_id, label, status, target=bound.metric, value=value, expected=expected, message=message)
    )
    return {
        "metric": bound.metric,
        "slice": bound.slice,
        "rows": subset_rows,
        "value": value,
        "min": bound.min,
        "max": bound.max,
        "status": status,
    }


def _metric(loaded: Loaded, name: str, mask: scoring.Bools | None) -> float | None:
    if mask is None and name in loaded.overall:
        return loaded.overall[name]
    data = loaded.data
    assert data is not None
    if mask is not None:
        data = data.subset(mask)
    return data.metric(name)


def _slice_mask(feature: Feature, values: Sequence[Any]) -> scoring.Bools:
    wanted = {canonical(v) for v in values}
    codes = [i for i, label in enumerate(feature.labels) if label in wanted and feature.values[i] is not None]
    return np.isin(feature.codes, np.asarray(codes, dtype=np.int64))


def _markdown(report: GateReport, loaded: Loaded, suite: EvaluationSuite) -> list[str]:
    lines = [
        "### Performance",
        "",
        "| | Metric | Slice | Rows | Value | Bound |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    from compiler.reporters.gate import ICON

    for item in report.details["metrics"]:
        lines.append(
            f"| {ICON[item['status']]} | {item['metric']} | {markdown.text(item['slice'] or 'all')} | "
            f"{item['rows']:,} | "
            f"{_cell(item['value'])} | {bounds_text(item['min'], item['max'])} |"
        )
    lines.append("")
    for name, block in report.details["fairness"].items():
        lines += [f"### Groups of {markdown.code(name)}", ""]
        level = suite.spec.confidence.level if suite.spec.confidence is not None else None
        for check in block["checks"]:
            shown = f"; {level:.0%} interval [{', '.join(_cell(v) for v in check['interval'])}]" if level else ""
            lines.append(
                f"- {ICON[check['status']]} **{check['metric']}** = {_cell(check['value'])} "
                f"(bound {bounds_text(check['min'], check['max'])}{shown if 'interval' in check else ''})"
            )
        if block["smallGroups"]:
            small = markdown.text(", ".join(block["smallGroups"]))
            lines.append(f"- ⛔ below minGroupSize {suite.spec.min_group_size}: {small}")
        lines.append("")
        groups = block["groups"]
        if not groups:
            continue
        keys = [k for k in groups[0] if k not in ("group", "metrics")]
        metric_names = [m for m in groups[0].get("metrics", {}) if camel(m) not in keys]  # accuracy is both
        header = ["Group", *keys, *metric_names]
        lines += ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        for row in groups:
            cells = [str(row["group"]), *(_cell(row[k]) for k in keys)]
            cells += [_cell(row["metrics"][m]) for m in metric_names]
            lines.append("| " + " | ".join(markdown.text(c) for c in cells) + " |")
        lines.append("")
    return lines


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    return show(value)
