"""The gates on the edges where they disagreed with their peers (issue 24), each against an independent
implementation on the same data: scipy, scikit-learn, fairlearn, or the textbook formula where the peer
(evidently) cannot be installed beside this project's pandas."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from drift_datasets import digest, evidently
from fairlearn import metrics as fl
from scipy import stats
from sklearn import metrics as sk
from test_gates_support import check_of, column, run_gate, write_project

from compiler.gates.drift import stats as drift_stats


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gates write their summaries to the working directory by default."""
    monkeypatch.chdir(tmp_path)


# --- 1. a `sql` rule whose query returns a boolean -------------------------------------------------------------


def sql_rule(query: str, **operator: Any) -> dict[str, Any]:
    return {"type": "sql", "name": "counted", "query": query, **operator}


@pytest.mark.parametrize(
    ("rule", "status", "value", "message"),
    [
        (sql_rule("SELECT count(*) = 999 FROM ${object}", mustBe=True), "fail", False, "the query returned false"),
        (sql_rule("SELECT count(*) = 1000 FROM ${object}", mustBe=True), "pass", True, "the query returned true"),
        (sql_rule("SELECT count(*) = 999 FROM ${object}", mustNotBe=True), "pass", False, "the query returned false"),
        (sql_rule("SELECT count(*) = 999 FROM ${object}", mustBe=False), "pass", False, "the query returned false"),
        (
            sql_rule("SELECT count(*) FROM ${object}", mustBe=True),
            "fail",
            None,
            "sql rule `counted` cannot be evaluated: `mustBe: true` needs the query to return one boolean, "
            "and it returned a number",
        ),
        (
            sql_rule("SELECT count(*) = 1000 FROM ${object}", mustBe=1000),
            "fail",
            None,
            "sql rule `counted` cannot be evaluated: the query must return one number, and it returned a boolean",
        ),
        (
            sql_rule("SELECT max(code) FROM ${object}", mustBe=1),
            "fail",
            None,
            "sql rule `counted` cannot be evaluated: the query must return one number, and it returned text",
        ),
    ],
)
def test_a_sql_rule_may_return_a_boolean(
    tmp_path: Path, rule: dict[str, Any], status: str, value: Any, message: str
) -> None:
    """ODCS allows `mustBe: true`; datacontract-cli fails `count(*) = 999` on 1,000 rows, and so does Charter."""
    root = write_project(
        tmp_path / "p",
        columns=[column("x", "number"), column("y", "integer"), column("code", "string")],
        features=["x"],
        table_quality=[rule],
    )
    data = tmp_path / "d.csv"
    data.write_text("x,y,code\n" + "".join(f"{i},{i % 2},SECRET{i}\n" for i in range(1000)), "utf-8")
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    found = check_of(report, "rows.quality[0]")
    assert (found["status"], found["value"], found["message"]) == (status, value, message)
    assert code == (0 if status == "pass" else 1)
    assert "SECRET" not in str(report)


# --- 2. a NULL probability of a multiclass model ---------------------------------------------------------------


def multiclass_predictions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    classes = ["cat", "dog", "eel"]
    y = rng.choice(classes, size=n, p=[0.5, 0.3, 0.2])
    logits = rng.normal(0, 1, (n, 3)) + 1.5 * (y[:, None] == np.asarray(classes)[None, :])
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"y_true": y, "y_pred": np.asarray(classes)[prob.argmax(axis=1)]})
    for i, c in enumerate(classes):
        frame[f"y_prob_{c}"] = prob[:, i]
    return frame


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_null_multiclass_probability_is_refused_as_scikit_learn_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    frame = multiclass_predictions(200, seed=3)
    frame.loc[frame.index[:20], "y_prob_dog"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sk.log_loss(frame["y_true"], frame[["y_prob_cat", "y_prob_dog", "y_prob_eel"]])
    path = tmp_path / f"p.{fmt}"
    frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
    root = write_project(
        tmp_path / "project",
        task="multiclass-classification",
        columns=[column("x", "number"), column("y", "string")],
        features=["x"],
        metrics=[{"metric": "log_loss", "max": 10.0}, {"metric": "accuracy", "min": 0.0}],
    )
    code, report = run_gate(["eval", str(root), "--model", "model", "--predictions", str(path)], tmp_path / "r.json")
    assert code == 2
    message = f"{path}: column `y_prob_dog` has 20 null or non-finite value(s) in 200 rows"
    assert report["error"].splitlines() == [message, "  hint: every evaluated row needs a probability for every class"]
    assert message in capsys.readouterr().err


# --- 3, 4, 6. drift: no current values, PSI of rare bins, small samples -------------------------------------------


def drift_project(root: Path, method: str, threshold: float, **drift: Any) -> Path:
    return write_project(
        root,
        columns=[column("income", "number"), column("segment", "string"), column("y", "integer")],
        features=["income", "segment"],
        monitoring={"drift": {"method": method, "threshold": threshold, **drift}},
    )


def drift_gate(root: Path, tmp_path: Path, reference: pd.DataFrame, current: pd.DataFrame) -> tuple[int, Any]:
    reference.to_parquet(tmp_path / "r.parquet")
    current.to_parquet(tmp_path / "c.parquet")
    argv = ["drift", str(root), "--model", "model", "--reference", "r.parquet", "--current", "c.parquet"]
    return run_gate([*argv, "--chart", "c.png"], tmp_path / "d.json")


def features_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["feature"]: f for f in report["features"]}


def incomes(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(50_000, 9_000, n).round(2), "segment": rng.choice(["a", "b"], n)})


@pytest.mark.parametrize("method", ["ks", "psi", "chi2"])
def test_a_current_sample_with_no_values_has_drifted(tmp_path: Path, method: str) -> None:
    root = drift_project(tmp_path / "p", method, 0.05 if method == "chi2" else 0.2)
    current = incomes(500, 2).assign(income=np.nan)
    code, report = drift_gate(root, tmp_path, incomes(1000, 1), current)
    assert code == 1
    income = features_of(report)["income"]
    assert (income["verdict"], income["explanation"]) == ("drift", "drifted: every current value is missing")
    assert report["driftedFeatures"] == ["income"]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_psi_floors_only_empty_bins_as_the_textbook_and_evidently_do(tmp_path: Path) -> None:
    """A category at 1 row in 1,000,000 in the reference, 2.5% in current: PSI 0.2538, drift at 0.2 (it was 0.138).

    Two oracles: the textbook formula, summed here by hand, and evidently 0.7.23's `psi` stattest on the same rows
    (tests/fixtures/evidently-drift.json, which tests/test_peer_evidently.py regenerates in `.venv-evidently`)."""
    reference = pd.DataFrame({"income": np.arange(1_000_000.0), "segment": ["a"] * 999_999 + ["b"]})
    current = pd.DataFrame({"income": np.arange(1000.0) * 100, "segment": ["a"] * 975 + ["b"] * 25})
    root = drift_project(tmp_path / "p", "psi", 0.2)
    code, report = drift_gate(root, tmp_path, reference, current)
    r, c = np.asarray([999_999, 1]) / 1_000_000, np.asarray([975, 25]) / 1000
    textbook = float(np.sum((c - r) * np.log(c / r)))
    segment = features_of(report)["segment"]
    assert segment["psi"] == pytest.approx(textbook, abs=1e-12)
    assert round(textbook, 4) == 0.2538
    assert digest(reference["segment"], current["segment"]) == evidently("rare-category", "segment")["digest"]
    assert segment["psi"] == pytest.approx(evidently("rare-category", "segment")["psi"], abs=1e-12)
    assert (segment["verdict"], code) == ("drift", 1)
    empty = drift_stats.psi(np.asarray([100, 0]), np.asarray([90, 10]))  # only an empty bin is floored
    assert empty == pytest.approx((0.9 - 1.0) * math.log(0.9) + (0.1 - 1e-4) * math.log(0.1 / 1e-4), abs=1e-15)
    assert empty == pytest.approx(evidently("empty-reference-bin", "segment")["psi"], abs=1e-15)


def test_too_few_values_are_not_enough_data_not_drift(tmp_path: Path) -> None:
    """6 against 5 values: KS 0.5 would be drift at 0.3, yet scipy's p-value is 0.36: no evidence either way."""
    reference = pd.DataFrame({"income": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "segment": list("aabbab")})
    current = pd.DataFrame({"income": [4.0, 5.0, 6.0, 7.0, 8.0], "segment": list("abbba")})
    oracle = stats.ks_2samp(reference["income"], current["income"])
    assert (oracle.statistic, round(oracle.pvalue, 2)) == (pytest.approx(0.5), 0.36)
    root = drift_project(tmp_path / "p", "ks", 0.3, minSampleSize=10)
    code, report = drift_gate(root, tmp_path, reference, current)
    assert code == 0
    income = features_of(report)["income"]
    assert income["ks"] == pytest.approx(oracle.statistic, abs=1e-12)
    assert (income["verdict"], income["drift"]) == ("not enough data", False)
    assert income["explanation"] == (
        "not enough data: 6 reference and 5 current values; a verdict needs at least 10 on each side"
    )
    assert check_of(report, "drift.income")["status"] == "warn"
    assert report["notEnoughData"] == ["income", "segment"]
    assert "Not enough data to judge 2 feature(s): income, segment" in (tmp_path / "drift-summary.md").read_text()


def test_the_minimum_sample_size_defaults_to_30(tmp_path: Path) -> None:
    root = drift_project(tmp_path / "p", "ks", 0.3)
    code, report = drift_gate(root, tmp_path, incomes(29, 1), incomes(400, 2))
    assert (code, features_of(report)["income"]["verdict"]) == (0, "not enough data")
    code, report = drift_gate(root, tmp_path, incomes(30, 1), incomes(400, 2))
    assert features_of(report)["income"]["verdict"] == "stable"


def test_chi_squared_says_when_expected_counts_are_small(tmp_path: Path) -> None:
    """Cochran's rule on the same expected counts as scipy's chi2_contingency."""
    reference = pd.DataFrame({"income": np.arange(200.0), "segment": ["a"] * 190 + ["b"] * 8 + ["c"] * 2})
    current = pd.DataFrame({"income": np.arange(100.0), "segment": ["a"] * 90 + ["b"] * 7 + ["c"] * 3})
    root = drift_project(tmp_path / "p", "chi2", 0.05)
    code, report = drift_gate(root, tmp_path, reference, current)
    segment = features_of(report)["segment"]
    assert (code, report["driftedFeatures"]) == (1, ["income"])  # incomes 0..99 against 0..199
    oracle = stats.chi2_contingency([[190, 8, 2], [90, 7, 3]], correction=False)
    small = int(np.sum(oracle.expected_freq < 5))
    assert (segment["chi2SmallExpected"], segment["chi2Cells"], segment["chi2Reliable"]) == (small, 6, False)
    assert segment["chi2PValue"] == pytest.approx(oracle.pvalue, rel=1e-9)
    assert segment["explanation"] == (
        f"stable: chi2 p-value {oracle.pvalue:.4g}; the p-value is approximate: {small} of 6 expected counts are "
        "below 5 (Cochran's rule)"
    )


# --- 9. the definitions of duplicateValues, missingValues and units ------------------------------------------------


def test_duplicates_missing_values_and_units_are_defined_and_refused_where_meaningless(tmp_path: Path) -> None:
    codes = ["A", "A", "A", "B", "C", "C", None, "", "N/A", "D"]
    root = write_project(
        tmp_path / "p",
        columns=[
            column("x", "number"),
            column("y", "integer"),
            column(
                "code",
                "string",
                quality=[
                    {"metric": "duplicateValues", "mustBeLessOrEqualTo": 100},
                    {"metric": "duplicateValues", "unit": "percent", "mustBeLessOrEqualTo": 100},
                    {"metric": "missingValues", "arguments": {"missingValues": ["", "N/A"]}, "mustBe": 0},
                    {"metric": "nullValues", "unit": "rowz", "mustBe": 0},
                ],
            ),
        ],
        features=["x"],
        table_quality=[{"metric": "rowCount", "unit": "percent", "mustBeGreaterThan": 5}],
    )
    data = tmp_path / "d.parquet"
    pd.DataFrame({"x": range(10), "y": range(10), "code": codes}).to_parquet(data)
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    values = pd.Series(codes).dropna()
    repeats = int(values.duplicated(keep="first").sum())  # pandas: rows repeating an earlier value
    repeated_values = int((values.value_counts() > 1).sum())  # datacontract-cli (Soda): values seen more than once
    assert (repeats, repeated_values) == (3, 2)  # A three times, C twice
    assert check_of(report, "code.quality[0]")["value"] == repeats
    assert check_of(report, "code.quality[1]")["value"] == pytest.approx(100 * repeats / len(codes))
    missing = check_of(report, "code.quality[2]")
    assert (missing["status"], missing["value"]) == ("fail", 3)  # NULL (not listed, still missing), "" and N/A
    unknown = check_of(report, "code.quality[3]")
    assert (unknown["status"], unknown["message"]) == (
        "fail",
        "cannot be judged: `unit: rowz` is neither `rows` nor `percent`",
    )
    rows = check_of(report, "rows.quality[0]")
    assert (rows["status"], rows["message"]) == (
        "fail",
        "cannot be judged: `rowCount` counts rows; `unit: percent` would be a percentage of itself",
    )
    assert code == 1


# --- 7. a metric the gate cannot compute is refused by `charter check` ----------------------------------------------


@pytest.mark.parametrize(("task", "metric"), [("generation", "toxicity_rate")])
def test_a_metric_the_gate_cannot_compute_is_refused_at_check_time(tmp_path: Path, task: str, metric: str) -> None:
    from compiler.stages import check_path

    root = write_project(
        tmp_path,
        task=task,
        columns=[column("x", "string"), column("y", "string")],
        features=["x"],
        metrics=[{"metric": "exact_match", "min": 0.5}, {"metric": metric, "max": 1.0}],
    )
    found = [(d.code, d.file, d.line, d.column, d.message, d.hint) for d in check_path(root).diagnostics]
    assert found == [
        (
            "CH403",
            "suite.yaml",
            11,
            13,
            f"`{metric}` fits task `{task}`, but `charter gate eval` does not compute it: its bound could never be "
            "judged",
            "metrics the gate computes for generation: bleu, exact_match, rouge_l",
        )
    ]


# --- 8. a continuous protected attribute -----------------------------------------------------------------------------


def aged_predictions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    y = (rng.random(n) < 0.3).astype(np.int64)
    score = np.round(1 / (1 + np.exp(-(1.6 * (2 * y - 1) + rng.normal(0, 1.2, n) - 0.01 * (age - 40)))), 2)
    frame = pd.DataFrame({"y_true": y, "y_score": score, "y_pred": (score >= 0.5).astype(np.int64), "age": age})
    frame.loc[frame.index[:7], "age"] = None
    return frame


def aged_project(root: Path, bins: list[float] | None) -> Path:
    fairness = [
        {"metric": m, "sensitiveFeature": "age", "max": 1.0, **({"bins": bins} if bins else {})}
        for m in ("demographic_parity_difference", "equalized_odds_difference")
    ]
    return write_project(
        root,
        columns=[column("x", "number"), column("y", "integer"), column("age", "integer", tags=["protected"])],
        features=["x"],
        sensitive=["age"],
        fairness=fairness,
        min_group_size=5,
    )


def test_a_continuous_protected_attribute_is_grouped_by_declared_bins_as_fairlearn(tmp_path: Path) -> None:
    frame = aged_predictions(3000, seed=8)
    frame.to_parquet(tmp_path / "p.parquet")
    root = aged_project(tmp_path / "project", bins=[25, 40, 65])
    argv = ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")]
    code, report = run_gate(argv, tmp_path / "r.json")
    assert code == 0, report["checks"]
    bands = pd.cut(
        frame["age"], [-np.inf, 25, 40, 65, np.inf], right=False, labels=["< 25", "[25, 40)", "[40, 65)", "≥ 65"]
    )
    bands = bands.cat.add_categories("(missing)").fillna("(missing)")
    oracle = fl.MetricFrame(
        metrics={"selection_rate": fl.selection_rate, "count": fl.count},
        y_true=frame["y_true"],
        y_pred=frame["y_pred"],
        sensitive_features=bands,
    )
    groups = {row["group"]: row for row in report["fairness"]["age"]["groups"]}
    assert set(groups) == {"< 25", "[25, 40)", "[40, 65)", "≥ 65", "(missing)"}
    for label, row in oracle.by_group.iterrows():
        assert groups[label]["count"] == row["count"]
        assert groups[label]["selectionRate"] == pytest.approx(row["selection_rate"], abs=1e-12)
    for index, metric in enumerate(["demographic_parity_difference", "equalized_odds_difference"]):
        expected = getattr(fl, metric)(frame["y_true"], frame["y_pred"], sensitive_features=bands)
        assert check_of(report, f"fairness[{index}].{metric}@age")["value"] == pytest.approx(expected, abs=1e-12)


def test_a_continuous_protected_attribute_without_bins_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    aged_predictions(3000, seed=8).to_parquet(path)
    root = aged_project(tmp_path / "project", bins=None)
    code, report = run_gate(["eval", str(root), "--model", "model", "--predictions", str(path)], tmp_path / "r.json")
    assert code == 2
    assert report["error"].splitlines() == [
        f"{path}: column `age` is numeric with 62 distinct values; as many groups would each be too small to judge",
        "  hint: declare `bins` on the fairness checks of `age`, for example `bins: [25, 40, 65]`",
    ]


def test_bins_must_ascend(tmp_path: Path) -> None:
    from compiler.stages import check_path

    root = aged_project(tmp_path, bins=[40, 25])
    found = [(d.code, d.file, d.line, d.message) for d in check_path(root).diagnostics if d.file == "suite.yaml"]
    assert found == [("CH208", "suite.yaml", line, "`bins` must be strictly ascending") for line in (12, 18)]


# --- 5. a `local` server is read by DuckDB, inside its memory limit, as --data is ----------------------------------


def test_a_local_server_is_read_as_the_same_files_are_with_data(tmp_path: Path) -> None:
    """The pyarrow dataset behind a `local` server read ahead outside DuckDB's memory limit (650 MB against 351 MB
    at 2 million rows); now DuckDB reads the files itself, and finds the same."""
    from compiler.gates.io.inputs import open_input
    from compiler.gates.project import Reach

    rows = ["x,y,code"] + [f"{i},{i % 3},{'AB' if i % 7 else 'bad'}" for i in range(400)]
    quality = [
        {"type": "sql", "name": "few-bad", "query": "SELECT count(*) FROM ${object} WHERE code = 'bad'", "mustBe": 0}
    ]
    server = {"server": "disk", "type": "local", "path": "data/rows.csv", "format": "csv"}
    root = write_project(
        tmp_path / "p",
        columns=[
            column("x", "integer"),
            column(
                "y", "integer", quality=[{"metric": "invalidValues", "arguments": {"validValues": [0, 1]}, "mustBe": 0}]
            ),
            column("code", "string", quality=quality),
        ],
        features=["x"],
        contract_extra={"servers": [server]},
    )
    (root / "data").mkdir()  # a local server's path is inside the project, relative to its root
    (root / "data" / "rows.csv").write_text("\n".join(rows) + "\n", "utf-8")
    argv = ["data", str(root), "--contract", "data"]
    code, on_server = run_gate([*argv, "--server", "disk"], tmp_path / "server.json")
    data_code, with_data = run_gate([*argv, "--data", str(root / "data" / "rows.csv")], tmp_path / "data.json")
    assert (code, data_code) == (1, 1)
    found = {c["id"]: (c["status"], c["value"]) for c in on_server["checks"]}
    assert found == {c["id"]: (c["status"], c["value"]) for c in with_data["checks"]}
    assert found["code.quality[0]"] == ("fail", 58)
    assert found["y.quality[0]"] == ("fail", 133)
    contract = yaml.safe_load((root / "contract.yaml").read_text("utf-8"))
    source = open_input(None, (contract, "data", "disk", "rows"), "data", reach=Reach(None, root))
    assert (source.backend, source.files, source.format) == (None, (str(root / "data" / "rows.csv"),), "csv")
    assert source.relation().startswith("read_csv([")


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("/d/cities/a.csv", "/d/cities/*.csv", True),
        ("/d/cities/invalid/a.csv", "/d/cities/*.csv", False),  # fnmatch's `*` crossed the folder
        ("/d/cities/invalid/a.csv", "/d/cities/**/*.csv", True),
        ("/d/cities/a.csv", "/d/cities/**/*.csv", True),
        ("lake/logs/day=1/part.parquet", "lake/logs/**", True),
        ("/d/a1.csv", "/d/a?.csv", True),
        ("/d/ab.csv", "/d/a[bc].csv", True),
        ("/d/ad.csv", "/d/a[bc].csv", False),
    ],
)
def test_a_server_glob_reads_as_duckdb_reads_it(path: str, pattern: str, matches: bool) -> None:
    """datacontract-cli's `./fixtures/schema-evolution/*.csv` took a file of `invalid/` too (8 rows, not 6)."""
    from compiler.gates.io.objectstore import glob_match

    assert glob_match(path, pattern) is matches
