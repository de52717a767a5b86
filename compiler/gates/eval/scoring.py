"""Performance and fairness metrics, vectorised with NumPy.

Every value equals scikit-learn's and fairlearn's on the same data (the tests
compare them to 1e-9); where those libraries would raise, or quietly return a
number for a quantity that does not exist (ROC AUC with one class in y_true),
the value here is None: undefined, which a gate reports as "no verdict".

Every metric is computed for all groups of a sensitive feature at once
(bincounts over group codes; the overall value is the one-group case), and
scores are sorted once: AUC and average precision per group reuse that order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.core.metrics import gate_metrics
from compiler.gates.eval import auc
from compiler.gates.eval.auc import ranking_by_group

_BINARY, _MULTICLASS = "binary-classification", "multiclass-classification"

# The array types of every metric here (load, ranking and fairness name them through this module).
Floats = auc.Floats
Ints = auc.Ints
Codes = auc.Codes
Labels = auc.Labels
Bools = npt.NDArray[np.bool_]

_EPS = float(np.finfo(np.float64).eps)


def _one_group(n: int) -> Ints:
    return np.zeros(n, dtype=np.int64)


def _per_group(total: npt.NDArray[Any], count: Ints) -> list[float | None]:
    return [float(t) / int(c) if c else None for t, c in zip(total.tolist(), count.tolist(), strict=True)]


def tally(index: npt.NDArray[np.integer[Any]], minlength: int, weight: Ints | None) -> Ints:
    """How many rows fall on each index: one per row, or each position's `weight` rows when the engine sent
    counts (push-down: one position per combination of codes). Exact: the counts are integers below 2**53."""
    if weight is None:
        return np.bincount(index, minlength=minlength)
    return np.bincount(index, weights=weight, minlength=minlength).astype(np.int64)


def _ratio(part: int, whole: int) -> float:
    """scikit-learn's zero_division default: 0 when the denominator is 0."""
    return part / whole if whole else 0.0


# --- binary classification --------------------------------------------------------


def _balanced_accuracy(tn: int, fp: int, fn: int, tp: int) -> float:
    """The mean recall of the classes present in y_true."""
    recalls = [r for r, has in ((_ratio(tp, tp + fn), tp + fn), (_ratio(tn, tn + fp), tn + fp)) if has]
    return float(np.mean(recalls))


# From predicted labels: each metric from one group's confusion counts (tn, fp, fn, tp).
FROM_CONFUSION: dict[str, Callable[[int, int, int, int], float]] = {
    "accuracy": lambda tn, fp, fn, tp: (tn + tp) / (tn + fp + fn + tp),
    "balanced_accuracy": _balanced_accuracy,
    "precision": lambda tn, fp, fn, tp: _ratio(tp, tp + fp),
    "recall": lambda tn, fp, fn, tp: _ratio(tp, tp + fn),
    "f1": lambda tn, fp, fn, tp: _ratio(2 * tp, 2 * tp + fp + fn),
}


@dataclass
class Binary:
    """y (0/1), predictions (0/1), scores (or None); `weight`: the rows each position stands for (counts pushed
    down to the engine), None when each position is one row."""

    y: Labels
    pred: Labels | None
    score: Floats | None
    weight: Ints | None = None
    _order: Ints | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.y.size)

    def order(self) -> Ints:
        """The rows by score, ascending; sorted once, shared by every group."""
        if self._order is None:
            assert self.score is not None
            self._order = np.argsort(self.score, kind="stable")
        return self._order

    def subset(self, mask: Bools) -> Binary:
        return Binary(
            self.y[mask],
            self.pred[mask] if self.pred is not None else None,
            self.score[mask] if self.score is not None else None,
            self.weight[mask] if self.weight is not None else None,
        )

    def metric(self, name: str) -> float | None:
        return self.grouped(_one_group(self.n), 1, [name])[name][0]

    def grouped(self, codes: Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        """Each metric for each group (codes 0..groups-1) in a few vectorised passes."""
        unknown = [name for name in names if name not in BINARY_METRICS]
        if unknown:
            raise KeyError(unknown[0])
        confusion: list[tuple[int, int, int, int]] = []
        if set(names) & BINARY_NEEDS_PRED:
            assert self.pred is not None
            cells = tally(codes * 4 + self.y.astype(np.int64) * 2 + self.pred, groups * 4, self.weight)
            confusion = [(int(a), int(b), int(c), int(d)) for a, b, c, d in cells.reshape(groups, 4)]
        scored = _Scored(self, codes, groups)
        out: dict[str, list[float | None]] = {}
        for name in names:  # a metric of neither table is a KeyError, never another metric's value
            if name in FROM_CONFUSION:
                out[name] = [FROM_CONFUSION[name](*c) if sum(c) else None for c in confusion]
            else:
                out[name] = FROM_SCORES[name](scored)
        return out


@dataclass
class _Scored:
    """One grouping of a binary model's scores; AUC and average precision come from one pass."""

    data: Binary
    codes: Codes
    groups: int

    @property
    def score(self) -> Floats:
        assert self.data.score is not None
        return self.data.score

    @functools.cached_property
    def count(self) -> Ints:
        return np.bincount(self.codes, minlength=self.groups)

    @functools.cached_property
    def ranked(self) -> tuple[list[float | None], list[float | None]]:
        return ranking_by_group(self.score, self.data.y, self.codes, self.groups, self.data.order())


def _brier(scored: _Scored) -> list[float | None]:
    squared = (scored.data.y - scored.score) ** 2
    return _per_group(np.bincount(scored.codes, weights=squared, minlength=scored.groups), scored.count)


def _binary_log_loss(scored: _Scored) -> list[float | None]:
    y, codes, groups, count = scored.data.y, scored.codes, scored.groups, scored.count
    positive = np.clip(scored.score, _EPS, 1 - _EPS)
    negative = np.clip(1 - scored.score, _EPS, 1 - _EPS)
    losses = np.where(y == 1, -np.log(positive), -np.log(negative))
    values = _per_group(np.bincount(codes, weights=losses, minlength=groups), count)
    positives = np.bincount(codes, weights=y, minlength=groups)
    # scikit-learn needs both classes in y_true
    return [v if 0 < p < n else None for v, p, n in zip(values, positives.tolist(), count.tolist(), strict=True)]


# From scores (or probabilities): each metric for every group at once.
FROM_SCORES: dict[str, Callable[[_Scored], list[float | None]]] = {
    "roc_auc": lambda scored: scored.ranked[0],
    "average_precision": lambda scored: scored.ranked[1],
    "brier": _brier,
    "log_loss": _binary_log_loss,
}


# What is computed, and from what, is the metrics table's (compiler.core.metrics): defined once.
BINARY_NEEDS_PRED = gate_metrics(_BINARY, "prediction")
BINARY_NEEDS_SCORE = gate_metrics(_BINARY, "score", "probability")
BINARY_NEEDS_PROBABILITY = gate_metrics(_BINARY, "probability")
BINARY_METRICS = gate_metrics(_BINARY)


# --- multiclass classification ------------------------------------------------------


@dataclass
class Multiclass:
    """y and predictions as class indices 0..k-1; probabilities (n, k) when needed."""

    y: Ints
    pred: Ints
    k: int
    prob: Floats | None = None
    weight: Ints | None = None
    """The rows each position stands for, as `Binary.weight`."""
    _orders: dict[int, Ints] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.y.size)

    def order(self, c: int) -> Ints:
        if c not in self._orders:
            assert self.prob is not None
            self._orders[c] = np.argsort(self.prob[:, c], kind="stable")
        return self._orders[c]

    def subset(self, mask: Bools) -> Multiclass:
        return Multiclass(
            self.y[mask],
            self.pred[mask],
            self.k,
            self.prob[mask] if self.prob is not None else None,
            self.weight[mask] if self.weight is not None else None,
        )

    def metric(self, name: str) -> float | None:
        return self.grouped(_one_group(self.n), 1, [name])[name][0]

    def grouped(self, codes: Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        counts = _ClassCounts.of(self, codes, groups)
        out: dict[str, list[float | None]] = {}
        for name in names:  # a metric of neither table is a KeyError, never another metric's value
            if name in FROM_CLASS_COUNTS:
                per_group = FROM_CLASS_COUNTS[name]
                out[name] = [per_group(counts, g) if counts.count[g] else None for g in range(groups)]
            else:
                out[name] = FROM_PROBABILITIES[name](self, codes, counts)
        return out


@dataclass(frozen=True)
class _ClassCounts:
    """Per group (rows) and class (columns): scikit-learn's counts and per-class rates."""

    groups: int
    true_count: Ints
    tp: Ints
    count: Ints
    seen: Bools  # scikit-learn's labels: in y_true or y_pred
    has: Bools  # in y_true
    precision: Floats
    recall: Floats
    f1: Floats

    @staticmethod
    def of(data: Multiclass, codes: Codes, groups: int) -> _ClassCounts:
        k = data.k
        cells = tally((codes * k + data.y) * k + data.pred, groups * k * k, data.weight).reshape(groups, k, k)
        true_count = cells.sum(axis=2)
        pred_count = cells.sum(axis=1)
        tp = np.diagonal(cells, axis1=1, axis2=2)
        denominator = true_count + pred_count
        return _ClassCounts(
            groups,
            true_count,
            tp,
            true_count.sum(axis=1),
            seen=denominator > 0,
            has=true_count > 0,
            precision=np.divide(tp, pred_count, out=np.zeros(tp.shape), where=pred_count > 0),
            recall=np.divide(tp, true_count, out=np.zeros(tp.shape), where=true_count > 0),
            f1=np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0),
        )


# From predicted classes: each metric of one group (g) with at least one row.
FROM_CLASS_COUNTS: dict[str, Callable[[_ClassCounts, int], float]] = {
    "accuracy": lambda c, g: float(c.tp[g].sum() / c.count[g]),
    "balanced_accuracy": lambda c, g: float(np.mean(c.recall[g][c.has[g]])),
    "precision_macro": lambda c, g: float(np.mean(c.precision[g][c.seen[g]])),
    "recall_macro": lambda c, g: float(np.mean(c.recall[g][c.seen[g]])),
    "f1_macro": lambda c, g: float(np.mean(c.f1[g][c.seen[g]])),
    "f1_weighted": lambda c, g: float(np.sum(c.f1[g] * c.true_count[g]) / c.true_count[g].sum()),
}


def _multiclass_log_loss(data: Multiclass, codes: Codes, counts: _ClassCounts) -> list[float | None]:
    assert data.prob is not None
    picked = np.clip(data.prob[np.arange(data.n), data.y], _EPS, 1 - _EPS)
    losses = _per_group(np.bincount(codes, weights=-np.log(picked), minlength=counts.groups), counts.count)
    return [v if np.count_nonzero(counts.has[g]) >= 2 else None for g, v in enumerate(losses)]


def _roc_auc_ovr(data: Multiclass, codes: Codes, counts: _ClassCounts) -> list[float | None]:
    assert data.prob is not None
    groups, has = counts.groups, counts.has
    per_class = [
        ranking_by_group(data.prob[:, c], (data.y == c).astype(np.int8), codes, groups, data.order(c))[0]
        if np.any(has[:, c])
        else [None] * groups
        for c in range(data.k)
    ]
    macro: list[float | None] = []
    for g in range(groups):
        present = [c for c in range(data.k) if has[g, c]]
        areas = [per_class[c][g] for c in present]
        ok = len(present) >= 2 and all(a is not None for a in areas)
        macro.append(float(np.mean([a for a in areas if a is not None])) if ok else None)
    return macro


# From class probabilities: each metric for every group at once.
FROM_PROBABILITIES: dict[str, Callable[[Multiclass, Codes, _ClassCounts], list[float | None]]] = {
    "log_loss": _multiclass_log_loss,
    "roc_auc_ovr": _roc_auc_ovr,
}


MULTICLASS_NEEDS_PROBABILITY = gate_metrics(_MULTICLASS, "probability")


# --- regression -------------------------------------------------------------------------


@dataclass
class Regression:
    y: Floats
    pred: Floats

    @property
    def n(self) -> int:
        return int(self.y.size)

    def subset(self, mask: Bools) -> Regression:
        return Regression(self.y[mask], self.pred[mask])

    def metric(self, name: str) -> float | None:
        return self.grouped(_one_group(self.n), 1, [name])[name][0]

    def grouped(self, codes: Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        errors = _Errors(self.y, self.y - self.pred, codes, groups, np.bincount(codes, minlength=groups))
        return {name: FROM_ERRORS[name](errors) for name in names}  # KeyError: not a regression metric


@dataclass(frozen=True)
class _Errors:
    y: Floats
    error: Floats  # y - prediction
    codes: Codes
    groups: int
    count: Ints

    def total(self, weights: Floats) -> Floats:
        """The weights summed per group (a weighted bincount is float64)."""
        return np.bincount(self.codes, weights=weights, minlength=self.groups).astype(np.float64, copy=False)


def _rmse(e: _Errors) -> list[float | None]:
    return [None if v is None else float(np.sqrt(v)) for v in _per_group(e.total(e.error**2), e.count)]


def _r2(e: _Errors) -> list[float | None]:
    mean = e.total(e.y) / np.maximum(e.count, 1)
    total = e.total((e.y - mean[e.codes]) ** 2)
    residual = e.total(e.error**2)
    values: list[float | None] = []
    for g in range(e.groups):
        if e.count[g] < 2:
            values.append(None)
        elif total[g] == 0:
            values.append(1.0 if residual[g] == 0 else 0.0)
        else:
            values.append(float(1 - residual[g] / total[g]))
    return values


# From the errors: each metric for every group at once.
FROM_ERRORS: dict[str, Callable[[_Errors], list[float | None]]] = {
    "rmse": _rmse,
    "mae": lambda e: _per_group(e.total(np.abs(e.error)), e.count),
    "mape": lambda e: _per_group(e.total(np.abs(e.error) / np.maximum(np.abs(e.y), _EPS)), e.count),
    "r2": _r2,
}
