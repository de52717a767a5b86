"""Lineage end to end (issue 28): data version -> training run -> registered version -> environments, from the
evidence, on the model card and in the report's lineage graph; W&B artifact references in `training.lineage`.

The registration record (`evidence/<model>/<version>/registration.json`) is what `charter model register --record`
filed from the registry's answer (tests/test_mlflow_registry.py drives a real MLflow server); here it is read back:
shown while current, marked stale once the spec or the evidence changes, refused when it is not one.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from compiler.commands.cli import main
from compiler.report.lineage import lineage_nodes
from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CREDIT_RECORDS = "evidence/credit-default/3.2.0"
Capture = pytest.CaptureFixture[str]


def _copy(tmp_path: Path, example: str = "credit-scoring") -> Path:
    copy = tmp_path / example
    shutil.copytree(EXAMPLES / example, copy, ignore=shutil.ignore_patterns(".charter", ".github", "deploy", "docs"))
    return copy


def _dvc_md5(project: Path, file: str) -> str:
    (line,) = [line for line in (project / file).read_text("utf-8").splitlines() if line.startswith("- md5: ")]
    return line.removeprefix("- md5: ")


def _lineage(project: Path) -> tuple[dict[str, tuple[str, str | None]], list[tuple[str, str]]]:
    result = check_path(project)
    nodes, edges = lineage_nodes(result, "credit-default", [])
    return {node.key: (node.kind, node.link) for node in nodes}, edges


def _card(project: Path, capsys: Capture, name: str = "credit-default") -> list[str]:
    assert main(["build", str(project)]) == 0
    capsys.readouterr()
    text = (project / "docs" / "models" / f"{name}.md").read_text("utf-8")
    return text.split("## Lineage\n", 1)[1].split("\n## ", 1)[0].strip().splitlines()


def test_the_report_graph_follows_the_version_from_its_data_to_its_environments() -> None:
    md5 = _dvc_md5(EXAMPLES / "credit-scoring", "data/credit-holdout-predictions.parquet.dvc")
    nodes, edges = _lineage(EXAMPLES / "credit-scoring")
    data = f"DataVersion/data/credit-holdout-predictions.parquet md5 {md5}"
    assert nodes["DataVersion/credit-applications 2.3.0"] == ("DataVersion", None)  # the data gate's contract
    run = "Run/wandb-artifact://acme-bank/credit-default/credit-default-model:v32"
    registered = "Registered/MLflow credit-default v1"
    declared = "Artifact/wandb-artifact://acme-bank/credit-default/credit-features:v12"
    assert nodes[data] == ("DataVersion", None)
    assert nodes[declared] == ("Artifact", None)
    assert nodes[registered] == ("Registered", "https://mlflow.acme-bank.example/#/models/credit-default/versions/1")
    chain = [data, "Model/credit-default", run, registered, "Environment/staging", "Environment/production"]
    assert all(edge in edges for edge in itertools.pairwise(chain))
    assert (declared, "Model/credit-default") in edges
    # The training environment is where the model trains, not a step of its promotion.
    assert "Environment/training" not in nodes


def test_the_cards_show_the_registered_version_and_the_data_version(capsys: Capture) -> None:
    credit = (EXAMPLES / "credit-scoring" / "docs" / "models" / "credit-default.md").read_text("utf-8")
    md5 = _dvc_md5(EXAMPLES / "credit-scoring", "data/credit-holdout-predictions.parquet.dvc")
    assert "- Data (data gate): `credit-applications-2024-06.parquet`, contract credit-applications 2.3.0." in credit
    assert (
        "- Data (eval gate): `server 'snapshot' (local) data/credit-holdout-predictions.parquet`, DVC data version "
        f"md5 `{md5}` (`data/credit-holdout-predictions.parquet.dvc`)."
    ) in credit
    assert (
        "- Registered: MLflow model `credit-default` version **1** ([https\\://mlflow.acme-bank.example/\\#/models/"
        "credit-default/versions/1](https://mlflow.acme-bank.example/#/models/credit-default/versions/1)), "
        f"recorded in `{CREDIT_RECORDS}/registration.json`."
    ) in credit
    assert "- Training run: `wandb-artifact://acme-bank/credit-default/credit-default-model:v32`." in credit
    demand = (EXAMPLES / "demand-forecast" / "docs" / "models" / "demand-forecast.md").read_text("utf-8")
    md5 = _dvc_md5(EXAMPLES / "demand-forecast", "data/sales-backtest-predictions.parquet.dvc")
    assert f"DVC data version md5 `{md5}` (`data/sales-backtest-predictions.parquet.dvc`)." in demand
    assert "- Registered: MLflow model `demand-forecast` version **1** (" in demand


def test_a_registration_of_other_evidence_is_stale_on_the_card_and_in_the_graph(
    tmp_path: Path, capsys: Capture
) -> None:
    project = _copy(tmp_path)
    record = project / CREDIT_RECORDS / "eval.json"
    data = json.loads(record.read_text("utf-8"))
    data["charterVersion"] = "re-recorded"  # the same measurement filed again: other bytes than were registered
    record.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
    lines = _card(project, capsys)
    registered = next(line for line in lines if line.startswith("- Registered: "))
    assert registered.endswith(
        f"recorded in `{CREDIT_RECORDS}/registration.json` (**stale**: the spec or its evidence changed since it "
        "was registered)."
    )
    nodes, _ = _lineage(project)
    assert "Registered/MLflow credit-default v1 (stale)" in nodes


def test_without_a_registration_the_card_says_so_and_the_model_leads_to_its_environments(
    tmp_path: Path, capsys: Capture
) -> None:
    project = _copy(tmp_path)
    (project / CREDIT_RECORDS / "registration.json").unlink()
    lines = _card(project, capsys)
    assert "- Registered: not recorded (`charter model register --record` files the version MLflow gives it)." in lines
    assert not any(line.startswith("- Training run:") for line in lines)
    nodes, edges = _lineage(project)
    assert not [key for key in nodes if key.startswith(("Registered/", "Run/"))]
    assert ("Model/credit-default", "Environment/staging") in edges


def _findings(project: Path, capsys: Capture) -> list[dict[str, Any]]:
    capsys.readouterr()
    main(["check", str(project), "--format", "json", "--no-cache"])
    found: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["diagnostics"]
    return found


def test_a_registration_record_that_is_not_one_is_refused(tmp_path: Path, capsys: Capture) -> None:
    project = _copy(tmp_path)
    path = project / CREDIT_RECORDS / "registration.json"
    data = json.loads(path.read_text("utf-8"))
    text = json.dumps({**data, "registeredVersion": "one"}, indent=2, sort_keys=True)
    path.write_text(text, "utf-8")
    (finding,) = [f for f in _findings(project, capsys) if f["code"] == "CH800"]
    line = text.splitlines().index('  "registeredVersion": "one",') + 1
    assert (finding["file"], finding["line"], finding["column"]) == (str(path), line, 24)
    assert finding["message"] == (
        "registration record does not match its schema at `registeredVersion`: String should match pattern "
        "'^[1-9][0-9]{0,9}$'"
    )
    assert finding["hint"] == "it is written by `charter model register --record`; register again instead of editing it"
    text = json.dumps({**data, "version": "3.1.0"}, indent=2, sort_keys=True)
    path.write_text(text, "utf-8")
    (finding,) = [f for f in _findings(project, capsys) if f["code"] == "CH801"]
    line = text.splitlines().index('  "version": "3.1.0"') + 1
    assert (finding["line"], finding["column"]) == (line, 14)
    assert finding["message"] == "registration of version `3.1.0` filed under `3.2.0`"


@pytest.mark.parametrize(
    "reference",
    [
        "wandb-artifact://acme-bank/credit-features",  # no name and version
        "wandb-artifact://acme-bank/credit-default/credit-features",  # no version
        "wandb://acme-bank/credit-default/credit-features:v12",  # another scheme
        "wandb-artifact://acme bank/credit-default/credit-features:v12",  # a space
    ],
)
def test_a_malformed_wandb_reference_is_located(tmp_path: Path, capsys: Capture, reference: str) -> None:
    project = _copy(tmp_path)
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8").replace("wandb-artifact://acme-bank/credit-default/credit-features:v12", reference)
    model.write_text(text, "utf-8")
    (finding,) = [f for f in _findings(project, capsys) if f["severity"] == "error"]
    line = next(number for number, text in enumerate(text.splitlines(), 1) if f"lineage: [{reference}]" in text)
    assert (finding["code"], finding["file"], finding["line"], finding["column"]) == ("CH205", str(model), line, 15)
    assert finding["message"] == f"the value must be a Weights & Biases artifact reference (got `{reference}`)"
    assert finding["hint"] == (
        "`wandb-artifact://<entity>/<project>/<name>:<version>`, e.g. `wandb-artifact://acme/credit/applications:v3`"
    )
