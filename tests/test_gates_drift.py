"""`charter gate drift`: statistics equal scipy's, and a shifted feature is caught."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from drift_datasets import digest, evidently, shifted_traffic, traffic
from scipy import special, stats
from test_gates_support import CREDIT, check_of, column, gate, run_gate, write_project

from compiler.gates.data import synthetic
from compiler.gates.drift import stats as drift_stats

TOL = 1e-9


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drift gate writes drift-summary.md to the working directory by default."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("seed", range(8))
def test_ks_statistic_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.round(rng.normal(0, 1, int(rng.integers(1, 3000))), int(rng.integers(0, 4)))  # ties
    b = np.round(rng.normal(rng.uniform(-0.5, 0.5), 1.2, int(rng.integers(1, 3000))), int(rng.integers(0, 4)))
    assert drift_stats.ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=TOL)


@pytest.mark.parametrize("seed", range(8))
def test_chi_squared_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 30))
    ref = rng.integers(1, 5000, k)
    cur = rng.integers(1, 5000, k)
    statistic, dof, p_value = drift_stats.chi2_homogeneity(ref, cur)
    oracle = stats.chi2_contingency(np.vstack((ref, cur)), correction=False)
    assert statistic == pytest.approx(oracle.statistic, rel=TOL)
    assert dof == oracle.dof
    assert p_value == pytest.approx(oracle.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("a", [0.5, 1.0, 2.5, 14.5, 200.0, 5000.0])
@pytest.mark.parametrize("x", [1e-3, 0.7, 3.0, 15.0, 199.0, 260.0, 4800.0, 5600.0])
def test_upper_incomplete_gamma_equals_scipy(a: float, x: float) -> None:
    expected = float(special.gammaincc(a, x))
    assert drift_stats.gammaincc(a, x) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_psi_by_hand() -> None:
    ref = np.asarray([50, 30, 20])
    cur = np.asarray([40, 30, 30])
    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.3 - 0.2) * math.log(0.3 / 0.2)
    assert drift_stats.psi(ref, cur) == pytest.approx(expected, abs=1e-15)
    empty = drift_stats.psi(np.asarray([100, 0]), np.asarray([90, 10]))  # an empty reference bin: epsilon
    assert empty == pytest.approx((0.9 - 1.0) * math.log(0.9) + (0.1 - 1e-4) * math.log(0.1 / 1e-4), abs=1e-12)
    assert drift_stats.psi(ref, cur) == pytest.approx(evidently("psi-by-hand", "segment")["psi"], abs=1e-15)
    assert empty == pytest.approx(evidently("empty-reference-bin", "segment")["psi"], abs=1e-15)


def test_psi_bins_are_reference_deciles_closed_on_the_right() -> None:
    reference = np.arange(1, 101, dtype=float)
    binned = drift_stats.numeric_bins(reference, np.asarray([0.0, 10.9, 11.0, 500.0]), 0, 2)
    assert binned.edges.tolist() == pytest.approx(np.quantile(reference, np.linspace(0, 1, 11)[1:-1]).tolist())
    assert binned.reference.tolist() == [10] * 10 + [0]
    assert binned.current.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    assert binned.labels[0].startswith("≤")
    assert binned.labels[-1] == "(missing)"
    tied = drift_stats.numeric_bins(np.asarray([0.0] * 90 + [1.0] * 10), np.asarray([0.0, 1.0]), 0, 0)
    assert tied.edges.tolist() == pytest.approx([0.0, 0.1])  # eight deciles at 0 collapse into one edge


def drift_project(root: Path, method: str, threshold: float) -> Path:
    return write_project(
        root,
        columns=[
            column("income", "number"),
            column("segment", "string"),
            column("seen", "timestamp"),
            column("y", "integer"),
        ],
        features=["income", "segment", "seen"],
        monitoring={"drift": {"method": method, "threshold": threshold}, "retrainOnDrift": True},
    )


@pytest.mark.parametrize(("method", "threshold"), [("psi", 0.2), ("ks", 0.1), ("chi2", 0.01)])
def test_a_shifted_feature_is_caught(tmp_path: Path, method: str, threshold: float) -> None:
    root = drift_project(tmp_path / "p", method, threshold)
    reference = tmp_path / "reference.parquet"
    traffic(20_000, 1).to_parquet(reference)
    same, shifted = tmp_path / "same.parquet", tmp_path / "shifted.csv"
    traffic(20_000, 2).to_parquet(same)
    traffic(20_000, 3, shift=0.5).to_csv(shifted, index=False)
    argv = ["drift", str(root), "--model", "model", "--reference", str(reference)]
    code, report = run_gate([*argv, "--current", str(same)], tmp_path / "same.json")
    assert code == 0, report["features"]
    assert report["drift"] is False
    summary = tmp_path / "summary.md"
    code, report = run_gate(
        [*argv, "--current", str(shifted), "--summary", str(summary), "--chart", str(tmp_path / "c.png")],
        tmp_path / "shifted.json",
    )
    assert code == 1
    assert report["drift"] is True
    assert report["retrain"] is True
    assert report["driftedFeatures"] == ["income"]
    assert check_of(report, "drift.income")["status"] == "fail"
    assert "retraining is dispatched" in summary.read_text("utf-8")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_reported_statistics_equal_scipy_on_the_files(tmp_path: Path) -> None:
    root = drift_project(tmp_path / "p", "psi", 0.2)
    ref, cur = shifted_traffic()
    ref.to_parquet(tmp_path / "r.parquet")
    cur.to_parquet(tmp_path / "c.parquet")
    code, report = run_gate(
        [
            "drift",
            str(root),
            "--model",
            "model",
            "--reference",
            str(tmp_path / "r.parquet"),
            "--current",
            str(tmp_path / "c.parquet"),
        ],
        tmp_path / "d.json",
    )
    features = {f["feature"]: f for f in report["features"]}
    a, b = ref["income"].dropna().to_numpy(), cur["income"].dropna().to_numpy()
    assert features["income"]["ks"] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=TOL)
    seen_ks = stats.ks_2samp(ref["seen"].astype("int64") / 1e9, cur["seen"].astype("int64") / 1e9).statistic
    assert features["seen"]["ks"] == pytest.approx(seen_ks, abs=TOL)
    counts = pd.concat([ref["segment"].value_counts(), cur["segment"].value_counts()], axis=1).fillna(0).to_numpy().T
    chi2 = stats.chi2_contingency(counts, correction=False)
    assert features["segment"]["chi2"] == pytest.approx(chi2.statistic, rel=TOL)
    assert features["segment"]["chi2PValue"] == pytest.approx(chi2.pvalue, rel=1e-9, abs=1e-300)
    shares = counts / counts.sum(axis=1, keepdims=True)
    psi = float(np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0])))
    assert features["segment"]["psi"] == pytest.approx(psi, abs=TOL)
    assert digest(ref["segment"], cur["segment"]) == evidently("shifted-traffic", "segment")["digest"]
    assert features["segment"]["psi"] == pytest.approx(evidently("shifted-traffic", "segment")["psi"], abs=TOL)
    assert features["segment"]["drift"] is (psi > 0.2)
    assert code == (1 if any(f["drift"] for f in report["features"]) else 0)


def test_the_example_model_catches_income_drift(tmp_path: Path) -> None:
    reference = synthetic.write(synthetic.features(20_000, seed=1), tmp_path / "reference.parquet")
    current = synthetic.write(synthetic.features(20_000, seed=2, shift=0.6), tmp_path / "current.csv")
    code, report = run_gate(
        ["drift", str(CREDIT), "--model", "credit-default", "--reference", str(reference), "--current", str(current)],
        tmp_path / "d.json",
    )
    assert code == 1
    assert report["driftedFeatures"] == ["annual_income"]
    assert report["method"] == "psi"
    assert report["threshold"] == 0.2


def test_the_drift_summary_defaults_to_drift_summary_md(tmp_path: Path) -> None:
    root = drift_project(tmp_path / "p", "psi", 0.2)
    traffic(2000, 1).to_parquet(tmp_path / "r.parquet")
    traffic(2000, 1).to_parquet(tmp_path / "c.parquet")
    assert gate(["drift", str(root), "--model", "model", "--reference", "r.parquet", "--current", "c.parquet"]) == 0
    assert (tmp_path / "drift-summary.md").read_text("utf-8").startswith("## ✅ Charter drift gate: pass")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"income": [1.0], "segment": ["a"]}), "column `seen` is missing (needed for drift monitoring)"),
        (pd.DataFrame({"income": ["x"], "segment": ["a"], "seen": ["2024-01-01"]}), "value(s) are not numbers"),
    ],
)
def test_unusable_drift_inputs_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], frame: pd.DataFrame, message: str
) -> None:
    root = drift_project(tmp_path / "p", "psi", 0.2)
    traffic(100, 1).to_parquet(tmp_path / "r.parquet")
    frame.to_csv(tmp_path / "c.csv", index=False)
    code = gate(
        [
            "drift",
            str(root),
            "--model",
            "model",
            "--reference",
            str(tmp_path / "r.parquet"),
            "--current",
            str(tmp_path / "c.csv"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'c.csv'}: " in err
    assert message in err


def test_a_model_without_monitoring_cannot_be_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_project(tmp_path / "p", columns=[column("x", "number"), column("y", "integer")], features=["x"])
    pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(tmp_path / "r.parquet")
    args: list[Any] = ["drift", str(root), "--model", "model", "--reference", str(tmp_path / "r.parquet")]
    assert gate([*args, "--current", str(tmp_path / "r.parquet")]) == 2
    assert "has no `monitoring` section" in capsys.readouterr().err
