"""The eval gate's fairness checks: each sensitive feature's groups, every fairness metric between them with its
bound, confidence interval and smallest group, and every group's numbers for the report.
"""

from __future__ import annotations

from typing import Any

from compiler.core.gate_report import GateReport
from compiler.core.gate_report import check as judged
from compiler.core.models.suite import EvaluationSuite, FairnessCheck
from compiler.gates.eval import confidence as eval_confidence
from compiler.gates.eval import fairness, scoring
from compiler.gates.eval.bounds import against, bounds_text, camel
from compiler.gates.eval.load import Feature, Loaded


def _groups(loaded: Loaded, feature: Feature) -> fairness.GroupRates | None:
    data = loaded.data
    if isinstance(data, scoring.Binary) and data.pred is not None:
        return fairness.binary_groups(feature.codes, feature.labels, data)
    if isinstance(data, scoring.Multiclass):
        return fairness.multiclass_groups(feature.codes, feature.labels, data, loaded.favourable)
    if isinstance(data, scoring.Regression):
        return fairness.regression_groups(feature.codes, feature.labels, data)
    return None


def fairness_checks(report: GateReport, loaded: Loaded, suite: EvaluationSuite, metrics: list[str]) -> dict[str, Any]:
    body = suite.spec
    sensitive = list(dict.fromkeys([c.group_key for c in body.fairness]))
    sensitive += [name for name in loaded.features if name not in sensitive and name not in _slice_features(suite)]
    out: dict[str, Any] = {}
    for name in sensitive:
        feature = loaded.features.get(name)
        if feature is None:
            continue
        groups = _groups(loaded, feature)
        if groups is None:
            continue
        small = [
            (label, int(n))
            for label, n in zip(groups.labels, groups.count.tolist(), strict=True)
            if n < body.min_group_size
        ]
        checks = [
            _fairness_check(report, loaded, suite, (index, check), (feature, groups, small))
            for index, check in enumerate(body.fairness)
            if check.group_key == name
        ]
        out[name] = {
            "column": feature.column,
            "groups": _group_rows(loaded, feature, groups, metrics),
            "smallGroups": [label for label, _ in small],
            "checks": checks,
        }
    return out


def _fairness_check(
    report: GateReport,
    loaded: Loaded,
    suite: EvaluationSuite,
    numbered: tuple[int, FairnessCheck],
    grouped: tuple[Feature, fairness.GroupRates, list[tuple[str, int]]],
) -> dict[str, Any]:
    """One fairness bound (the suite's `index`th) on its groups, as a check (CH721); what the report shows of it."""
    body = suite.spec
    index, check = numbered
    feature, groups, small = grouped
    value = fairness.fairness_value(check.metric, groups)
    status, message = against(value, check.min, check.max)
    found = _interval(loaded, feature, check.metric, body.confidence)
    decided = found and eval_confidence.verdict(value, (check.min, check.max), found, _confidence_level(body))
    if decided:
        status, message = decided
    if value is None:
        message = "undefined: " + _undefined_reason(check.metric, groups)
    if small:
        status = "no-verdict"
        shown = ", ".join(f"{label} ({n:,})" for label, n in small)
        message = f"no verdict: group(s) below minGroupSize {body.min_group_size}: {shown}"
    name = check.group_key
    rates = {
        rate: dict(zip(groups.labels, groups.rate(rate), strict=True)) for rate in fairness.FAIRNESS_RATES[check.metric]
    }
    interval = {"interval": list(found), "level": _confidence_level(body)} if found else {}
    report.add(
        judged(
            "CH721",
            f"fairness[{index}].{check.metric}@{name}",
            f"{check.metric} by {name}",
            status,
            target=name,
            value=value,
            expected=bounds_text(check.min, check.max),
            message=message,
            details={**interval, "rates": rates},
        )
    )
    shown_interval = {"interval": list(found)} if found else {}
    return {
        "metric": check.metric,
        "value": value,
        "min": check.min,
        "max": check.max,
        "status": status,
        **shown_interval,
    }


def _interval(loaded: Loaded, feature: Feature, metric: str, confidence: Any) -> tuple[float, float] | None:
    if confidence is None:
        return None
    return eval_confidence.interval(metric, loaded.data, feature.codes, feature.labels, loaded.favourable, confidence)


def _confidence_level(body: Any) -> float:
    """The confidence level of the suite, 0 without one."""
    return float(body.confidence.level) if body.confidence is not None else 0.0


def _slice_features(suite: EvaluationSuite) -> set[str]:
    sensitive = {c.sensitive_feature for c in suite.spec.fairness}
    return {piece.feature for piece in suite.spec.slices} - sensitive


def _undefined_reason(metric: str, groups: fairness.GroupRates) -> str:
    for rate in fairness.FAIRNESS_RATES[metric]:
        values = groups.rate(rate)
        empty = [label for label, v in zip(groups.labels, values, strict=True) if v is None]
        if empty:
            return f"{rate.replace('_', ' ')} has no denominator in group(s) {', '.join(empty)}"
        if metric.endswith("ratio") and max(v for v in values if v is not None) == 0:
            return f"every group's {rate.replace('_', ' ')} is 0"
    return "not enough data"


def _group_rows(
    loaded: Loaded, feature: Feature, groups: fairness.GroupRates, metrics: list[str]
) -> list[dict[str, Any]]:
    rates = ["selection_rate", "true_positive_rate", "false_positive_rate", "accuracy", "mae", "rmse"]
    columns: dict[str, list[float | None]] = {}
    for rate in rates:
        try:
            columns[rate] = groups.rate(rate)
        except KeyError:
            continue
    no_selection = isinstance(loaded.data, scoring.Multiclass) and loaded.favourable is None
    if isinstance(loaded.data, scoring.Regression) or no_selection:
        columns.pop("selection_rate", None)
    by_group: dict[str, list[float | None]] = {}
    if metrics and loaded.data is not None:
        by_group = loaded.data.grouped(feature.codes, len(groups.labels), metrics)
    rows = []
    for i, label in enumerate(groups.labels):
        row: dict[str, Any] = {"group": label, "count": int(groups.count[i])}
        if groups.positives is not None:
            row["positives"] = int(groups.positives[i])
            negatives = groups.negatives
            assert negatives is not None
            row["negatives"] = int(negatives[i])
        for rate, values in columns.items():
            row[camel(rate)] = values[i]
        if by_group:
            row["metrics"] = {m: by_group[m][i] for m in metrics}
        rows.append(row)
    return rows
