"""Bootstrap confidence intervals for fairness metrics, and the verdict that uses them.

The suite's `confidence` (a level, a number of resamples and a seed) asks that a fairness bound hold with
confidence, not only on the one sample at hand. The interval is the percentile bootstrap that fairlearn's
`MetricFrame(n_boot=..., ci_quantiles=...)` computes: the evaluation rows are resampled with replacement, the
metric is recomputed on each resample, and the interval runs between the (1 - level) / 2 and (1 + level) / 2
quantiles. A classification fairness metric depends on each row only through its group and two yes/no facts
(label and prediction, or prediction correct and favourable), so a resample of the rows is a multinomial draw of
the counts of those cells: the same distribution as resampling rows, for any number of rows.

The verdict: the bound holds with confidence when the whole interval is within it (pass); the point value
outside it fails, as without intervals; a point value within the bound whose interval reaches past it has no
verdict ("not enough data": more evaluation rows would narrow the interval).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compiler.core.models.suite import Confidence
from compiler.gates.errors import UnusableInput
from compiler.gates.eval import fairness, scoring
from compiler.reporters.gate import show


def interval(
    metric: str, data: Any, codes: scoring.Codes, labels: list[str], favourable: int | None, confidence: Confidence
) -> tuple[float, float] | None:
    """The percentile bootstrap interval of the fairness metric, or None when no resample defines it."""
    groups = len(labels)
    cells = _cells(data, codes, favourable, groups)
    rng = np.random.default_rng(confidence.seed)
    n = int(cells.sum())
    draws = rng.multinomial(n, cells / n, size=confidence.resamples).reshape(confidence.resamples, groups, 4)
    values = [fairness.fairness_value(metric, _rates(draw, labels, data)) for draw in draws]
    defined = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if defined.size == 0:
        return None
    tail = (1 - confidence.level) / 2
    low, high = np.quantile(defined, [tail, 1 - tail])
    return float(low), float(high)


def _cells(data: Any, codes: scoring.Codes, favourable: int | None, groups: int) -> scoring.Floats:
    if isinstance(data, scoring.Binary) and data.pred is not None:
        first, second = data.y.astype(np.int64), data.pred.astype(np.int64)
    elif isinstance(data, scoring.Multiclass):
        first = (data.y == data.pred).astype(np.int64)
        second = np.zeros_like(first) if favourable is None else (data.pred == favourable).astype(np.int64)
    else:
        raise UnusableInput(
            "confidence intervals are computed for classification fairness metrics only",
            hint="remove the suite's `confidence`, or judge regression fairness by its point value",
        )
    flat = scoring.tally(np.asarray(codes, dtype=np.int64) * 4 + first * 2 + second, groups * 4, data.weight)
    return flat.astype(np.float64)


def _rates(draw: scoring.Ints, labels: list[str], data: Any) -> fairness.GroupRates:
    a0b1, a1b0, a1b1 = draw[:, 1], draw[:, 2], draw[:, 3]  # cell 0 counts only in `count`
    count = draw.sum(axis=1)
    if isinstance(data, scoring.Binary):  # (y, pred): tn, fp, fn, tp
        return fairness.GroupRates(
            labels, count=count, selected=a0b1 + a1b1, positives=a1b0 + a1b1, true_pos=a1b1, false_pos=a0b1
        )
    return fairness.GroupRates(labels, count=count, selected=a0b1 + a1b1, correct=a1b0 + a1b1)  # (correct, selected)


def verdict(
    value: float | None, bounds: tuple[float | None, float | None], found: tuple[float, float] | None, level: float
) -> tuple[str, str] | None:
    """The status and message when the interval decides (no verdict), or None when the point value does."""
    low, high = bounds
    if value is None or found is None:
        return None
    outside = (low is not None and value < low) or (high is not None and value > high)
    if outside:
        return None
    reaches = (low is not None and found[0] < low) or (high is not None and found[1] > high)
    if not reaches:
        return None
    return (
        "no-verdict",
        f"not enough data: the {level:.0%} interval [{show(found[0])}, {show(found[1])}] reaches past the bound",
    )
