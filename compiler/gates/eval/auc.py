"""ROC AUC and average precision for every group at once, from one sort of the scores.

Rows sorted by score (descending) split into runs of tied scores per group; each run's positives and
negatives give the Mann-Whitney U (AUC) and the precision at each recall step (average precision), as
scikit-learn computes them, ties included. `compiler.gates.eval.scoring` (binary and one-vs-rest AUC) and
`compiler.gates.eval.ranking` (a query's average precision) use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.integer[Any]]
"""Group codes 0..g-1, one per row."""
Labels = npt.NDArray[np.int8]


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
