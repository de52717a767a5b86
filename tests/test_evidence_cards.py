"""Model cards show committed evidence: measured values, bounds, verdicts, groups, data, and staleness.

Also: the examples' evidence is what scripts/example_evidence.py produces, and the EU AI Act
evidence rule fails the credit model once its evidence is gone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts_support import load_script

from compiler.commands.cli import main
from compiler.core.templating import markdown_text
from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CARDS = {
    "credit-scoring": ("credit-default", "3.2.0"),
    "demand-forecast": ("demand-forecast", "1.4.0"),
}
DATASETS = {"credit-scoring": "credit-holdout", "demand-forecast": "sales-history"}
Capture = pytest.CaptureFixture[str]


def _card(project: Path, model: str) -> tuple[dict[str, Any], str]:
    text = (project / "docs" / "models" / f"{model}.md").read_text("utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def _record(project: Path, model: str, version: str, gate: str = "eval") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / "evidence" / model / version / f"{gate}.json").read_text("utf-8"))
    return data


def _copy(tmp_path: Path, example: str, *, evidence: bool = True) -> Path:
    copy = tmp_path / example
    ignored = [".charter", ".github", "deploy", "docs"] + ([] if evidence else ["evidence"])
    shutil.copytree(EXAMPLES / example, copy, ignore=shutil.ignore_patterns(*ignored))
    return copy


def _build(project: Path, capsys: Capture) -> None:
    assert main(["build", str(project), "--color", "never"]) == 0, capsys.readouterr()
    capsys.readouterr()


@pytest.mark.parametrize("example", sorted(CARDS))
def test_the_examples_cards_show_the_measured_values_of_their_committed_evidence(example: str) -> None:
    model, version = CARDS[example]
    project = EXAMPLES / example
    record = _record(project, model, version)
    front, body = _card(project, model)
    (result,) = front["model-index"][0]["results"]
    measured = [m for m in record["metrics"] if m.get("value") is not None]
    assert len(measured) == len(record["metrics"]) > 0
    assert [(m["type"], m["value"]) for m in result["metrics"]] == [(m["metric"], m["value"]) for m in measured]
    for shown, item in zip(result["metrics"], measured, strict=True):
        assert shown["args"]["verdict"] == item["status"] == "pass"
        low, high = item.get("min"), item.get("max")
        assert shown["args"]["bound"] == (f">= {low:g}" if low is not None else f"<= {high:g}")
        assert shown["args"]["stale"] is False
    assert result["dataset"] == {"name": DATASETS[example], "type": DATASETS[example]}
    assert f"Measured by the eval gate at commit `{record['commit'][:12]}`" in body
    assert f"recorded in `evidence/{model}/{version}/eval.json`. Verdict: **pass**." in body
    assert "STALE" not in body
    (data,) = record["inputs"]
    # A backtick in the label is shown as `'` inside code; the DVC-tracked server's data version follows the rows.
    shown = data["path"].replace("`", "'")
    version = f", DVC data version md5 `{data['dvc']['md5']}`" if "dvc" in data else ""
    assert f"- `{shown}` (parquet, {data['rows']:,} rows{version})" in body


def test_the_credit_card_lists_every_group_with_its_size_and_rates() -> None:
    record = _record(EXAMPLES / "credit-scoring", "credit-default", "3.2.0")
    _, body = _card(EXAMPLES / "credit-scoring", "credit-default")
    for feature in ("gender", "age_band", "marital_status"):
        assert f"Groups of {markdown_text(feature)}:" in body
        for group in record["fairness"][feature]["groups"]:
            row = f"| {markdown_text(group['group'])} | {group['count']:,} | "
            assert row in body, row
    dp = next(c for c in record["checks"] if c["id"] == "fairness[0].demographic_parity_difference@gender")
    assert f"| demographic\\_parity\\_difference | gender | {round(dp['value'], 4):g} | <= 0.1 | pass |" in body


def test_the_examples_evidence_is_current(tmp_path: Path) -> None:
    for example, (model, _) in CARDS.items():
        entry = check_path(EXAMPLES / example).evidence[model]
        assert {gate: record.changed for gate, record in entry.records.items()} == dict.fromkeys(entry.records, ())
        assert "eval" in entry.records


def test_a_bound_change_marks_the_card_stale(tmp_path: Path, capsys: Capture) -> None:
    project = _copy(tmp_path, "credit-scoring")
    _build(project, capsys)
    suite = project / "suites" / "credit-default-eval.yaml"
    suite.write_text(suite.read_text("utf-8").replace("min: 0.80", "min: 0.85", 1), "utf-8")
    assert main(["build", str(project), "--check", "--no-diff"]) == 1
    assert "docs/models/credit-default.md: stale (its specs changed); run `charter build`" in capsys.readouterr().out
    _build(project, capsys)
    front, body = _card(project, "credit-default")
    assert (
        "> **⚠️ STALE evidence.** These values were measured on version 3.2.0, but the evaluation suite changed "
        "since. Run the evaluation gate again and record its report (`charter evidence record`)."
    ) in body
    record = _record(project, "credit-default", "3.2.0")
    auc = record["metrics"][0]["value"]
    assert f"| roc\\_auc | {round(auc, 4):g} | >= 0.8 (today: >= 0.85) | pass | 20,000 |" in body
    metrics = front["model-index"][0]["results"][0]["metrics"]
    assert metrics[0]["name"] == "roc_auc (bound >= 0.8): pass, stale"
    assert {m["args"]["stale"] for m in metrics} == {True}
    assert "- eval gate: **pass** at commit" in body
    assert "(**stale**: the specs changed since)." in body
    # The policy that asks for evidence now fails too: the evidence was judged against another suite.
    findings = [d for d in check_path(project).diagnostics if d.policy == "eu-ai-act-evidence"]
    assert [(d.rule, d.severity.value, d.message) for d in findings] == [
        (
            "evaluation-evidence-current",
            "warning",
            "the evaluation evidence for version 3.2.0 was measured against another suite or evaluation data "
            "than today's",
        )
    ]


def test_without_evidence_the_card_says_so_and_model_index_holds_no_value(tmp_path: Path, capsys: Capture) -> None:
    project = _copy(tmp_path, "demand-forecast", evidence=False)
    _build(project, capsys)
    front, body = _card(project, "demand-forecast")
    assert front["model-index"] == [{"name": "demand-forecast", "results": []}]
    assert (
        "No evidence recorded for version 1.4.0: nothing has been measured yet. The bounds below are what the "
        "evaluation gate enforces, not measured values."
    ) in body
    assert "| rmse | <= 12.0 |" in body
    assert "Measured by" not in body


def test_the_eu_ai_act_rule_warns_on_the_credit_model_without_evidence(tmp_path: Path) -> None:
    """A warning since issue 22: evidence gates promotion (the deploy jobs), not rendering."""
    project = _copy(tmp_path, "credit-scoring", evidence=False)
    diagnostics = check_path(project).diagnostics
    assert not [d for d in diagnostics if d.severity.value == "error" and not d.suppressed]
    findings = [d for d in diagnostics if d.policy == "eu-ai-act-evidence" and not d.suppressed]
    assert [(d.code, d.policy, d.rule, d.file.rsplit("/", 2)[-2:], d.line, d.column, d.message) for d in findings] == [
        (
            "CH500",
            "eu-ai-act-evidence",
            "evaluation-evidence",
            ["models", "credit-default.yaml"],
            14,
            12,
            "no evaluation evidence for version 3.2.0 of high-risk model `credit-default`",
        )
    ]


def test_evidence_text_reaches_the_card_escaped(tmp_path: Path, capsys: Capture) -> None:
    project = _copy(tmp_path, "credit-scoring")
    path = project / "evidence" / "credit-default" / "3.2.0" / "eval.json"
    record = json.loads(path.read_text("utf-8"))
    hostile = "female|\x1b[31m<script>`x`\u202e"
    record["fairness"]["gender"]["groups"][0]["group"] = hostile
    record["inputs"][0]["path"] = "p`q\x07.parquet"
    path.write_text(json.dumps(record, indent=2), "utf-8")
    _build(project, capsys)
    text = (project / "docs" / "models" / "credit-default.md").read_text("utf-8")
    assert f"| {markdown_text(hostile)} | " in text
    assert r"female\|\\x1b\[31m\<script\>\`x\`\\u202e" in text
    assert "- `p'q\\x07.parquet` (parquet" in text
    for raw in ("\x1b", "\u202e", "\x07", "<script>"):
        assert raw not in text


def test_the_committed_example_evidence_is_what_the_script_produces(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    for example in CARDS:
        _copy(examples, example, evidence=False)
    load_script("example_evidence").regenerate(examples)
    # The gates' records; the registration records come from a real MLflow server (tests/test_mlflow_registry.py).
    gates = EXAMPLES.glob("*/evidence/**/*.json")
    committed = sorted(p.relative_to(EXAMPLES) for p in gates if p.name != "registration.json")
    produced = sorted(p.relative_to(examples) for p in examples.glob("*/evidence/**/*.json"))
    assert committed == produced
    for relative in committed:
        mine, theirs = (
            json.loads((EXAMPLES / relative).read_text("utf-8")),
            json.loads((examples / relative).read_text()),
        )
        # The commit is the repository's HEAD when the script ran; everything measured must be the same.
        mine.pop("commit", None), theirs.pop("commit", None)
        assert mine == theirs, relative


def test_the_hubs_own_reader_takes_the_measured_values_and_nothing_else(tmp_path: Path, capsys: Capture) -> None:
    """huggingface_hub reads `model-index` as results: it must find the evidence's values, and none without it."""
    from huggingface_hub import ModelCard

    for example, (model, version) in CARDS.items():
        record = _record(EXAMPLES / example, model, version)
        card = ModelCard.load(EXAMPLES / example / "docs" / "models" / f"{model}.md")
        results = card.data.eval_results or []
        task = "tabular-classification" if example == "credit-scoring" else "tabular-regression"
        assert [(r.metric_type, r.metric_value, r.dataset_name, r.task_type) for r in results] == [
            (m["metric"], m["value"], DATASETS[example], task) for m in record["metrics"]
        ]
    project = _copy(tmp_path, "demand-forecast", evidence=False)
    _build(project, capsys)
    bare = ModelCard.load(project / "docs" / "models" / "demand-forecast.md")
    assert (bare.data.model_name, bare.data.eval_results) == ("demand-forecast", [])
