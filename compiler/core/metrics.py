"""What each metric means: the tasks it fits, its range, which way is better.

One table serves the models (allowed names), the resolver (metric fits the
task) and, later, the runtime gates (how to compute and compare).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

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


def _m(
    name: str, tasks: tuple[str, ...], higher: bool = True, low: float | None = 0.0, high: float | None = 1.0
) -> MetricInfo:
    return MetricInfo(name, tasks, higher, low, high)


PERFORMANCE: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        _m("accuracy", _CLASSIFICATION),
        _m("balanced_accuracy", _CLASSIFICATION),
        _m("precision", _BINARY),
        _m("recall", _BINARY),
        _m("f1", _BINARY),
        _m("roc_auc", _BINARY),
        _m("average_precision", _BINARY),
        _m("log_loss", _CLASSIFICATION, higher=False, high=None),
        _m("brier", _BINARY, higher=False),
        _m("f1_macro", _MULTI),
        _m("f1_weighted", _MULTI),
        _m("precision_macro", _MULTI),
        _m("recall_macro", _MULTI),
        _m("roc_auc_ovr", _MULTI),
        _m("rmse", ("regression",), higher=False, high=None),
        _m("mae", ("regression",), higher=False, high=None),
        _m("mape", ("regression",), higher=False, high=None),
        _m("r2", ("regression",), low=None),
        _m("ndcg", ("ranking",)),
        _m("map", ("ranking",)),
        _m("mrr", ("ranking",)),
        _m("bleu", ("generation",)),
        _m("rouge_l", ("generation",)),
        _m("exact_match", ("generation",)),
        _m("toxicity_rate", ("generation",), higher=False),
    )
}

FAIRNESS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("demographic_parity_difference", _CLASSIFICATION, False, kind="difference"),
        MetricInfo("demographic_parity_ratio", _CLASSIFICATION, True, kind="ratio"),
        MetricInfo("equalized_odds_difference", _BINARY, False, kind="difference"),
        MetricInfo("equalized_odds_ratio", _BINARY, True, kind="ratio"),
        MetricInfo("true_positive_rate_difference", _BINARY, False, kind="difference"),
        MetricInfo("false_positive_rate_difference", _BINARY, False, kind="difference"),
        MetricInfo("selection_rate_difference", _CLASSIFICATION, False, kind="difference"),
        MetricInfo("mae_difference", ("regression",), False, high=None, kind="difference"),
        MetricInfo("rmse_difference", ("regression",), False, high=None, kind="difference"),
    )
}

TASKS: tuple[str, ...] = get_args(Task)


def metrics_for(task: str) -> list[str]:
    return [name for name, info in PERFORMANCE.items() if task in info.tasks]


def fairness_metrics_for(task: str) -> list[str]:
    return [name for name, info in FAIRNESS.items() if task in info.tasks]
