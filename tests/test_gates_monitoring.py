"""Drift a monitoring team accepts (issue 24): more statistics, each equal to scipy's, a method and threshold per
column, the model's predictions and labels watched, and a data-set verdict from the share of drifted columns."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from drift_datasets import digest, evidently, per_feature_traffic
from drift_datasets import scored_traffic as traffic
from scipy import stats
from scipy.spatial import distance
from test_gates_support import check_of, column, run_gate, write_project

from compiler.gates.drift import stats as drift_stats

TOL = 1e-12


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("seed", range(6))
def test_the_distances_equal_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.round(rng.normal(0, 1, int(rng.integers(2, 3000))), int(rng.integers(0, 3)))
    b = np.round(rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 2), int(rng.integers(2, 3000))), 2)
    expected = stats.wasserstein_distance(a, b) / max(float(np.std(a)), 1e-3)
    assert drift_stats.wasserstein_normed(a, b) == pytest.approx(expected, rel=1e-9, abs=TOL)
    ref, cur = rng.integers(0, 500, 12), rng.integers(0, 500, 12)
    ref[int(rng.integers(0, 12))] = 0
    assert drift_stats.jensen_shannon(ref, cur) == pytest.approx(distance.jensenshannon(ref, cur), abs=TOL)
    p, q = ref / ref.sum(), cur / cur.sum()
    hellinger = math.sqrt(0.5 * sum((math.sqrt(x) - math.sqrt(y)) ** 2 for x, y in zip(p, q, strict=True)))
    assert drift_stats.hellinger(ref, cur) == pytest.approx(hellinger, abs=TOL)
    d = stats.ks_2samp(a, b).statistic
    en = a.size * b.size / (a.size + b.size)
    oracle = stats.kstwobign.sf(math.sqrt(en) * d)
    assert drift_stats.ks_p_value(d, a.size, b.size) == pytest.approx(oracle, rel=1e-9, abs=1e-14)


def test_a_constant_reference_is_normalised_by_a_floor_of_0_001() -> None:
    """evidently divides by max(std, 0.001), so a constant reference does not divide by zero."""
    a, b = np.zeros(100), np.full(100, 0.002)
    assert drift_stats.wasserstein_normed(a, b) == pytest.approx(2.0, abs=TOL)


def monitored(root: Path, **drift: Any) -> Path:
    return write_project(
        root,
        columns=[column("income", "number"), column("segment", "string"), column("y", "integer")],
        features=["income", "segment"],
        monitoring={"drift": {"method": "psi", "threshold": 0.2, **drift}},
    )


def drift_gate(root: Path, reference: pd.DataFrame, current: pd.DataFrame) -> tuple[int, dict[str, Any]]:
    reference.to_parquet("r.parquet")
    current.to_parquet("c.parquet")
    argv = ["drift", str(root), "--model", "model", "--reference", "r.parquet", "--current", "c.parquet"]
    return run_gate([*argv, "--chart", "c.png"], Path("d.json"))


def by_column(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["feature"]: f for f in report["features"]}


def test_each_column_is_judged_by_its_own_method_against_scipy(tmp_path: Path) -> None:
    root = monitored(
        tmp_path / "p",
        perFeature=[
            {"feature": "income", "method": "wasserstein", "threshold": 0.1},
            {"feature": "segment", "method": "jensenshannon", "threshold": 0.05},
        ],
    )
    reference, current = per_feature_traffic()
    code, report = drift_gate(root, reference, current)
    columns = by_column(report)
    income, segment = columns["income"], columns["segment"]
    wasserstein = stats.wasserstein_distance(reference["income"], current["income"]) / np.std(reference["income"])
    assert (income["method"], income["statisticName"]) == ("wasserstein", "Wasserstein (normalised)")
    assert income["statistic"] == pytest.approx(wasserstein, rel=1e-9)
    for name in ("income", "segment"):  # evidently 0.7.23 on the same values (tests/test_peer_evidently.py)
        assert digest(reference[name], current[name]) == evidently("per-feature-traffic", name)["digest"]
    assert income["statistic"] == pytest.approx(evidently("per-feature-traffic", "income")["wasserstein"], abs=TOL)
    assert segment["statistic"] == pytest.approx(evidently("per-feature-traffic", "segment")["jensenShannon"], abs=TOL)
    assert income["verdict"] == ("drift" if wasserstein > 0.1 else "stable")
    counts = pd.concat([reference["segment"].value_counts(), current["segment"].value_counts()], axis=1).fillna(0)
    js = distance.jensenshannon(counts.iloc[:, 0], counts.iloc[:, 1])
    assert segment["statistic"] == pytest.approx(js, abs=TOL)
    assert segment["verdict"] == ("drift" if js > 0.05 else "stable")
    ks = stats.ks_2samp(reference["income"], current["income"])
    assert income["ksPValue"] == pytest.approx(stats.kstwobign.sf(math.sqrt(4000 * 3000 / 7000) * ks.statistic))
    assert code == (1 if report["driftedFeatures"] else 0)
    summary = Path("drift-summary.md").read_text("utf-8")
    assert "| Wasserstein (normalised) |" in summary
    assert Path("c.png").read_bytes()[:4] == b"\x89PNG"


def test_a_feature_judged_by_a_rule_it_is_not_watched_for_is_refused(tmp_path: Path) -> None:
    root = monitored(tmp_path / "p", perFeature=[{"feature": "y", "method": "ks", "threshold": 0.1}], label=False)
    code, report = drift_gate(root, traffic(100, 1), traffic(100, 2))
    assert code == 2
    assert report["error"].splitlines()[0] == "monitoring.drift.perFeature names `y`, which is not watched"


def test_predictions_and_labels_are_watched_when_present(tmp_path: Path) -> None:
    """Concept drift shows in the labels and the model's output before a feature moves."""
    root = monitored(tmp_path / "p", prediction="score")
    code, report = drift_gate(root, traffic(3000, 1, label=0.2), traffic(3000, 2, shift=1.5, label=0.45))
    columns = by_column(report)
    assert [(c["feature"], c["role"]) for c in report["features"]] == [
        ("income", "feature"),
        ("segment", "feature"),
        ("score", "feature"),
        ("y", "label"),
    ]
    assert columns["y"]["verdict"] == "drift"
    assert columns["score"]["verdict"] == "drift"
    assert code == 1
    assert "| `y` (label) |" in Path("drift-summary.md").read_text("utf-8")
    code, report = drift_gate(root, traffic(3000, 1, label=0.2), traffic(3000, 2))  # no labels yet in production
    assert "y" not in by_column(report)


@pytest.mark.parametrize(("share", "code", "status"), [(0.75, 0, "pass"), (0.5, 1, "fail")])
def test_the_data_set_drifts_when_enough_columns_drift(tmp_path: Path, share: float, code: int, status: str) -> None:
    root = monitored(tmp_path / "p", driftShare=share, label=False)
    found, report = drift_gate(root, traffic(3000, 1), traffic(3000, 2, shift=8.0))
    assert report["driftedFeatures"] == ["income"]
    assert report["driftShare"] == pytest.approx(1 / 2)
    assert check_of(report, "drift.income")["status"] == "warn"  # the share decides
    assert check_of(report, "drift.dataset")["status"] == status
    assert (found, report["drift"]) == (code, status == "fail")


# --- production performance and fairness, once labels arrive ---------------------------------------------------------

NOW = "2024-07-01T00:00:00Z"


def production_predictions(seed: int) -> pd.DataFrame:
    """Ten weeks of scored applications: the last six weeks degrade, and more for group b; the last week has no
    labels yet (they arrive after 7 days)."""
    rng = np.random.default_rng(seed)
    n = 7000
    at = pd.Timestamp("2024-07-01", tz="UTC") - pd.to_timedelta(rng.integers(0, 70 * 86400, n), unit="s")
    group = rng.choice(["a", "b"], n)
    y = (rng.random(n) < 0.3).astype(float)
    recent = at > pd.Timestamp("2024-05-20", tz="UTC")
    noise = rng.normal(0, 1.0 + 1.5 * recent + 1.0 * (recent & (group == "b")), n)
    score = np.round(1 / (1 + np.exp(-(2.0 * (2 * y - 1) + noise - 0.5 * recent * (group == "b")))), 2)
    y[at > pd.Timestamp("2024-06-24", tz="UTC")] = np.nan  # labels not arrived yet
    return pd.DataFrame({"predicted_at": at, "y_true": y, "y_score": score, "g": group})


def production_project(root: Path, **performance: Any) -> Path:
    server = {"server": "prod", "type": "local", "path": "prod/predictions.parquet", "format": "parquet"}
    watched = {"data": {"contract": "data", "server": "prod"}, "timestamp": "predicted_at", **performance}
    return write_project(
        root,
        columns=[column("x", "number"), column("y", "integer"), column("g", "string"), column("at", "timestamp")],
        features=["x"],
        sensitive=["g"],
        metrics=[{"metric": "accuracy", "min": 0.8}, {"metric": "roc_auc", "min": 0.8}],
        fairness=[{"metric": "equalized_odds_difference", "sensitiveFeature": "g", "max": 0.1}],
        min_group_size=30,
        contract_extra={"servers": [server]},
        monitoring={"drift": {"method": "psi", "threshold": 0.2}, "performance": watched},
    )


def test_performance_and_fairness_are_judged_on_labelled_production_data(tmp_path: Path) -> None:
    from fairlearn import metrics as fl
    from sklearn import metrics as sk

    frame = production_predictions(seed=5)
    root = production_project(tmp_path / "p", labelDelay="7d", window="4w")
    (root / "prod").mkdir()  # a local server's path is inside the project, relative to its root
    frame.to_parquet(root / "prod/predictions.parquet")
    argv = ["eval", str(root), "--model", "model", "--production", "--now", NOW]
    code, report = run_gate(argv, tmp_path / "r.json")
    start, end = pd.Timestamp("2024-05-27", tz="UTC"), pd.Timestamp("2024-06-24", tz="UTC")
    window = frame[(frame["predicted_at"] >= start) & (frame["predicted_at"] < end)]
    assert window["y_true"].notna().all()
    y, pred = window["y_true"].astype(int), (window["y_score"] >= 0.5).astype(int)
    assert report["subject"]["production"] == {
        "timestamp": "predicted_at",
        "from": "2024-05-27T00:00:00+00:00",
        "to": "2024-06-24T00:00:00+00:00",
        "labelDelay": "7d",
        "window": "4w",
        "rows": len(frame),
        "inWindow": len(window),
        "withoutTime": 0,
    }
    metrics = {m["metric"]: m for m in report["metrics"]}
    assert metrics["accuracy"]["value"] == pytest.approx(sk.accuracy_score(y, pred), abs=1e-12)
    assert metrics["roc_auc"]["value"] == pytest.approx(sk.roc_auc_score(y, window["y_score"]), abs=1e-12)
    odds = check_of(report, "fairness[0].equalized_odds_difference@g")
    expected = fl.equalized_odds_difference(y, pred, sensitive_features=window["g"])
    assert odds["value"] == pytest.approx(expected, abs=1e-12)
    assert (metrics["accuracy"]["status"], odds["status"]) == ("fail", "fail")  # the degradation is caught
    assert code == 1
    before = frame[frame["predicted_at"] < pd.Timestamp("2024-05-20", tz="UTC")]
    assert sk.accuracy_score(before["y_true"].astype(int), (before["y_score"] >= 0.5).astype(int)) > 0.8


def test_a_window_without_labelled_predictions_cannot_be_judged(tmp_path: Path) -> None:
    root = production_project(tmp_path / "p", labelDelay="12w", window="1w")
    (root / "prod").mkdir()
    production_predictions(seed=5).to_parquet(root / "prod/predictions.parquet")
    code, report = run_gate(["eval", str(root), "--model", "model", "--production", "--now", NOW], tmp_path / "r.json")
    assert code == 2
    assert report["error"].splitlines() == [
        "server `prod` (local) prod/predictions.parquet: no prediction in the window 2024-04-01T00:00:00+00:00 to "
        "2024-04-08T00:00:00+00:00 (7,000 rows, 0 without a time in `predicted_at`)",
        "  hint: labels may not have arrived yet: check monitoring.performance.labelDelay and window",
    ]


@pytest.mark.parametrize(
    ("performance", "expected"),
    [
        (
            {"data": {"contract": "nope"}, "timestamp": "at"},
            ("CH401", 33, 19, "no data contract with id or name `nope`"),
        ),
        (
            {"data": {"contract": "data"}, "timestamp": "at", "window": "2x"},
            ("CH205", 35, 15, "`window` must match the pattern `^(0|[1-9][0-9]{0,4}[hdw])$` (got `2x`)"),
        ),
    ],
)
def test_the_labelled_data_is_checked_by_charter_check(
    tmp_path: Path, performance: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    from compiler.stages import check_path

    root = write_project(
        tmp_path,
        columns=[column("x", "number"), column("y", "integer")],
        features=["x"],
        monitoring={"drift": {"method": "psi", "threshold": 0.2}, "performance": performance},
    )
    found = [(d.code, d.line, d.column, d.message) for d in check_path(root).diagnostics if d.file == "model.yaml"]
    assert found == [expected]


@pytest.mark.parametrize(
    ("rows", "numeric", "categorical"),
    [
        (800, ("auto: ks-p", "KS p-value", 0.05), ("auto: chi2", "chi2 p-value", 0.05)),
        (5000, ("auto: wasserstein", "Wasserstein (normalised)", 0.1), ("auto: jensenshannon", "Jensen-Shannon", 0.1)),
    ],
)
def test_auto_chooses_by_type_and_reference_size_as_evidently(
    tmp_path: Path, rows: int, numeric: tuple[Any, ...], categorical: tuple[Any, ...]
) -> None:
    root = write_project(
        tmp_path / "p",
        columns=[column("income", "number"), column("segment", "string"), column("y", "integer")],
        features=["income", "segment"],
        monitoring={"drift": {"method": "auto"}},
    )
    reference, current = traffic(rows, 1), traffic(rows, 2, shift=1.0, mix=0.05)
    code, report = drift_gate(root, reference, current)
    columns = by_column(report)
    for name, expected in (("income", numeric), ("segment", categorical)):
        assert (columns[name]["method"], columns[name]["statisticName"], columns[name]["threshold"]) == expected
    income, segment = columns["income"], columns["segment"]
    if rows <= 1000:
        ks = stats.ks_2samp(reference["income"], current["income"])
        p = stats.kstwobign.sf(math.sqrt(rows * rows / (2 * rows)) * ks.statistic)
        assert income["statistic"] == pytest.approx(p, rel=1e-9, abs=1e-14)
        assert income["verdict"] == ("drift" if p < 0.05 else "stable")
        counts = pd.concat([reference["segment"].value_counts(), current["segment"].value_counts()], axis=1)
        chi2 = stats.chi2_contingency(counts.fillna(0).to_numpy().T, correction=False)
        assert segment["statistic"] == pytest.approx(chi2.pvalue, rel=1e-9)
    else:
        w = stats.wasserstein_distance(reference["income"], current["income"]) / np.std(reference["income"])
        assert income["statistic"] == pytest.approx(w, rel=1e-9)
        assert income["verdict"] == ("drift" if w > 0.1 else "stable")
    assert code == (1 if report["driftedFeatures"] else 0)
    assert report["headline"].startswith("model `model` 1.0.0 · auto threshold per column")


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        ({"method": "auto", "threshold": 0.1}, "`method: auto` chooses each column's threshold; remove `threshold`"),
        ({"method": "psi"}, "`method: psi` needs a `threshold`"),
    ],
)
def test_a_threshold_goes_with_every_method_but_auto(tmp_path: Path, drift: dict[str, Any], message: str) -> None:
    from compiler.stages import check_path

    root = write_project(
        tmp_path, columns=[column("x", "number"), column("y", "integer")], features=["x"], monitoring={"drift": drift}
    )
    found = [d.message for d in check_path(root).diagnostics if d.file == "model.yaml"]
    assert len(found) == 1, found
    assert found[0].startswith(message), found
