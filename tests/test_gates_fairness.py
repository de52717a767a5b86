"""Fairness a regulator would accept (issue 24): intersectional groups, against fairlearn's MetricFrame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from test_gates_support import check_of, column, run_gate, write_project

from compiler.reporters.gate import show

TOL = 1e-12


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def people(n: int, seed: int) -> pd.DataFrame:
    """Selection is fair by sex and by race alone, and unfair to one combination of them."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["black", "white", "asian"], n, p=[0.3, 0.5, 0.2])
    y = (rng.random(n) < 0.3).astype(np.int64)
    shift = np.where((sex == "female") & (race == "black"), -0.8, 0.0) + np.where(
        (sex == "male") & (race == "black"), 0.8, 0.0
    )
    score = np.round(1 / (1 + np.exp(-(1.6 * (2 * y - 1) + rng.normal(0, 1.2, n) - 0.6 + shift))), 2)
    return pd.DataFrame(
        {"y_true": y, "y_score": score, "y_pred": (score >= 0.5).astype(np.int64), "sex": sex, "race": race}
    )


def crossed_project(root: Path, fairness: list[dict[str, Any]]) -> Path:
    return write_project(
        root,
        columns=[column("x", "number"), column("y", "integer"), column("sex", "string"), column("race", "string")],
        features=["x"],
        sensitive=["sex", "race"],
        fairness=fairness,
        min_group_size=30,
    )


def test_intersectional_groups_equal_fairlearn_with_several_sensitive_features(tmp_path: Path) -> None:
    frame = people(6000, seed=4)
    frame.to_parquet("p.parquet")
    fairness = [
        {"metric": "demographic_parity_difference", "sensitiveFeature": "sex", "max": 0.1},
        {"metric": "demographic_parity_difference", "sensitiveFeature": "sex", "intersectWith": ["race"], "max": 0.1},
        {"metric": "equalized_odds_difference", "sensitiveFeature": "sex", "intersectWith": ["race"], "max": 1.0},
    ]
    root = crossed_project(tmp_path / "p", fairness)
    code, report = run_gate(["eval", str(root), "--model", "model", "--predictions", "p.parquet"], Path("r.json"))
    y, pred = frame["y_true"], frame["y_pred"]
    alone = check_of(report, "fairness[0].demographic_parity_difference@sex")
    crossed = check_of(report, "fairness[1].demographic_parity_difference@sex×race")
    odds = check_of(report, "fairness[2].equalized_odds_difference@sex×race")
    both = frame[["sex", "race"]]
    assert alone["value"] == pytest.approx(
        fl.demographic_parity_difference(y, pred, sensitive_features=frame["sex"]), abs=TOL
    )
    assert crossed["value"] == pytest.approx(
        fl.demographic_parity_difference(y, pred, sensitive_features=both), abs=TOL
    )
    assert odds["value"] == pytest.approx(fl.equalized_odds_difference(y, pred, sensitive_features=both), abs=TOL)
    assert (alone["status"], crossed["status"], code) == ("pass", "fail", 1)  # only the crossing shows the bias
    oracle = fl.MetricFrame(
        metrics={"selection_rate": fl.selection_rate, "count": fl.count}, y_true=y, y_pred=pred, sensitive_features=both
    ).by_group
    groups = {row["group"]: row for row in report["fairness"]["sex×race"]["groups"]}
    assert len(groups) == len(oracle) == 6
    for (sex, race), row in oracle.iterrows():
        assert groups[f"{sex} × {race}"]["count"] == row["count"]
        assert groups[f"{sex} × {race}"]["selectionRate"] == pytest.approx(row["selection_rate"], abs=TOL)


def test_a_crossed_feature_must_be_in_the_contract(tmp_path: Path) -> None:
    from compiler.stages import check_path

    fairness = [
        {"metric": "demographic_parity_difference", "sensitiveFeature": "sex", "intersectWith": ["nope"], "max": 0.1}
    ]
    found = [(d.code, d.file, d.line, d.message) for d in check_path(crossed_project(tmp_path, fairness)).diagnostics]
    assert found == [("CH402", "suite.yaml", 15, "column `nope` is not in contract `data` (contract.yaml)")]


# --- bootstrap confidence intervals ---------------------------------------------------------------------------


def selections(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n)
    y = (rng.random(n) < 0.3).astype(np.int64)
    pred = (rng.random(n) < 0.35 + 0.05 * (group == "b")).astype(np.int64)
    return pd.DataFrame({"y_true": y, "y_score": pred * 0.8 + 0.1, "y_pred": pred, "sex": group, "race": "x"})


def test_a_bound_holds_with_confidence_or_has_no_verdict_as_fairlearn_bootstraps(tmp_path: Path) -> None:
    frame = selections(1500, seed=1)
    frame.to_parquet("p.parquet")
    fairness = [
        {"metric": "demographic_parity_difference", "sensitiveFeature": "sex", "max": bound}
        for bound in (0.2, 0.1, 0.05)
    ]
    root = write_project(
        tmp_path / "p",
        columns=[column("x", "number"), column("y", "integer"), column("sex", "string")],
        features=["x"],
        sensitive=["sex"],
        fairness=fairness,
        min_group_size=30,
    )
    suite = root / "suite.yaml"
    suite.write_text(
        suite.read_text("utf-8").replace(
            "spec:\n", "spec:\n  confidence: {level: 0.95, resamples: 4000, seed: 3}\n", 1
        ),
        "utf-8",
    )
    argv = ["eval", str(root), "--model", "model", "--predictions", "p.parquet", "--summary", "s.md"]
    code, report = run_gate(argv, Path("r.json"))
    oracle = fl.MetricFrame(
        metrics=fl.selection_rate,
        y_true=frame["y_true"],
        y_pred=frame["y_pred"],
        sensitive_features=frame["sex"],
        n_boot=400,
        ci_quantiles=[0.025, 0.975],
        random_state=7,
    )
    wide, narrow, below = (check_of(report, f"fairness[{i}].demographic_parity_difference@sex") for i in range(3))
    assert wide["value"] == pytest.approx(oracle.difference(), abs=TOL)
    low, high = wide["details"]["interval"]
    assert [low, high] == pytest.approx([float(q) for q in oracle.difference_ci()], abs=0.012)
    assert low < wide["value"] < high < 0.2
    assert wide["status"] == "pass"  # the whole interval is within 0.2
    assert (narrow["status"], narrow["message"]) == (
        "no-verdict",
        f"not enough data: the 95% interval [{show(low)}, {show(high)}] reaches past the bound",
    )
    assert below["status"] == "fail"  # the point value itself is above 0.05
    assert code == 1
    summary = Path("s.md").read_text("utf-8")
    assert f"(bound ≤ 0.2; 95% interval [{show(low)}, {show(high)}])" in summary
    assert (
        "| Group | count | positives | negatives | selectionRate | truePositiveRate | falsePositiveRate | accuracy |\n"
        in summary
    )


def test_intervals_are_refused_for_regression_fairness(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {"y_true": rng.normal(size=200), "prediction": rng.normal(size=200), "sex": rng.choice(["a", "b"], 200)}
    )
    frame.to_parquet("p.parquet")
    root = write_project(
        tmp_path / "p",
        task="regression",
        columns=[column("x", "number"), column("y", "number"), column("sex", "string")],
        features=["x"],
        metrics=[{"metric": "rmse", "max": 10.0}],
        fairness=[{"metric": "mae_difference", "sensitiveFeature": "sex", "max": 1.0}],
    )
    suite = root / "suite.yaml"
    suite.write_text(suite.read_text("utf-8").replace("spec:\n", "spec:\n  confidence: {level: 0.9}\n", 1), "utf-8")
    code, report = run_gate(["eval", str(root), "--model", "model", "--predictions", "p.parquet"], Path("r.json"))
    assert code == 2
    assert (
        report["error"].splitlines()[0] == "confidence intervals are computed for classification fairness metrics only"
    )
