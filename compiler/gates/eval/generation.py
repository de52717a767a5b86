"""Generation metrics of the eval gate, over `y_true` (the reference text) and `y_pred` (the generated text):

- exact_match: the share of rows whose output equals the reference;
- bleu: sacrebleu's corpus BLEU (its defaults: 13a tokenisation, exponential smoothing) over the rows, as a
  fraction (sacrebleu's score / 100), so a bound reads like the other metrics' (0 to 1);
- rouge_l: the mean over rows of rouge-score's ROUGE-L F-measure (no stemming), Google's reimplementation of
  ROUGE-1.5.5.

Both libraries are the reference implementations the field reports with; they ship with the gates extra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.gates.eval import scoring
from compiler.gates.eval.rows import RowReader


@dataclass
class Generation:
    references: np.ndarray[Any, np.dtype[np.object_]]
    outputs: np.ndarray[Any, np.dtype[np.object_]]
    same: scoring.Bools

    def subset(self, mask: scoring.Bools) -> Generation:
        return Generation(self.references[mask], self.outputs[mask], self.same[mask])

    def metric(self, name: str) -> float | None:
        return self.grouped(np.zeros(self.same.size, dtype=np.int64), 1, [name])[name][0]

    def grouped(self, codes: scoring.Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        out: dict[str, list[float | None]] = {}
        for name in names:
            column: list[float | None] = []
            for group in range(groups):
                chosen = np.asarray(codes) == group
                column.append(_metric(name, self.subset(chosen)) if chosen.any() else None)
            out[name] = column
        return out


def _metric(name: str, data: Generation) -> float:
    return PER_GROUP[name](data)  # KeyError: not a generation metric


def bleu(outputs: list[str], references: list[str]) -> float:
    import sacrebleu

    return float(sacrebleu.corpus_bleu(outputs, [references]).score) / 100


def rouge_l(outputs: list[str], references: list[str]) -> float:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"])
    return float(
        np.mean([scorer.score(ref, out)["rougeL"].fmeasure for ref, out in zip(references, outputs, strict=True)])
    )


def load(loader: RowReader, available: dict[str, str]) -> Generation:
    """The texts, and whether each output equals its reference (as numbers when both columns are numbers)."""
    compared = loader.label_expressions(available, ["y_true", "y_pred"])
    arrays = loader.fetch(
        {
            "t": "CAST(y_true AS VARCHAR)",
            "p": "CAST(y_pred AS VARCHAR)",
            "same": f"{compared['y_true']} = {compared['y_pred']}",
        }
    )
    return Generation(
        np.asarray(arrays["t"], dtype=object), np.asarray(arrays["p"], dtype=object), arrays["same"].astype(np.bool_)
    )


# Each metric of one group's rows.
PER_GROUP: dict[str, Callable[[Generation], float]] = {
    "exact_match": lambda data: float(data.same.mean()),
    "bleu": lambda data: bleu(data.outputs.tolist(), data.references.tolist()),
    "rouge_l": lambda data: rouge_l(data.outputs.tolist(), data.references.tolist()),
}
