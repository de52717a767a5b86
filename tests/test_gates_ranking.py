"""Ranking metrics of the eval gate (issue 24): nDCG@k equal to scikit-learn's `ndcg_score`, MAP to its
`average_precision_score`, MRR on hand-checked queries, end to end through `charter gate eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from test_gates_support import check_of, column, run_gate, write_project

from compiler.gates.eval import ranking

TOL = 1e-12


def queries(n_queries: int, seed: int) -> pd.DataFrame:
    """Graded relevance 0-3, scores rounded so that ties occur, 2 to 30 documents a query, some all irrelevant."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n_queries):
        size = int(rng.integers(2, 31))
        relevance = rng.choice([0, 0, 0, 1, 2, 3], size) * (rng.random() > 0.1)
        score = np.round(relevance * rng.uniform(0, 1) + rng.normal(0, 1, size), 1)
        rows += [
            {"query_id": f"q{q:04d}", "y_true": float(r), "y_score": float(s)}
            for r, s in zip(relevance, score, strict=True)
        ]
    return pd.DataFrame(rows)


def oracle(frame: pd.DataFrame, metric: str, k: int | None = None) -> float:
    values = []
    for _, query in frame.groupby("query_id", sort=True):
        relevance, score = query["y_true"].to_numpy(), query["y_score"].to_numpy()
        if metric == "ndcg":
            values.append(sk.ndcg_score([relevance], [score], k=k))
        elif (relevance > 0).any():
            values.append(sk.average_precision_score(relevance > 0, score))
    return float(np.mean(values))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [None, 1, 3, 10])
def test_ndcg_and_map_equal_scikit_learn(seed: int, k: int | None) -> None:
    frame = queries(60, seed)
    codes = pd.factorize(frame["query_id"])[0]
    data = ranking.Ranking(frame["y_true"].to_numpy(), frame["y_score"].to_numpy(), codes.astype(np.int64))
    name = "ndcg" if k is None else f"ndcg@{k}"
    assert data.metric(name) == pytest.approx(oracle(frame, "ndcg", k), abs=TOL)
    assert data.metric("map") == pytest.approx(oracle(frame, "map"), abs=TOL)


def test_reciprocal_rank_by_hand() -> None:
    """Ties with irrelevant documents rank the relevant one last among them."""
    cases: list[tuple[list[float], list[float], float]] = [
        ([0, 1, 0], [0.9, 0.8, 0.1], 1 / 2),
        ([1, 0, 0], [0.9, 0.8, 0.1], 1.0),
        ([0, 2, 1], [0.5, 0.5, 0.9], 1.0),  # the best-scored relevant document is first
        ([0, 1, 0], [0.5, 0.5, 0.5], 1 / 3),  # tied with two irrelevant ones: third
        ([0, 1, 1], [0.9, 0.5, 0.5], 1 / 2),  # tied with a relevant one only: second
    ]
    for relevance, score, expected in cases:
        assert ranking.reciprocal_rank(np.asarray(relevance), np.asarray(score)) == expected
    assert np.isnan(ranking.reciprocal_rank(np.zeros(3), np.arange(3.0)))


def ranking_project(root: Path, metrics: list[dict[str, Any]]) -> Path:
    return write_project(
        root,
        task="ranking",
        columns=[column("x", "number"), column("y", "integer"), column("market", "string")],
        features=["x"],
        metrics=metrics,
        slices=[{"name": "north", "feature": "market", "values": ["north"]}],
    )


def test_the_eval_gate_judges_a_ranking_model(tmp_path: Path) -> None:
    frame = queries(200, seed=9)
    frame["market"] = np.where(frame["query_id"].str[-1].astype(int) % 2 == 0, "north", "south")
    frame.to_parquet(tmp_path / "p.parquet")
    metrics = [
        {"metric": "ndcg", "k": 10, "min": 0.5},
        {"metric": "ndcg", "min": 0.99},
        {"metric": "map", "min": 0.3},
        {"metric": "mrr", "min": 0.3},
        {"metric": "ndcg", "k": 5, "slice": "north", "min": 0.0},
    ]
    root = ranking_project(tmp_path / "project", metrics)
    argv = ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")]
    code, report = run_gate(argv, tmp_path / "r.json")
    values = [(m["metric"], m["value"]) for m in report["metrics"]]
    north = frame[frame["market"] == "north"]
    expected = [oracle(frame, "ndcg", 10), oracle(frame, "ndcg"), oracle(frame, "map")]
    assert [v for _, v in values[:3]] == pytest.approx(expected, abs=TOL)
    assert values[4][1] == pytest.approx(oracle(north, "ndcg", 5), abs=TOL)
    reciprocal = [
        ranking.reciprocal_rank(q["y_true"].to_numpy(), q["y_score"].to_numpy()) for _, q in frame.groupby("query_id")
    ]
    assert values[3][1] == pytest.approx(float(np.nanmean(reciprocal)), abs=TOL)
    assert check_of(report, "metrics[1].ndcg")["status"] == "fail"  # 0.99 is out of reach
    assert code == 1


def test_ranking_predictions_need_a_query_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries(5, seed=1).drop(columns=["query_id"]).to_parquet(tmp_path / "p.parquet")
    root = ranking_project(tmp_path / "project", [{"metric": "map", "min": 0.1}])
    argv = ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")]
    code, report = run_gate(argv, tmp_path / "r.json")
    assert code == 2
    assert "column `query_id` is missing (needed for the query each row answers)" in report["error"]
