"""Performance and fairness metrics, vectorised with NumPy.

Every value equals scikit-learn's and fairlearn's on the same data (the tests
compare them to 1e-9); where those libraries would raise, or quietly return a
number for a quantity that does not exist (ROC AUC with one class in y_true),
the value here is None: undefined, which a gate reports as "no verdict".

Scores are sorted once; a subset (a slice, a group) keeps that order, so AUC
and average precision per group cost no further sort.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.int8]

_EPS = float(np.finfo(np.float64).eps)


# --- ranking metrics on scores sorted ascending ---------------------------------


def _runs(sorted_scores: Floats) -> Ints:
    """Start index of each run of equal scores."""
    if sorted_scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]) + 1
    return np.concatenate((np.zeros(1, dtype=np.int64), change.astype(np.int64)))


def roc_auc_sorted(sorted_scores: Floats, sorted_labels: Labels) -> float | None:
    """Mann-Whitney U with mid-ranks for ties: the area under the ROC curve, exactly."""
    n = int(sorted_labels.size)
    positives = int(np.count_nonzero(sorted_labels))
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return None
    starts = _runs(sorted_scores)
    pos_in_run = np.add.reduceat(sorted_labels.astype(np.int64), starts)
    run_length = np.diff(np.append(starts, n))
    neg_in_run = run_length - pos_in_run
    neg_before = np.cumsum(neg_in_run) - neg_in_run
    twice_u = int(np.sum(pos_in_run * (2 * neg_before + neg_in_run)))
    return twice_u / (2.0 * positives * negatives)


def average_precision_sorted(sorted_scores: Floats, sorted_labels: Labels) -> float | None:
    """Sum over thresholds (distinct scores, high to low) of recall gained times precision."""
    n = int(sorted_labels.size)
    positives = int(np.count_nonzero(sorted_labels))
    if positives == 0:
        return None
    starts = _runs(sorted_scores)
    pos_in_run = np.add.reduceat(sorted_labels.astype(np.int64), starts)[::-1]
    run_length = np.diff(np.append(starts, n))[::-1]
    true_pos = np.cumsum(pos_in_run)
    predicted = np.cumsum(run_length)
    precision = true_pos / predicted
    recall = true_pos / positives
    gained = np.diff(np.concatenate(([0.0], recall)))
    return float(np.sum(gained * precision))


# --- binary classification --------------------------------------------------------


@dataclass
class Binary:
    """y (0/1), predictions (0/1), scores (or None); sorted views are shared with subsets."""

    y: Labels
    pred: Labels | None
    score: Floats | None
    _sorted: tuple[Floats, Labels] | None = field(default=None, repr=False)
    _order: Ints | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.y.size)

    def sorted(self) -> tuple[Floats, Labels]:
        if self._sorted is None:
            assert self.score is not None
            order = np.argsort(self.score, kind="stable")
            self._order = order
            self._sorted = (self.score[order], self.y[order])
        return self._sorted

    def subset(self, mask: Bools) -> Binary:
        child = Binary(
            self.y[mask],
            self.pred[mask] if self.pred is not None else None,
            self.score[mask] if self.score is not None else None,
        )
        if self.score is not None and self._sorted is not None:
            assert self._order is not None
            in_order = mask[self._order]
            child._sorted = (self._sorted[0][in_order], self._sorted[1][in_order])
        return child

    def confusion(self) -> tuple[int, int, int, int]:
        """tn, fp, fn, tp."""
        assert self.pred is not None
        counts = np.bincount(self.y.astype(np.int64) * 2 + self.pred, minlength=4)
        return int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3])

    def metric(self, name: str) -> float | None:
        function = _BINARY.get(name)
        if function is None:
            raise KeyError(name)
        if self.n == 0:
            return None
        return function(self)


def _ratio(part: float, whole: float) -> float:
    """scikit-learn's zero_division default: 0 when the denominator is 0."""
    return part / whole if whole else 0.0


def _accuracy(d: Binary) -> float:
    tn, _, _, tp = d.confusion()
    return (tn + tp) / d.n


def _balanced_accuracy(d: Binary) -> float:
    tn, fp, fn, tp = d.confusion()
    recalls = [tp / (tp + fn)] if tp + fn else []
    recalls += [tn / (tn + fp)] if tn + fp else []
    return float(np.mean(recalls))


def _precision(d: Binary) -> float:
    _, fp, _, tp = d.confusion()
    return _ratio(tp, tp + fp)


def _recall(d: Binary) -> float:
    _, _, fn, tp = d.confusion()
    return _ratio(tp, tp + fn)


def _f1(d: Binary) -> float:
    _, fp, fn, tp = d.confusion()
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _roc_auc(d: Binary) -> float | None:
    return roc_auc_sorted(*d.sorted())


def _average_precision(d: Binary) -> float | None:
    return average_precision_sorted(*d.sorted())


def _log_loss(d: Binary) -> float | None:
    assert d.score is not None
    if np.count_nonzero(d.y) in (0, d.n):
        return None  # scikit-learn needs both classes in y_true
    p = d.score
    positive = np.clip(p, _EPS, 1 - _EPS)
    negative = np.clip(1 - p, _EPS, 1 - _EPS)
    losses = np.where(d.y == 1, -np.log(positive), -np.log(negative))
    return float(np.mean(losses))


def _brier(d: Binary) -> float:
    assert d.score is not None
    return float(np.mean((d.y - d.score) ** 2))


_BINARY: dict[str, Callable[[Binary], float | None]] = {
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "roc_auc": _roc_auc,
    "average_precision": _average_precision,
    "log_loss": _log_loss,
    "brier": _brier,
}
BINARY_NEEDS_PRED = frozenset(("accuracy", "balanced_accuracy", "precision", "recall", "f1"))
BINARY_NEEDS_SCORE = frozenset(("roc_auc", "average_precision", "log_loss", "brier"))
BINARY_NEEDS_PROBABILITY = frozenset(("log_loss", "brier"))


# --- multiclass classification ------------------------------------------------------


@dataclass
class Multiclass:
    """y and predictions as class indices 0..k-1; probabilities (n, k), NaN columns for absent ones."""

    y: Ints
    pred: Ints
    k: int
    prob: Floats | None = None
    _sorted: dict[int, tuple[Floats, Labels]] = field(default_factory=dict, repr=False)
    _orders: dict[int, Ints] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.y.size)

    def matrix(self) -> Ints:
        return np.bincount(self.y * self.k + self.pred, minlength=self.k * self.k).reshape(self.k, self.k)

    def sorted_for(self, c: int) -> tuple[Floats, Labels]:
        if c not in self._sorted:
            assert self.prob is not None
            column = self.prob[:, c]
            order = np.argsort(column, kind="stable")
            self._orders[c] = order
            self._sorted[c] = (column[order], (self.y[order] == c).astype(np.int8))
        return self._sorted[c]

    def subset(self, mask: Bools) -> Multiclass:
        child = Multiclass(self.y[mask], self.pred[mask], self.k, self.prob[mask] if self.prob is not None else None)
        for c, (scores, labels) in self._sorted.items():
            in_order = mask[self._orders[c]]
            child._sorted[c] = (scores[in_order], labels[in_order])
        return child

    def metric(self, name: str) -> float | None:
        if self.n == 0:
            return None
        m = self.matrix()
        true_count = m.sum(axis=1)
        pred_count = m.sum(axis=0)
        tp = np.diag(m)
        seen = (true_count + pred_count) > 0  # scikit-learn's labels: present in y_true or y_pred
        if name == "accuracy":
            return float(tp.sum() / self.n)
        if name == "balanced_accuracy":
            has = true_count > 0
            return float(np.mean(tp[has] / true_count[has]))
        precision = np.divide(tp, pred_count, out=np.zeros(self.k), where=pred_count > 0)
        recall = np.divide(tp, true_count, out=np.zeros(self.k), where=true_count > 0)
        denominator = true_count + pred_count
        f1 = np.divide(2 * tp, denominator, out=np.zeros(self.k), where=denominator > 0)
        if name == "precision_macro":
            return float(np.mean(precision[seen]))
        if name == "recall_macro":
            return float(np.mean(recall[seen]))
        if name == "f1_macro":
            return float(np.mean(f1[seen]))
        if name == "f1_weighted":
            return float(np.sum(f1 * true_count) / true_count.sum())
        if name == "log_loss":
            assert self.prob is not None
            if np.count_nonzero(true_count) < 2:
                return None
            picked = self.prob[np.arange(self.n), self.y]
            return float(np.mean(-np.log(np.clip(picked, _EPS, 1 - _EPS))))
        if name == "roc_auc_ovr":
            present = [c for c in range(self.k) if true_count[c] > 0]
            if len(present) < 2:
                return None
            areas = [roc_auc_sorted(*self.sorted_for(c)) for c in present]
            if any(a is None for a in areas):
                return None
            return float(np.mean([a for a in areas if a is not None]))
        raise KeyError(name)


MULTICLASS_NEEDS_PROBABILITY = frozenset(("log_loss", "roc_auc_ovr"))
MULTICLASS_METRICS = frozenset(
    (
        "accuracy",
        "balanced_accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_weighted",
        "log_loss",
        "roc_auc_ovr",
    )
)


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
        if self.n == 0:
            return None
        error = self.y - self.pred
        if name == "rmse":
            return float(np.sqrt(np.mean(error**2)))
        if name == "mae":
            return float(np.mean(np.abs(error)))
        if name == "mape":
            return float(np.mean(np.abs(error) / np.maximum(np.abs(self.y), _EPS)))
        if name == "r2":
            if self.n < 2:
                return None
            residual = float(np.sum(error**2))
            total = float(np.sum((self.y - np.mean(self.y)) ** 2))
            if total == 0:
                return 1.0 if residual == 0 else 0.0
            return 1 - residual / total
        raise KeyError(name)


REGRESSION_METRICS = frozenset(("rmse", "mae", "mape", "r2"))


# --- groups and fairness ------------------------------------------------------------------


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


def binary_groups(codes: Ints, labels: list[str], data: Binary) -> GroupRates:
    assert data.pred is not None
    g = len(labels)
    cells = np.bincount(codes * 4 + data.y.astype(np.int64) * 2 + data.pred, minlength=g * 4).reshape(g, 4)
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


def multiclass_groups(codes: Ints, labels: list[str], data: Multiclass, favourable: int | None) -> GroupRates:
    g = len(labels)
    count = np.bincount(codes, minlength=g)
    correct = np.bincount(codes, weights=(data.y == data.pred), minlength=g).astype(np.int64)
    if favourable is None:
        selected = np.zeros(g, dtype=np.int64)
    else:
        selected = np.bincount(codes, weights=(data.pred == favourable), minlength=g).astype(np.int64)
    return GroupRates(labels, count=count, selected=selected, correct=correct)


def regression_groups(codes: Ints, labels: list[str], data: Regression) -> GroupRates:
    g = len(labels)
    error = data.y - data.pred
    return GroupRates(
        labels,
        count=np.bincount(codes, minlength=g),
        selected=np.zeros(g, dtype=np.int64),
        abs_error=np.bincount(codes, weights=np.abs(error), minlength=g),
        sq_error=np.bincount(codes, weights=error**2, minlength=g),
    )


def _spread(values: list[float | None]) -> tuple[float | None, float | None]:
    """(max - min, min / max) over the groups; None when a group's rate is undefined."""
    if not values or any(v is None for v in values):
        return None, None
    present = [float(v) for v in values if v is not None]
    high, low = max(present), min(present)
    return high - low, (low / high if high > 0 else None)


def fairness_value(name: str, groups: GroupRates) -> float | None:
    """fairlearn's between-groups definitions (differences max - min, ratios min / max)."""
    if name in ("demographic_parity_difference", "selection_rate_difference"):
        return _spread(groups.rate("selection_rate"))[0]
    if name == "demographic_parity_ratio":
        return _spread(groups.rate("selection_rate"))[1]
    if name == "true_positive_rate_difference":
        return _spread(groups.rate("true_positive_rate"))[0]
    if name == "false_positive_rate_difference":
        return _spread(groups.rate("false_positive_rate"))[0]
    if name in ("equalized_odds_difference", "equalized_odds_ratio"):
        tpr_diff, tpr_ratio = _spread(groups.rate("true_positive_rate"))
        fpr_diff, fpr_ratio = _spread(groups.rate("false_positive_rate"))
        if name == "equalized_odds_difference":
            return None if tpr_diff is None or fpr_diff is None else max(tpr_diff, fpr_diff)
        return None if tpr_ratio is None or fpr_ratio is None else min(tpr_ratio, fpr_ratio)
    if name == "mae_difference":
        return _spread(groups.rate("mae"))[0]
    if name == "rmse_difference":
        return _spread(groups.rate("rmse"))[0]
    raise KeyError(name)


FAIRNESS_RATES: dict[str, tuple[str, ...]] = {
    "demographic_parity_difference": ("selection_rate",),
    "demographic_parity_ratio": ("selection_rate",),
    "selection_rate_difference": ("selection_rate",),
    "true_positive_rate_difference": ("true_positive_rate",),
    "false_positive_rate_difference": ("false_positive_rate",),
    "equalized_odds_difference": ("true_positive_rate", "false_positive_rate"),
    "equalized_odds_ratio": ("true_positive_rate", "false_positive_rate"),
    "mae_difference": ("mae",),
    "rmse_difference": ("rmse",),
}
