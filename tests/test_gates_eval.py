"""`charter gate eval`: metrics equal scikit-learn's and fairness metrics fairlearn's, to 1e-9.

The predictions are made here with NumPy (scores rounded so that ties occur),
written to Parquet or CSV, and judged end to end through the command line;
the report's numbers are then compared with the oracles on the same data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from sklearn import metrics as sk
from test_gates_support import CREDIT, check_of, column, gate, run_gate, write_project

from compiler.core.metrics import FAIRNESS, TASKS, gate_metrics
from compiler.gates.data import synthetic
from compiler.gates.eval import auc, fairness, generation, ranking, scoring

TOL = 1e-9
# The metric table decides what is tested: every metric the gate computes for a task meets its oracle below, so a
# metric added to the table without an implementation, or without an oracle, fails here.
BINARY_METRICS = sorted(gate_metrics("binary-classification"))
BINARY_FAIRNESS = sorted(name for name, info in FAIRNESS.items() if "binary-classification" in info.tasks)
# The implementation half of the table, by task (compiler.gates.eval: scoring, ranking, generation).
IMPLEMENTED: dict[str, set[str]] = {
    "binary-classification": {*scoring.FROM_CONFUSION, *scoring.FROM_SCORES},
    "multiclass-classification": {*scoring.FROM_CLASS_COUNTS, *scoring.FROM_PROBABILITIES},
    "regression": set(scoring.FROM_ERRORS),
    "ranking": set(ranking.PER_QUERY),
    "generation": set(generation.PER_GROUP),
}


@pytest.mark.parametrize("task", TASKS)
def test_every_metric_the_gate_computes_has_exactly_one_implementation(task: str) -> None:
    assert IMPLEMENTED[task] == gate_metrics(task)


def test_each_implementation_reads_the_input_the_table_says() -> None:
    assert set(scoring.FROM_CONFUSION) == scoring.BINARY_NEEDS_PRED
    assert set(scoring.FROM_SCORES) == scoring.BINARY_NEEDS_SCORE
    assert set(scoring.FROM_PROBABILITIES) == scoring.MULTICLASS_NEEDS_PROBABILITY
    assert set(fairness.BETWEEN_GROUPS) == set(FAIRNESS)


def test_a_binary_metric_without_an_implementation_is_an_error_not_another_metric(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before the table, a prediction metric without its branch silently reported f1 under its own name."""
    monkeypatch.setattr(scoring, "BINARY_METRICS", scoring.BINARY_METRICS | {"specificity"})
    monkeypatch.setattr(scoring, "BINARY_NEEDS_PRED", scoring.BINARY_NEEDS_PRED | {"specificity"})
    data = scoring.Binary(np.array([0, 1, 1], dtype=np.int8), np.array([0, 1, 0], dtype=np.int8), None)
    assert data.metric("f1") == pytest.approx(2 / 3)
    with pytest.raises(KeyError, match="specificity"):
        data.metric("specificity")


def _bound(metric: str, info: str = "performance") -> dict[str, Any]:
    if info == "fairness":
        return {"min": 0.0} if metric.endswith("ratio") else {"max": 1.0}
    return {"max": 1e6} if metric == "log_loss" else ({"max": 1.0} if metric == "brier" else {"min": 0.0})


def binary_data(n: int, seed: int, bias: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < np.where(group == "c", 0.4, 0.3)).astype(np.int64)
    logit = 1.6 * (2 * y - 1) + rng.normal(0, 1.2, n) - 0.6 - bias * (group == "b")
    score = np.round(1 / (1 + np.exp(-logit)), 2)  # rounded: many ties
    return pd.DataFrame(
        {
            "y_true": y,
            "y_score": score,
            "y_pred": (score >= 0.5).astype(np.int64),
            "g": group,
            "region": rng.choice(["north", "south"], size=n),
        }
    )


def binary_project(root: Path, **overrides: Any) -> Path:
    options: dict[str, Any] = {
        "columns": [column("x", "number"), column("y", "integer"), column("g", "string"), column("region", "string")],
        "features": ["x"],
        "sensitive": ["g"],
        "metrics": [
            *({"metric": m, **_bound(m)} for m in BINARY_METRICS),
            {"metric": "roc_auc", "slice": "south", "min": 0.0},
        ],
        "fairness": [{"metric": m, "sensitiveFeature": "g", **_bound(m, "fairness")} for m in BINARY_FAIRNESS],
        "slices": [{"name": "south", "feature": "region", "values": ["south"]}],
        "min_group_size": 30,
    }
    options.update(overrides)
    return write_project(root, **options)


def metric_value(report: dict[str, Any], metric: str, slice_name: str | None = None) -> float:
    found = [m for m in report["metrics"] if m["metric"] == metric and m["slice"] == slice_name]
    assert len(found) == 1
    value: float = found[0]["value"]
    return value


def sklearn_binary(frame: pd.DataFrame, metric: str) -> float:
    y, p, s = frame["y_true"], frame["y_pred"], frame["y_score"]
    oracle = {
        "accuracy": lambda: sk.accuracy_score(y, p),
        "balanced_accuracy": lambda: sk.balanced_accuracy_score(y, p),
        "precision": lambda: sk.precision_score(y, p, zero_division=0),
        "recall": lambda: sk.recall_score(y, p, zero_division=0),
        "f1": lambda: sk.f1_score(y, p, zero_division=0),
        "roc_auc": lambda: sk.roc_auc_score(y, s),
        "average_precision": lambda: sk.average_precision_score(y, s),
        "log_loss": lambda: sk.log_loss(y, s),
        "brier": lambda: sk.brier_score_loss(y, s),
    }
    return float(oracle[metric]())


def fairlearn_binary(frame: pd.DataFrame, metric: str) -> float:
    y, p, g = frame["y_true"], frame["y_pred"], frame["g"]
    direct = {
        "demographic_parity_difference": fl.demographic_parity_difference,
        "demographic_parity_ratio": fl.demographic_parity_ratio,
        "equalized_odds_difference": fl.equalized_odds_difference,
        "equalized_odds_ratio": fl.equalized_odds_ratio,
        "true_positive_rate_difference": fl.true_positive_rate_difference,
        "false_positive_rate_difference": fl.false_positive_rate_difference,
        "selection_rate_difference": fl.selection_rate_difference,
    }
    return float(direct[metric](y, p, sensitive_features=g))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_binary_metrics_equal_sklearn_and_fairlearn(tmp_path: Path, fmt: str) -> None:
    frame = binary_data(6000, seed=7)
    path = tmp_path / f"predictions.{fmt}"
    frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
    root = binary_project(tmp_path / "project")
    code, report = run_gate(["eval", str(root), "--model", "model", "--predictions", str(path)], tmp_path / "r.json")
    assert code == 0, report["checks"]
    assert report["verdict"] == "pass"
    for metric in BINARY_METRICS:
        assert metric_value(report, metric) == pytest.approx(sklearn_binary(frame, metric), abs=TOL), metric
    south = frame[frame["region"] == "south"]
    assert metric_value(report, "roc_auc", "south") == pytest.approx(sklearn_binary(south, "roc_auc"), abs=TOL)
    for metric in BINARY_FAIRNESS:
        value = check_of(report, f"fairness[{BINARY_FAIRNESS.index(metric)}].{metric}@g")["value"]
        assert value == pytest.approx(fairlearn_binary(frame, metric), abs=TOL), metric
    groups = {row["group"]: row for row in report["fairness"]["g"]["groups"]}
    assert set(groups) == {"a", "b", "c"}
    for name, row in groups.items():
        part = frame[frame["g"] == name]
        assert row["count"] == len(part)
        assert row["positives"] == int(part["y_true"].sum())
        assert row["selectionRate"] == pytest.approx(fl.selection_rate(part["y_true"], part["y_pred"]), abs=TOL)
        assert row["truePositiveRate"] == pytest.approx(fl.true_positive_rate(part["y_true"], part["y_pred"]), abs=TOL)
        assert row["falsePositiveRate"] == pytest.approx(
            fl.false_positive_rate(part["y_true"], part["y_pred"]), abs=TOL
        )
        for metric in ("roc_auc", "average_precision", "log_loss", "brier", "f1"):
            assert row["metrics"][metric] == pytest.approx(sklearn_binary(part, metric), abs=TOL), (name, metric)


def test_a_biased_classifier_fails_the_fairness_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fair, biased = binary_data(8000, seed=3), binary_data(8000, seed=3, bias=1.5)
    fairness = [
        {"metric": "demographic_parity_difference", "sensitiveFeature": "g", "max": 0.1},
        {"metric": "equalized_odds_difference", "sensitiveFeature": "g", "max": 0.1},
        {"metric": "demographic_parity_ratio", "sensitiveFeature": "g", "min": 0.8},
    ]
    fair_g = fair.assign(y_true=(np.random.default_rng(1).random(len(fair)) < 0.3).astype(int))
    fair_g["y_pred"] = ((fair_g["y_score"] >= 0.5) | (fair_g["y_true"] == 1)).astype(int)  # parity by design
    root = binary_project(tmp_path / "project", fairness=fairness)
    fair_g.to_parquet(tmp_path / "fair.parquet")
    biased.to_parquet(tmp_path / "biased.parquet")
    code, report = run_gate(
        ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "fair.parquet")], tmp_path / "f.json"
    )
    dp = check_of(report, "fairness[0].demographic_parity_difference@g")
    assert dp["status"] == "pass", dp
    code, report = run_gate(
        ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "biased.parquet")],
        tmp_path / "b.json",
    )
    assert code == 1
    assert report["verdict"] == "fail"
    failed = {c["id"] for c in report["checks"] if c["status"] == "fail"}
    assert {
        "fairness[0].demographic_parity_difference@g",
        "fairness[1].equalized_odds_difference@g",
        "fairness[2].demographic_parity_ratio@g",
    } <= failed
    assert "FAIL       demographic_parity_difference by g" in capsys.readouterr().out
    for index, metric in enumerate(["demographic_parity_difference", "equalized_odds_difference"]):
        value = check_of(report, f"fairness[{index}].{metric}@g")["value"]
        assert value == pytest.approx(fairlearn_binary(biased, metric), abs=TOL)


def test_a_group_below_min_group_size_gets_no_verdict(tmp_path: Path) -> None:
    frame = binary_data(3000, seed=5)
    frame.loc[frame.index[:12], "g"] = "tiny"
    frame.to_parquet(tmp_path / "p.parquet")
    root = binary_project(tmp_path / "project", min_group_size=50)
    code, report = run_gate(
        ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")], tmp_path / "r.json"
    )
    assert code == 1
    assert report["verdict"] == "no-verdict"
    check = check_of(report, "fairness[0].demographic_parity_difference@g")
    assert check["status"] == "no-verdict"
    assert "tiny (12)" in check["message"]
    assert check["value"] == pytest.approx(fairlearn_binary(frame, "demographic_parity_difference"), abs=TOL)
    assert report["fairness"]["g"]["smallGroups"] == ["tiny"]
    assert all(c["status"] == "pass" for c in report["checks"] if c["id"].startswith("metrics"))


def test_string_labels_with_a_positive_label_and_no_y_pred(tmp_path: Path) -> None:
    frame = binary_data(2000, seed=11)
    frame["y_true"] = np.where(frame["y_true"] == 1, "bad", "good")
    frame = frame.drop(columns=["y_pred"])
    frame.to_parquet(tmp_path / "p.parquet")
    root = binary_project(tmp_path / "project", positive_label="bad")
    code, report = run_gate(
        ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")], tmp_path / "r.json"
    )
    assert code == 0, report
    assert any("y_score >= 0.5" in note for note in report["notes"])
    y = frame["y_true"] == "bad"
    pred = frame["y_score"] >= 0.5
    assert metric_value(report, "f1") == pytest.approx(sk.f1_score(y, pred), abs=TOL)
    assert metric_value(report, "roc_auc") == pytest.approx(sk.roc_auc_score(y, frame["y_score"]), abs=TOL)
    assert metric_value(report, "log_loss") == pytest.approx(sk.log_loss(y, frame["y_score"]), abs=TOL)


def test_multiclass_metrics_equal_sklearn(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    n, classes = 5000, ["cat", "dog", "eel"]
    y = rng.choice(classes, size=n, p=[0.5, 0.3, 0.2])
    logits = rng.normal(0, 1, (n, 3)) + 1.5 * (y[:, None] == np.asarray(classes)[None, :])
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = np.asarray(classes)[prob.argmax(axis=1)]
    pred[:40] = "fox"  # a class only ever predicted
    frame = pd.DataFrame({"y_true": y, "y_pred": pred, "g": rng.choice(["u", "v"], size=n)})
    for i, c in enumerate(classes):
        frame[f"y_prob_{c}"] = prob[:, i]
    frame.to_parquet(tmp_path / "p.parquet")
    names = sorted(gate_metrics("multiclass-classification"))
    root = write_project(
        tmp_path / "project",
        task="multiclass-classification",
        columns=[column("x", "number"), column("y", "string"), column("g", "string")],
        features=["x"],
        metrics=[{"metric": m, **_bound(m)} for m in names],
        fairness=[
            {"metric": "demographic_parity_difference", "sensitiveFeature": "g", "max": 1.0},
            {"metric": "demographic_parity_ratio", "sensitiveFeature": "g", "min": 0.0},
        ],
        positive_label="dog",
    )
    code, report = run_gate(
        ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")], tmp_path / "r.json"
    )
    assert code == 0, report["checks"]
    yt, yp = frame["y_true"], frame["y_pred"]
    oracle = {
        "accuracy": sk.accuracy_score(yt, yp),
        "balanced_accuracy": sk.balanced_accuracy_score(yt[40:], yp[40:]),
        "f1_macro": sk.f1_score(yt, yp, average="macro", zero_division=0),
        "f1_weighted": sk.f1_score(yt, yp, average="weighted", zero_division=0),
        "precision_macro": sk.precision_score(yt, yp, average="macro", zero_division=0),
        "recall_macro": sk.recall_score(yt, yp, average="macro", zero_division=0),
        "log_loss": sk.log_loss(yt, prob, labels=classes),
        "roc_auc_ovr": sk.roc_auc_score(yt, prob, multi_class="ovr", labels=classes),
    }
    report_values = {m["metric"]: m["value"] for m in report["metrics"]}
    for name in names:
        if name == "balanced_accuracy":
            continue  # scikit-learn warns (and the test runs warnings as errors) when y_pred has a class y_true lacks
        assert report_values[name] == pytest.approx(oracle[name], abs=TOL), name
    data = scoring.Multiclass(
        np.searchsorted(classes, y[40:]), np.searchsorted(classes, pred[40:]), 3, np.asarray(prob[40:])
    )
    assert data.metric("balanced_accuracy") == pytest.approx(oracle["balanced_accuracy"], abs=TOL)

    def selection(y_true: Any, y_pred: Any) -> float:
        return float(fl.selection_rate(y_true, y_pred, pos_label="dog"))

    frame_dp = fl.MetricFrame(metrics=selection, y_true=yt, y_pred=yp, sensitive_features=frame["g"])
    dp = check_of(report, "fairness[0].demographic_parity_difference@g")["value"]
    ratio = check_of(report, "fairness[1].demographic_parity_ratio@g")["value"]
    assert dp == pytest.approx(frame_dp.difference(), abs=TOL)
    assert ratio == pytest.approx(frame_dp.ratio(), abs=TOL)


def test_regression_metrics_equal_sklearn_and_fairlearn(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 4000
    y = rng.gamma(2.0, 10.0, n)
    group = rng.choice(["east", "west"], size=n)
    frame = pd.DataFrame({"y_true": y, "prediction": y + rng.normal(0, 3, n) + 2 * (group == "west"), "g": group})
    frame.to_csv(tmp_path / "p.csv", index=False)
    bounds = {"rmse": {"max": 100.0}, "mae": {"max": 100.0}, "mape": {"max": 100.0}, "r2": {"min": 0.5}}
    root = write_project(
        tmp_path / "project",
        task="regression",
        columns=[column("x", "number"), column("y", "number"), column("g", "string")],
        features=["x"],
        metrics=[{"metric": m, **bounds[m]} for m in sorted(gate_metrics("regression"))],
        fairness=[
            {"metric": "mae_difference", "sensitiveFeature": "g", "max": 10.0},
            {"metric": "rmse_difference", "sensitiveFeature": "g", "max": 0.5},
        ],
    )
    code, report = run_gate(
        ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.csv")], tmp_path / "r.json"
    )
    frame = pd.read_csv(tmp_path / "p.csv")  # the values as the gate read them
    yt, yp, g = frame["y_true"], frame["prediction"], frame["g"]
    values = {m["metric"]: m["value"] for m in report["metrics"]}
    oracle = {
        "rmse": sk.root_mean_squared_error(yt, yp),
        "mae": sk.mean_absolute_error(yt, yp),
        "mape": sk.mean_absolute_percentage_error(yt, yp),
        "r2": sk.r2_score(yt, yp),
    }
    for name in sorted(gate_metrics("regression")):
        assert values[name] == pytest.approx(oracle[name], abs=TOL), name
    mae = fl.MetricFrame(metrics=sk.mean_absolute_error, y_true=yt, y_pred=yp, sensitive_features=g).difference()
    rmse = fl.MetricFrame(metrics=sk.root_mean_squared_error, y_true=yt, y_pred=yp, sensitive_features=g).difference()
    assert check_of(report, "fairness[0].mae_difference@g")["value"] == pytest.approx(mae, abs=TOL)
    assert check_of(report, "fairness[1].rmse_difference@g")["value"] == pytest.approx(rmse, abs=TOL)
    assert check_of(report, "fairness[1].rmse_difference@g")["status"] == "fail"
    assert code == 1


@pytest.mark.parametrize("seed", range(6))
def test_ranking_metrics_with_ties_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    y = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(np.int8)
    y[0], y[-1] = 0, 1
    score = np.round(rng.random(n), int(rng.integers(0, 3)))
    order = np.argsort(score, kind="stable")
    assert auc.roc_auc_sorted(score[order], y[order]) == pytest.approx(sk.roc_auc_score(y, score), abs=TOL)
    assert auc.average_precision_sorted(score[order], y[order]) == pytest.approx(
        sk.average_precision_score(y, score), abs=TOL
    )


def test_the_example_suite_passes_a_good_model_and_fails_a_biased_one(tmp_path: Path) -> None:
    good = synthetic.write(synthetic.predictions(10000, seed=2), tmp_path / "good.parquet")
    bad = synthetic.write(synthetic.predictions(10000, seed=2, bias=2.5), tmp_path / "bad.parquet")
    code, report = run_gate(
        ["eval", str(CREDIT), "--model", "credit-default", "--predictions", str(good)], tmp_path / "g.json"
    )
    assert code == 0, [c for c in report["checks"] if c["status"] != "pass"]
    code, report = run_gate(
        [
            "eval",
            str(CREDIT),
            "--model",
            "credit-default",
            "--predictions",
            str(bad),
            "--chart",
            str(tmp_path / "c.png"),
        ],
        tmp_path / "b.json",
    )
    assert code == 1
    assert "fairness[0].demographic_parity_difference@gender" in {
        c["id"] for c in report["checks"] if c["status"] == "fail"
    }
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["y_score"]), "column `y_score` is missing"),
        (lambda f: f.drop(columns=["g"]), "column `g` is missing (needed for fairness check"),
        (lambda f: f.assign(y_true=f["y_true"].astype(float).where(f.index > 3)), "`y_true` has 4 null"),
        (lambda f: f.assign(y_score=f["y_score"] * 3), "need probabilities in [0, 1]"),
        (lambda f: f.assign(y_true=np.where(f["y_true"] == 1, "yes", "no"), y_pred="no"), "set `positiveLabel`"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_unusable_predictions_exit_2_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, message: str
) -> None:
    path = tmp_path / "predictions.parquet"
    mutate(binary_data(500, seed=1)).to_parquet(path)
    root = binary_project(tmp_path / "project")
    code, report = run_gate(["eval", str(root), "--model", "model", "--predictions", str(path)], tmp_path / "r.json")
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert str(path) in err
    assert report["verdict"] == "error"
    assert message in report["error"]


def test_unreadable_and_missing_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = binary_project(tmp_path / "project")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1 this is not parquet")
    assert gate(["eval", str(root), "--model", "model", "--predictions", str(garbage)]) == 2
    assert f"{garbage}: cannot read as PARQUET" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("", "utf-8")
    assert gate(["eval", str(root), "--model", "model", "--predictions", str(empty)]) == 2
    assert f"{empty}: the file is empty" in capsys.readouterr().err
    assert gate(["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "none.parquet")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert gate(["eval", str(root), "--model", "nope", "--predictions", str(garbage)]) == 2
    assert "no Model named `nope`" in capsys.readouterr().err
