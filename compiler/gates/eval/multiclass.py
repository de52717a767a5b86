"""A multiclass model's rows for the eval gate: class codes of y_true and y_pred, and one probability column per
class (`y_prob_<class>`) when a metric needs them, each refused when NULL, non-finite or outside [0, 1].

`compiler.gates.eval.load` picks it by the model's task, as it picks `ranking` and `generation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.gates.errors import UnusableInput
from compiler.gates.eval import scoring
from compiler.gates.eval.rows import ClassReader, numeric
from compiler.gates.io.inputs import canonical, quote


@dataclass
class MulticlassRead:
    data: scoring.Multiclass
    classes: list[str]
    favourable: int | None = None
    """The index of the favourable class (the suite's `positiveLabel`), for selection rates."""
    positive: str | None = None


def load(
    loader: ClassReader,
    available: dict[str, str],
    dictionary: tuple[list[Any], dict[str, str]],
    prob_columns: dict[str, str],
    metrics: set[str],
) -> MulticlassRead:
    """The rows as class codes (and probabilities when `metrics` need them), with the suite's favourable class."""
    values, expressions = dictionary
    classes = [canonical(v) for v in values]
    parts = {
        name: loader.code_expression(expression, values, loader.list_type(available, expression, name))
        for name, expression in expressions.items()
    }
    needs_prob = metrics & scoring.MULTICLASS_NEEDS_PROBABILITY
    if needs_prob:
        parts.update(_probability_parts(loader, available, classes, prob_columns, needs_prob))
    arrays = loader.fetch(parts)
    y = arrays["y_true"].astype(np.int64) - 1
    pred = arrays["y_pred"].astype(np.int64) - 1
    prob = None
    if needs_prob:
        prob = np.column_stack([arrays[f"p{i}"].astype(np.float64) for i in range(len(classes))])
        _finite_probabilities(loader, prob, classes, prob_columns)
        if prob.min() < 0 or prob.max() > 1:
            raise UnusableInput(f"{loader.source.label}: y_prob_* values must lie in [0, 1]")
    read = MulticlassRead(scoring.Multiclass(y, pred, len(classes), prob), classes)
    favourable = loader.suite.spec.positive_label
    if favourable is not None and canonical(favourable) in classes:
        read.favourable = classes.index(canonical(favourable))
        read.positive = canonical(favourable)
    elif any(check.metric.startswith(("demographic", "selection")) for check in loader.suite.spec.fairness):
        raise UnusableInput(
            "selection rates of a multiclass model need the favourable class",
            hint=f"set `positiveLabel` in the suite to one of: {', '.join(classes[:20])}",
        )
    return read


def _probability_parts(
    loader: ClassReader,
    available: dict[str, str],
    classes: list[str],
    prob_columns: dict[str, str],
    needs_prob: set[str],
) -> dict[str, str]:
    """SQL for each class's probability (`p<index>`): its column, or 0 for a class only ever predicted."""
    missing = [c for c in classes if c not in prob_columns and c in loader.true_labels]
    if missing:
        raise UnusableInput(
            f"{loader.source.label}: no probability column for class(es) "
            + ", ".join(f"`y_prob_{c}`" for c in missing)
            + f" (needed for {', '.join(sorted(needs_prob))})"
        )
    parts: dict[str, str] = {}
    for c in classes:
        column = prob_columns.get(c)
        if column is None:  # a class only ever predicted: no probability is ever read
            parts[f"p{classes.index(c)}"] = "CAST(0 AS DOUBLE)"
            continue
        if not numeric(available[column]):
            raise UnusableInput(f"{loader.source.label}: column `{column}` is {available[column]}, not numbers")
        parts[f"p{classes.index(c)}"] = f"CAST({quote(column)} AS DOUBLE)"
    return parts


def _finite_probabilities(
    loader: ClassReader, prob: scoring.Floats, classes: list[str], prob_columns: dict[str, str]
) -> None:
    """Refuse a NULL or non-finite probability, as scikit-learn does, naming the first column that holds one."""
    bad = ~np.isfinite(prob)
    for index in np.flatnonzero(bad.any(axis=0)):
        raise UnusableInput(
            f"{loader.source.label}: column `{prob_columns[classes[index]]}` has {int(bad[:, index].sum()):,} "
            f"null or non-finite value(s) in {prob.shape[0]:,} rows",
            hint="every evaluated row needs a probability for every class",
        )
