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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.core.metrics import FAIRNESS, gate_metrics

_BINARY, _MULTICLASS = "binary-classification", "multiclass-classification"

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.integer[Any]]
"""Group codes 0..g-1, one per row."""
Bools = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.int8]

_EPS = float(np.finfo(np.float64).eps)


# --- ranking metrics, per group, from one sort ------------------------------------


def _segments(keys: Ints) -> tuple[Ints, Ints]:
    """Start of each run of equal `keys` (sorted), and for every element the start of its run."""
    n = keys.size
    starts = np.concatenate((np.zeros(1, dtype=np.int64), np.flatnonzero(keys[1:] != keys[:-1]) + 1))
    lengths = np.diff(np.append(starts, n))
    return starts, np.repeat(starts, lengths)


def ranking_by_group(
    score: Floats, y: Labels, codes: Codes, groups: int, order: Ints
) -> tuple[list[float | None], list[float | None]]:
    """ROC AUC and average precision of every group, from scores sorted once (`order`, ascending).

    AUC is the Mann-Whitney U with mid-ranks for ties, exactly (integer
    arithmetic); average precision sums, over the distinct scores from high to
    low, the recall gained times the precision, as scikit-learn does.
    """
    auc: list[float | None] = [None] * groups
    ap: list[float | None] = [None] * groups
    if score.size == 0:
        return auc, ap
    pos, neg, run_group = _tied_runs(score, y, codes, groups, order)
    group_starts, first = _segments(run_group)
    positives = np.add.reduceat(pos, group_starts)
    negatives = np.add.reduceat(neg, group_starts)
    twice_u = _twice_u(pos, neg, group_starts, first)
    ap_sum = _precision_sum(pos, neg, run_group)
    for index, group in enumerate(run_group[group_starts].tolist()):
        p, m = int(positives[index]), int(negatives[index])
        if p and m:
            auc[group] = int(twice_u[index]) / (2.0 * p * m)
        if p:
            ap[group] = float(ap_sum[index]) / p
    return auc, ap


def _tied_runs(score: Floats, y: Labels, codes: Codes, groups: int, order: Ints) -> tuple[Ints, Ints, Ints]:
    """Runs of equal scores within a group, ascending: (positives, negatives, group) per run."""
    if groups > 1:
        small = codes[order].astype(np.int16) if groups < 2**15 else codes[order]  # int16: a radix sort
        order = order[np.argsort(small, kind="stable")]  # group-major, scores ascending within
    s = score[order]
    boundary = s[1:] != s[:-1]
    del s
    g = codes[order] if groups > 1 else None
    if g is not None:
        boundary |= g[1:] != g[:-1]
    starts = np.concatenate((np.zeros(1, dtype=np.int64), np.flatnonzero(boundary) + 1))
    del boundary
    pos = np.add.reduceat(y[order], starts, dtype=np.int64)
    neg = np.diff(np.append(starts, order.size)) - pos
    run_group = g[starts].astype(np.int64) if g is not None else np.zeros(starts.size, dtype=np.int64)
    return pos, neg, run_group


def _twice_u(pos: Ints, neg: Ints, group_starts: Ints, first: Ints) -> Ints:
    """Twice the Mann-Whitney U per group: negatives ranked below each positive, ties counting one half."""
    neg_before = np.cumsum(neg) - neg
    neg_before -= neg_before[first]
    return np.add.reduceat(pos * (2 * neg_before + neg), group_starts)


def _precision_sum(pos: Ints, neg: Ints, run_group: Ints) -> Floats:
    """Per group, from the highest score down: the sum over thresholds of positives gained times precision."""
    pos_r, len_r = pos[::-1], (pos + neg)[::-1]
    starts_r, first_r = _segments(run_group[::-1])
    true_pos = np.cumsum(pos_r)
    true_pos -= (true_pos - pos_r)[first_r]
    predicted = np.cumsum(len_r)
    predicted -= (predicted - len_r)[first_r]
    gained = pos_r * (true_pos / predicted)
    result: Floats = np.add.reduceat(gained, starts_r)[::-1]
    return result


def roc_auc_sorted(sorted_scores: Floats, sorted_labels: Labels) -> float | None:
    """ROC AUC of scores already sorted ascending."""
    order = np.arange(sorted_scores.size, dtype=np.int64)
    zeros = np.zeros(sorted_scores.size, dtype=np.int64)
    return ranking_by_group(sorted_scores, sorted_labels, zeros, 1, order)[0][0]


def average_precision_sorted(sorted_scores: Floats, sorted_labels: Labels) -> float | None:
    """Average precision of scores already sorted ascending."""
    order = np.arange(sorted_scores.size, dtype=np.int64)
    zeros = np.zeros(sorted_scores.size, dtype=np.int64)
    return ranking_by_group(sorted_scores, sorted_labels, zeros, 1, order)[1][0]


def _one_group(n: int) -> Ints:
    return np.zeros(n, dtype=np.int64)


def _per_group(total: npt.NDArray[Any], count: Ints) -> list[float | None]:
    return [float(t) / int(c) if c else None for t, c in zip(total.tolist(), count.tolist(), strict=True)]


def _ratio(part: int, whole: int) -> float:
    """scikit-learn's zero_division default: 0 when the denominator is 0."""
    return part / whole if whole else 0.0


# --- binary classification --------------------------------------------------------


def _from_confusion(name: str, tn: int, fp: int, fn: int, tp: int) -> float:
    if name == "accuracy":
        return (tn + tp) / (tn + fp + fn + tp)
    if name == "balanced_accuracy":  # the mean recall of the classes present in y_true
        recalls = [r for r, has in ((_ratio(tp, tp + fn), tp + fn), (_ratio(tn, tn + fp), tn + fp)) if has]
        return float(np.mean(recalls))
    if name == "precision":
        return _ratio(tp, tp + fp)
    if name == "recall":
        return _ratio(tp, tp + fn)
    return _ratio(2 * tp, 2 * tp + fp + fn)  # f1


@dataclass
class Binary:
    """y (0/1), predictions (0/1), scores (or None)."""

    y: Labels
    pred: Labels | None
    score: Floats | None
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
        )

    def metric(self, name: str) -> float | None:
        return self.grouped(_one_group(self.n), 1, [name])[name][0]

    def grouped(self, codes: Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        """Each metric for each group (codes 0..groups-1) in a few vectorised passes."""
        unknown = [name for name in names if name not in BINARY_METRICS]
        if unknown:
            raise KeyError(unknown[0])
        count = np.bincount(codes, minlength=groups)
        out: dict[str, list[float | None]] = {}
        if set(names) & BINARY_NEEDS_PRED:
            assert self.pred is not None
            cells = np.bincount(codes * 4 + self.y.astype(np.int64) * 2 + self.pred, minlength=groups * 4)
            confusion = [tuple(int(v) for v in row) for row in cells.reshape(groups, 4)]  # tn, fp, fn, tp
            for name in set(names) & BINARY_NEEDS_PRED:
                out[name] = [_from_confusion(name, *c) if sum(c) else None for c in confusion]
        if set(names) & {"roc_auc", "average_precision"}:
            assert self.score is not None
            auc, ap = ranking_by_group(self.score, self.y, codes, groups, self.order())
            out["roc_auc"], out["average_precision"] = auc, ap
        if "brier" in names:
            assert self.score is not None
            out["brier"] = _per_group(np.bincount(codes, weights=(self.y - self.score) ** 2, minlength=groups), count)
        if "log_loss" in names:
            assert self.score is not None
            positive = np.clip(self.score, _EPS, 1 - _EPS)
            negative = np.clip(1 - self.score, _EPS, 1 - _EPS)
            losses = np.where(self.y == 1, -np.log(positive), -np.log(negative))
            values = _per_group(np.bincount(codes, weights=losses, minlength=groups), count)
            positives = np.bincount(codes, weights=self.y, minlength=groups)
            # scikit-learn needs both classes in y_true
            out["log_loss"] = [
                v if 0 < p < n else None for v, p, n in zip(values, positives.tolist(), count.tolist(), strict=True)
            ]
        return {name: out[name] for name in names}


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
        return Multiclass(self.y[mask], self.pred[mask], self.k, self.prob[mask] if self.prob is not None else None)

    def metric(self, name: str) -> float | None:
        return self.grouped(_one_group(self.n), 1, [name])[name][0]

    def grouped(self, codes: Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        k = self.k
        cells = np.bincount((codes * k + self.y) * k + self.pred, minlength=groups * k * k).reshape(groups, k, k)
        true_count = cells.sum(axis=2)
        pred_count = cells.sum(axis=1)
        tp = np.diagonal(cells, axis1=1, axis2=2)
        count = true_count.sum(axis=1)
        seen = (true_count + pred_count) > 0  # scikit-learn's labels: in y_true or y_pred
        has = true_count > 0
        precision = np.divide(tp, pred_count, out=np.zeros(tp.shape), where=pred_count > 0)
        recall = np.divide(tp, true_count, out=np.zeros(tp.shape), where=true_count > 0)
        denominator = true_count + pred_count
        f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
        out: dict[str, list[float | None]] = {}
        for name in names:
            values: list[float | None] = []
            for g in range(groups):
                if not count[g]:
                    values.append(None)
                elif name == "accuracy":
                    values.append(float(tp[g].sum() / count[g]))
                elif name == "balanced_accuracy":
                    values.append(float(np.mean(recall[g][has[g]])))
                elif name == "precision_macro":
                    values.append(float(np.mean(precision[g][seen[g]])))
                elif name == "recall_macro":
                    values.append(float(np.mean(recall[g][seen[g]])))
                elif name == "f1_macro":
                    values.append(float(np.mean(f1[g][seen[g]])))
                elif name == "f1_weighted":
                    values.append(float(np.sum(f1[g] * true_count[g]) / true_count[g].sum()))
                elif name in ("log_loss", "roc_auc_ovr"):
                    values.append(None)  # filled below
                else:
                    raise KeyError(name)
            out[name] = values
        if "log_loss" in names:
            assert self.prob is not None
            picked = np.clip(self.prob[np.arange(self.n), self.y], _EPS, 1 - _EPS)
            losses = _per_group(np.bincount(codes, weights=-np.log(picked), minlength=groups), count)
            out["log_loss"] = [v if np.count_nonzero(has[g]) >= 2 else None for g, v in enumerate(losses)]
        if "roc_auc_ovr" in names:
            assert self.prob is not None
            per_class = [
                ranking_by_group(self.prob[:, c], (self.y == c).astype(np.int8), codes, groups, self.order(c))[0]
                if np.any(has[:, c])
                else [None] * groups
                for c in range(k)
            ]
            macro: list[float | None] = []
            for g in range(groups):
                present = [c for c in range(k) if has[g, c]]
                areas = [per_class[c][g] for c in present]
                ok = len(present) >= 2 and all(a is not None for a in areas)
                macro.append(float(np.mean([a for a in areas if a is not None])) if ok else None)
            out["roc_auc_ovr"] = macro
        return out


MULTICLASS_NEEDS_PROBABILITY = gate_metrics(_MULTICLASS, "probability")
MULTICLASS_METRICS = gate_metrics(_MULTICLASS)


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
        count = np.bincount(codes, minlength=groups)
        error = self.y - self.pred
        out: dict[str, list[float | None]] = {}
        for name in names:
            if name == "rmse":
                mse = _per_group(np.bincount(codes, weights=error**2, minlength=groups), count)
                out[name] = [None if v is None else float(np.sqrt(v)) for v in mse]
            elif name == "mae":
                out[name] = _per_group(np.bincount(codes, weights=np.abs(error), minlength=groups), count)
            elif name == "mape":
                relative = np.abs(error) / np.maximum(np.abs(self.y), _EPS)
                out[name] = _per_group(np.bincount(codes, weights=relative, minlength=groups), count)
            elif name == "r2":
                mean = np.bincount(codes, weights=self.y, minlength=groups) / np.maximum(count, 1)
                total = np.bincount(codes, weights=(self.y - mean[codes]) ** 2, minlength=groups)
                residual = np.bincount(codes, weights=error**2, minlength=groups)
                values: list[float | None] = []
                for g in range(groups):
                    if count[g] < 2:
                        values.append(None)
                    elif total[g] == 0:
                        values.append(1.0 if residual[g] == 0 else 0.0)
                    else:
                        values.append(float(1 - residual[g] / total[g]))
                out[name] = values
            else:
                raise KeyError(name)
        return out


REGRESSION_METRICS = gate_metrics("regression")


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


def binary_groups(codes: Codes, labels: list[str], data: Binary) -> GroupRates:
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


def multiclass_groups(codes: Codes, labels: list[str], data: Multiclass, favourable: int | None) -> GroupRates:
    g = len(labels)
    count = np.bincount(codes, minlength=g)
    correct = np.bincount(codes, weights=(data.y == data.pred), minlength=g).astype(np.int64)
    if favourable is None:
        selected = np.zeros(g, dtype=np.int64)
    else:
        selected = np.bincount(codes, weights=(data.pred == favourable), minlength=g).astype(np.int64)
    return GroupRates(labels, count=count, selected=selected, correct=correct)


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


FAIRNESS_RATES: dict[str, tuple[str, ...]] = {name: info.rates for name, info in FAIRNESS.items()}
