"""What each metric means: the tasks it fits, its range, which way is better.

One table serves the models (allowed names), the resolver (metric fits the
task) and the runtime gates: which metrics `charter gate eval` computes for
which task, from which input (predicted labels, scores or probabilities), and
which per-group rates each fairness metric compares. A metric the gate learns
to compute is one edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Task = Literal[
    "binary-classification",
    "multiclass-classification",
    "regression",
    "ranking",
    "generation",
]

PerformanceMetricName = Literal[
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
    "roc_auc_ovr",
    "rmse",
    "mae",
    "mape",
    "r2",
    "ndcg",
    "map",
    "mrr",
    "bleu",
    "rouge_l",
    "exact_match",
    "toxicity_rate",
]

FairnessMetricName = Literal[
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "true_positive_rate_difference",
    "false_positive_rate_difference",
    "selection_rate_difference",
    "mae_difference",
    "rmse_difference",
]

_CLASSIFICATION = ("binary-classification", "multiclass-classification")
_BINARY = ("binary-classification",)
_MULTI = ("multiclass-classification",)


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    tasks: tuple[str, ...]
    higher_is_better: bool
    low: float | None = 0.0
    high: float | None = 1.0
    kind: Literal["difference", "ratio", "performance"] = "performance"
    gate_tasks: tuple[str, ...] = ()
    """The tasks for which `charter gate eval` computes it (the others get no verdict)."""
    needs: Needs = "prediction"
    """What the gate computes it from: predicted labels, scores, or scores that are probabilities."""
    rates: tuple[str, ...] = ()
    """For a fairness metric: the per-group rates it compares."""


Needs = Literal["prediction", "score", "probability"]


def _m(
    name: str,
    tasks: tuple[str, ...],
    higher: bool = True,
    low: float | None = 0.0,
    high: float | None = 1.0,
    *,
    gate: bool = True,
    needs: Needs = "prediction",
) -> MetricInfo:
    return MetricInfo(name, tasks, higher, low, high, gate_tasks=tasks if gate else (), needs=needs)


def _f(name: str, tasks: tuple[str, ...], rates: tuple[str, ...], **options: Any) -> MetricInfo:
    kind: Literal["difference", "ratio"] = "ratio" if name.endswith("_ratio") else "difference"
    return MetricInfo(name, tasks, kind == "ratio", kind=kind, rates=rates, **options)


PERFORMANCE: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        _m("accuracy", _CLASSIFICATION),
        _m("balanced_accuracy", _CLASSIFICATION),
        _m("precision", _BINARY),
        _m("recall", _BINARY),
        _m("f1", _BINARY),
        _m("roc_auc", _BINARY, needs="score"),
        _m("average_precision", _BINARY, needs="score"),
        _m("log_loss", _CLASSIFICATION, higher=False, high=None, needs="probability"),
        _m("brier", _BINARY, higher=False, needs="probability"),
        _m("f1_macro", _MULTI),
        _m("f1_weighted", _MULTI),
        _m("precision_macro", _MULTI),
        _m("recall_macro", _MULTI),
        _m("roc_auc_ovr", _MULTI, needs="probability"),
        _m("rmse", ("regression",), higher=False, high=None),
        _m("mae", ("regression",), higher=False, high=None),
        _m("mape", ("regression",), higher=False, high=None),
        _m("r2", ("regression",), low=None),
        _m("ndcg", ("ranking",), needs="score"),
        _m("map", ("ranking",), needs="score"),
        _m("mrr", ("ranking",), needs="score"),
        _m("bleu", ("generation",)),
        _m("rouge_l", ("generation",)),
        _m("exact_match", ("generation",)),
        _m("toxicity_rate", ("generation",), higher=False, gate=False),
    )
}

FAIRNESS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        _f("demographic_parity_difference", _CLASSIFICATION, ("selection_rate",)),
        _f("demographic_parity_ratio", _CLASSIFICATION, ("selection_rate",)),
        _f("equalized_odds_difference", _BINARY, ("true_positive_rate", "false_positive_rate")),
        _f("equalized_odds_ratio", _BINARY, ("true_positive_rate", "false_positive_rate")),
        _f("true_positive_rate_difference", _BINARY, ("true_positive_rate",)),
        _f("false_positive_rate_difference", _BINARY, ("false_positive_rate",)),
        _f("selection_rate_difference", _CLASSIFICATION, ("selection_rate",)),
        _f("mae_difference", ("regression",), ("mae",), high=None),
        _f("rmse_difference", ("regression",), ("rmse",), high=None),
    )
}

TASKS: tuple[str, ...] = get_args(Task)


def metrics_for(task: str) -> list[str]:
    return [name for name, info in PERFORMANCE.items() if task in info.tasks]


def fairness_metrics_for(task: str) -> list[str]:
    return [name for name, info in FAIRNESS.items() if task in info.tasks]


def gate_metrics(task: str, *needs: Needs) -> frozenset[str]:
    """The performance metrics `charter gate eval` computes for `task` (only those computed from `needs`)."""
    return frozenset(
        name for name, info in PERFORMANCE.items() if task in info.gate_tasks and (not needs or info.needs in needs)
    )
