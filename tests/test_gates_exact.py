"""The gates on the edges where they disagreed with their peers (issue 24), each against an independent
implementation on the same data: scipy, scikit-learn, fairlearn, or the textbook formula where the peer
(evidently) cannot be installed beside this project's pandas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from test_gates_support import check_of, column, run_gate, write_project


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
            "sql rule `counted` cannot be evaluated: the query must return one number, and it returned "
            "a value of type str",
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
