"""Fairness between the groups of a sensitive feature: each group's counts and rates (`GroupRates`), and each
fairness metric as fairlearn defines it between groups (differences max - min, ratios min / max).

`BETWEEN_GROUPS` is the implementation half of the fairness metrics' table (compiler.core.metrics.FAIRNESS,
which says which rates each compares); a test checks that every metric there has its implementation here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from compiler.core.metrics import FAIRNESS
from compiler.gates.eval.scoring import Binary, Codes, Floats, Ints, Multiclass, Regression, tally


@dataclass(frozen=True)
class GroupRates:
    """Per group of one sensitive feature: counts and the rates fairness metrics compare."""

    labels: list[str]
    count: Ints
    selected: Ints
    positives: Ints | None = None
    true_pos: Ints | None = None
    false_pos: Ints | None = None
    correct: Ints | None = None
    abs_error: Floats | None = None
    sq_error: Floats | None = None

    @property
    def selection_rate(self) -> Floats:
        return self.selected / np.maximum(self.count, 1)

    @property
    def negatives(self) -> Ints | None:
        return None if self.positives is None else self.count - self.positives

    def rate(self, name: str) -> list[float | None]:
        """A per-group rate; None where a group has no one to divide by."""
        if name == "selection_rate":
            return [s / n if n else None for s, n in zip(self.selected.tolist(), self.count.tolist(), strict=True)]
        if name == "true_positive_rate" and self.true_pos is not None and self.positives is not None:
            return [t / p if p else None for t, p in zip(self.true_pos.tolist(), self.positives.tolist(), strict=True)]
        if name == "false_positive_rate" and self.false_pos is not None and self.negatives is not None:
            return [f / m if m else None for f, m in zip(self.false_pos.tolist(), self.negatives.tolist(), strict=True)]
        if name == "accuracy" and self.correct is not None:
            return [c / n if n else None for c, n in zip(self.correct.tolist(), self.count.tolist(), strict=True)]
        if name == "mae" and self.abs_error is not None:
            return [e / n if n else None for e, n in zip(self.abs_error.tolist(), self.count.tolist(), strict=True)]
        if name == "rmse" and self.sq_error is not None:
            return [
                float(np.sqrt(e / n)) if n else None
                for e, n in zip(self.sq_error.tolist(), self.count.tolist(), strict=True)
            ]
        raise KeyError(name)


def binary_groups(codes: Codes, labels: list[str], data: Binary) -> GroupRates:
    assert data.pred is not None
    g = len(labels)
    cells = tally(codes * 4 + data.y.astype(np.int64) * 2 + data.pred, g * 4, data.weight).reshape(g, 4)
    tn, fp, fn, tp = cells[:, 0], cells[:, 1], cells[:, 2], cells[:, 3]
    return GroupRates(
        labels,
        count=cells.sum(axis=1),
        selected=fp + tp,
        positives=fn + tp,
        true_pos=tp,
        false_pos=fp,
        correct=tn + tp,
    )


def multiclass_groups(codes: Codes, labels: list[str], data: Multiclass, favourable: int | None) -> GroupRates:
    g = len(labels)
    count = tally(codes, g, data.weight)
    correct = tally(codes[data.y == data.pred], g, _kept(data.weight, data.y == data.pred))
    if favourable is None:
        selected = np.zeros(g, dtype=np.int64)
    else:
        chosen = data.pred == favourable
        selected = tally(codes[chosen], g, _kept(data.weight, chosen))
    return GroupRates(labels, count=count, selected=selected, correct=correct)


def _kept(weight: Ints | None, mask: npt.NDArray[np.bool_]) -> Ints | None:
    return None if weight is None else weight[mask]


def regression_groups(codes: Codes, labels: list[str], data: Regression) -> GroupRates:
    g = len(labels)
    error = data.y - data.pred
    return GroupRates(
        labels,
        count=np.bincount(codes, minlength=g),
        selected=np.zeros(g, dtype=np.int64),
        abs_error=np.bincount(codes, weights=np.abs(error), minlength=g).astype(np.float64),
        sq_error=np.bincount(codes, weights=error**2, minlength=g).astype(np.float64),
    )


def _spread(values: list[float | None]) -> tuple[float | None, float | None]:
    """(max - min, min / max) over the groups; None when a group's rate is undefined."""
    if not values or any(v is None for v in values):
        return None, None
    present = [float(v) for v in values if v is not None]
    high, low = max(present), min(present)
    return high - low, (low / high if high > 0 else None)


def _difference(rate: str) -> Callable[[GroupRates], float | None]:
    return lambda groups: _spread(groups.rate(rate))[0]


def _ratio(rate: str) -> Callable[[GroupRates], float | None]:
    return lambda groups: _spread(groups.rate(rate))[1]


def _equalized_odds_difference(groups: GroupRates) -> float | None:
    tpr, fpr = _spread(groups.rate("true_positive_rate"))[0], _spread(groups.rate("false_positive_rate"))[0]
    return None if tpr is None or fpr is None else max(tpr, fpr)


def _equalized_odds_ratio(groups: GroupRates) -> float | None:
    tpr, fpr = _spread(groups.rate("true_positive_rate"))[1], _spread(groups.rate("false_positive_rate"))[1]
    return None if tpr is None or fpr is None else min(tpr, fpr)


# fairlearn's between-groups definitions, by metric name.
BETWEEN_GROUPS: dict[str, Callable[[GroupRates], float | None]] = {
    "demographic_parity_difference": _difference("selection_rate"),
    "demographic_parity_ratio": _ratio("selection_rate"),
    "equalized_odds_difference": _equalized_odds_difference,
    "equalized_odds_ratio": _equalized_odds_ratio,
    "true_positive_rate_difference": _difference("true_positive_rate"),
    "false_positive_rate_difference": _difference("false_positive_rate"),
    "selection_rate_difference": _difference("selection_rate"),
    "mae_difference": _difference("mae"),
    "rmse_difference": _difference("rmse"),
}


def fairness_value(name: str, groups: GroupRates) -> float | None:
    """The metric between the groups; None when a group's rate is undefined. KeyError: not a fairness metric."""
    return BETWEEN_GROUPS[name](groups)


FAIRNESS_RATES: dict[str, tuple[str, ...]] = {name: info.rates for name, info in FAIRNESS.items()}
