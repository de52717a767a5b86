"""Ranking metrics of the eval gate: nDCG (optionally at k), MAP and MRR, over the queries of a predictions file.

The file holds one row per (query, document): `query_id`, `y_true` the graded relevance (a number, 0 for an
irrelevant document) and `y_score` the model's score. Each metric is the mean over queries of:

- nDCG@k: scikit-learn's `ndcg_score` of the query (linear gain, discount 1/log2(rank + 1), tied scores sharing
  their gains on average); a query with no relevant document scores 0, as in scikit-learn.
- average precision (MAP): scikit-learn's `average_precision_score` with relevance > 0 as the positive class.
- reciprocal rank (MRR): 1 / the rank of the best-scored relevant document; a tie with irrelevant documents is
  resolved against the model (they rank first), so the gate never rounds a tie in the model's favour.

MAP and MRR leave out the queries without a relevant document, where neither exists; with none left the metric
is undefined ("no verdict").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.gates.errors import UnusableInput
from compiler.gates.eval import auc, scoring
from compiler.gates.eval.rows import RowReader
from compiler.gates.io.inputs import quote

QUERY = "query_id"


@dataclass
class Ranking:
    relevance: scoring.Floats
    score: scoring.Floats
    query: scoring.Ints

    def subset(self, mask: scoring.Bools) -> Ranking:
        return Ranking(self.relevance[mask], self.score[mask], self.query[mask])

    def metric(self, name: str) -> float | None:
        return self.grouped(np.zeros(self.relevance.size, dtype=np.int64), 1, [name])[name][0]

    def grouped(self, codes: scoring.Codes, groups: int, names: Sequence[str]) -> dict[str, list[float | None]]:
        """Per group of rows: each metric's mean over the group's queries (`ndcg@5` names nDCG at 5)."""
        per_query = {name: self._per_query(name) for name in names}
        order = np.lexsort((self.score, self.query))
        starts = np.flatnonzero(np.r_[True, self.query[order][1:] != self.query[order][:-1]])
        group_of_query = np.asarray(codes)[order][starts]
        out: dict[str, list[float | None]] = {}
        for name, values in per_query.items():
            column: list[float | None] = []
            for group in range(groups):
                chosen = values[(group_of_query == group) & ~np.isnan(values)]
                column.append(float(chosen.mean()) if chosen.size else None)
            out[name] = column
        return out

    def _per_query(self, name: str) -> scoring.Floats:
        metric, _, k = name.partition("@")
        order = np.lexsort((self.score, self.query))
        relevance, score, query = self.relevance[order], self.score[order], self.query[order]
        bounds = np.flatnonzero(np.r_[True, query[1:] != query[:-1], True])
        values = np.empty(bounds.size - 1)
        per_query = PER_QUERY[metric]  # KeyError: not a ranking metric
        for i, (start, end) in enumerate(itertools.pairwise(bounds.tolist())):
            values[i] = per_query(relevance[start:end], score[start:end], k)
        return values


def ndcg(relevance: scoring.Floats, score: scoring.Floats, k: int | None) -> float:
    """scikit-learn's `ndcg_score([relevance], [score], k=k)` for one query."""
    discount = 1 / np.log2(np.arange(relevance.size) + 2)
    if k is not None:
        discount[k:] = 0
    ideal = float(np.sort(relevance)[::-1] @ discount)
    if ideal == 0:
        return 0.0
    _, inverse, counts = np.unique(-score, return_inverse=True, return_counts=True)
    tied_gain = np.zeros(counts.size)
    np.add.at(tied_gain, inverse, relevance)
    cumulative = np.cumsum(discount)[np.cumsum(counts) - 1]
    shares = np.diff(np.r_[0.0, cumulative])
    return float((tied_gain / counts) @ shares) / ideal


def _average_precision(relevance: scoring.Floats, score: scoring.Floats) -> float:
    order = np.argsort(score, kind="stable")
    found = auc.average_precision_sorted(score[order], (relevance[order] > 0).astype(np.int8))
    return np.nan if found is None else found


def reciprocal_rank(relevance: scoring.Floats, score: scoring.Floats) -> float:
    relevant = relevance > 0
    if not relevant.any():
        return np.nan
    best = score[relevant].max()
    ahead = int(np.sum(score > best)) + int(np.sum((score == best) & ~relevant))
    return 1.0 / (ahead + 1)


def load(loader: RowReader, available: dict[str, str]) -> Ranking:
    """The rows as arrays: relevance and score as numbers, the query as a code per distinct id."""
    from compiler.gates.eval.groups import is_number

    for column in ("y_true", "y_score"):
        if not is_number(available[column]):
            raise UnusableInput(
                f"{loader.source.label}: column `{column}` is {available[column]}; ranking needs numbers"
            )
    arrays = loader.fetch({"y": "CAST(y_true AS DOUBLE)", "s": "CAST(y_score AS DOUBLE)", "q": quote(QUERY)})
    relevance, score = arrays["y"].astype(np.float64), arrays["s"].astype(np.float64)
    if not np.all(np.isfinite(relevance)) or relevance.min() < 0:
        raise UnusableInput(f"{loader.source.label}: y_true holds a relevance that is not a number of at least 0")
    queries: Any = arrays["q"]
    if np.ma.is_masked(queries) or any(q is None for q in queries.tolist()):
        raise UnusableInput(
            f"{loader.source.label}: column `{QUERY}` has null values", hint="every row answers a query"
        )
    _, codes = np.unique(np.asarray(queries).astype(str), return_inverse=True)
    return Ranking(relevance, score, codes.astype(np.int64))


# Each metric of one query (relevance and scores, and what follows `@` in the name: the cut-off of `ndcg@k`);
# a group's value is the mean over its queries.
PER_QUERY: dict[str, Callable[[scoring.Floats, scoring.Floats, str], float]] = {
    "ndcg": lambda relevance, score, k: ndcg(relevance, score, int(k) if k else None),
    "map": lambda relevance, score, k: _average_precision(relevance, score),
    "mrr": lambda relevance, score, k: reciprocal_rank(relevance, score),
}
