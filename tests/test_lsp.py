"""`charter lsp` over stdio, as an editor speaks to it: a real subprocess, JSON-RPC with Content-Length framing.

One server serves the module, on a copy of examples/credit-scoring; a test that edits a buffer puts the
original text back before it ends. Findings are compared with `charter check --format json` on the same
text, converted independently: the editor shows exactly what the command line reports.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsp_client import LspClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "credit-scoring"
TODAY = "2026-06-01"
MODEL = "models/credit-default.yaml"
CONTRACT = "contracts/credit-applications.odcs.yaml"
SUITE = "suites/credit-default-eval.yaml"
WAIVER = "waivers/credit-default-validation-data.yaml"
DOCS = "https://github.com/charter-dev/charter/blob/main/docs/codes.md"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("lsp") / "credit-scoring"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".github", "deploy", "docs"))
    return target


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[LspClient]:
    lsp = LspClient(root, "--debounce-ms", "10", env={"CHARTER_TODAY": TODAY})
    try:
        lsp.initialize()
        uri = lsp.open(MODEL)
        lsp.diagnostics(uri)
        for name in (CONTRACT, SUITE, WAIVER):
            lsp.open(name)
        yield lsp
    finally:
        lsp.close()


def cli_diagnostics(root: Path, edits: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """What `charter check --format json` reports on a copy of the project with these edits, as LSP shows it."""
    copy = root.parent / "cli-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    for name, text in edits.items():
        (copy / name).write_text(text, "utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "compiler", "check", ".", "--format", "json"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={**os.environ, "CHARTER_TODAY": TODAY},
        check=False,
    )
    found: dict[str, list[dict[str, Any]]] = {}
    items = json.loads(run.stdout)["diagnostics"]
    for item in sorted(items, key=lambda item: (item["line"], item["column"], _message(item))):
        severity = 3 if item.get("waiver") else {"error": 1, "warning": 2, "info": 3}[item["severity"]]
        found.setdefault(item["file"], []).append(
            {
                "range": {
                    "start": {"line": item["line"] - 1, "character": item["column"] - 1},
                    "end": {"line": item["endLine"] - 1, "character": item["endColumn"] - 1},
                },
                "message": _message(item),
                "severity": severity,
                "code": item["code"],
                "codeDescription": {"href": f"{DOCS}#{item['code'].lower()}"},
                "source": "charter",
            }
        )
    return found


def _message(item: dict[str, Any]) -> str:
    waived = f" (waived by {item['waiver']})" if item.get("waiver") else ""
    hint = f"\nhint: {item['hint']}" if item.get("hint") else ""
    return str(item["message"]) + waived + hint


def at(client: LspClient, name: str, needle: str, offset: int = 0) -> dict[str, Any]:
    return {"textDocument": {"uri": client.uri(name)}, "position": client.position(name, needle, offset)}


def labels(answer: dict[str, Any] | None) -> list[str]:
    assert answer is not None
    return [item["label"] for item in answer["items"]]


# --- diagnostics --------------------------------------------------------------------------------------------


def test_an_open_file_gets_the_findings_of_charter_check(client: LspClient, root: Path) -> None:
    client.drain()
    uri = client.open(MODEL)
    _, found = client.diagnostics(uri)
    assert found == cli_diagnostics(root, {})[MODEL]
    assert found == [
        {
            "range": {"start": {"line": 36, "character": 4}, "end": {"line": 36, "character": 5}},
            "message": "Tune and select lending models on a validation contract separate from the training data."
            " (waived by credit-default-validation-data)\nhint: add `spec.data.validation` naming a validation data"
            " contract",
            "severity": 3,
            "code": "CH500",
            "codeDescription": {"href": f"{DOCS}#ch500"},
            "source": "charter",
        }
    ]


def test_an_edit_that_breaks_a_reference_gets_its_finding_and_a_quick_fix(client: LspClient, root: Path) -> None:
    original = (root / MODEL).read_text("utf-8")
    broken = original.replace("contract: credit-applications\n", "contract: credit-aplications\n", 1)
    client.drain()
    uri = client.change(MODEL, broken)
    _, found = client.diagnostics(uri)
    assert found == cli_diagnostics(root, {MODEL: broken})[MODEL]
    unresolved = [diagnostic for diagnostic in found if diagnostic["code"] == "CH401"]
    assert unresolved == [
        {
            "range": {"start": {"line": 37, "character": 16}, "end": {"line": 37, "character": 34}},
            "message": "no data contract with id or name `credit-aplications` version `2.3.0`\n"
            "hint: did you mean `credit-applications`?",
            "severity": 1,
            "code": "CH401",
            "codeDescription": {"href": f"{DOCS}#ch401"},
            "source": "charter",
        }
    ]
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": unresolved[0]["range"], "context": {"diagnostics": unresolved}},
    )
    fixes = [action for action in actions if action["title"] == "Replace with `credit-applications`"]
    assert [fix["edit"] for fix in fixes] == [
        {"changes": {uri: [{"range": unresolved[0]["range"], "newText": "credit-applications"}]}}
    ]
    client.drain()
    client.change(MODEL, original)
    _, restored = client.diagnostics(uri)
    assert [diagnostic["code"] for diagnostic in restored] == ["CH500"]


def test_an_edit_to_a_contract_rechecks_the_specs_that_use_it(client: LspClient, root: Path) -> None:
    original = (root / CONTRACT).read_text("utf-8")
    renamed = original.replace("id: credit-applications ", "id: credit-apps ", 1).replace(
        "name: credit-applications\n", "name: credit-apps\n", 1
    )
    assert renamed != original
    client.drain()
    client.change(CONTRACT, renamed)
    _, found = client.diagnostics(client.uri(MODEL))
    assert found == cli_diagnostics(root, {CONTRACT: renamed})[MODEL]
    assert [diagnostic["range"]["start"]["line"] for diagnostic in found if diagnostic["code"] == "CH401"] == [
        37,
        42,
        117,
    ]
    client.drain()
    client.change(CONTRACT, original)
    _, restored = client.diagnostics(client.uri(MODEL))
    assert restored == cli_diagnostics(root, {})[MODEL]


def test_a_file_whose_findings_are_fixed_is_cleared(client: LspClient, root: Path) -> None:
    original = (root / SUITE).read_text("utf-8")
    broken = original.replace("- metric: recall ", "- metric: recal ", 1)
    client.drain()
    uri = client.change(SUITE, broken)
    _, found = client.diagnostics(uri)
    assert [diagnostic["code"] for diagnostic in found] == [
        d["code"] for d in cli_diagnostics(root, {SUITE: broken})[SUITE]
    ]
    assert found
    client.drain()
    client.change(SUITE, original)
    assert client.diagnostics(uri)[1] == []


# --- completion ---------------------------------------------------------------------------------------------


def test_completion_offers_contract_ids_at_a_models_data(client: LspClient) -> None:
    answer = client.request("textDocument/completion", at(client, MODEL, "contract: credit-applications", 12))
    assert labels(answer) == ["credit-applications", "credit-holdout"]
    assert answer["items"][0]["textEdit"]["range"] == {
        "start": {"line": 37, "character": 16},
        "end": {"line": 37, "character": 35},
    }


def test_completion_offers_the_contracts_columns_at_features(client: LspClient) -> None:
    offered = labels(client.request("textDocument/completion", at(client, MODEL, "- loan_amount", 4)))
    assert {"annual_income", "loan_amount", "gender", "defaulted"} <= set(offered)
    assert offered[0] == "application_id"


def test_completion_offers_enum_values_and_fields(client: LspClient) -> None:
    assert labels(client.request("textDocument/completion", at(client, MODEL, "riskTier: high", 11))) == [
        "minimal",
        "limited",
        "high",
        "unacceptable",
    ]
    keys = labels(client.request("textDocument/completion", at(client, MODEL, "- environment: staging", 2)))
    assert keys == ["environment", "canary", "rollout", "autoscaling"]  # `replicas` is there already


def test_completion_offers_the_training_and_registry_fields_of_issue_28(client: LspClient, root: Path) -> None:
    """The example trains on Kubeflow Pipelines and registers in MLflow: the editor offers the other orchestrators,
    the registry types, the training fields (lineage among them) and the environments to train in."""
    orchestrators = labels(client.request("textDocument/completion", at(client, MODEL, "orchestrator: kube", 14)))
    assert orchestrators == ["github-actions", "kubernetes-job", "kubeflow-pipelines", "airflow"]
    # The registry written as a block, as the editor's user types it (in the buffer, not on disk).
    original = (root / MODEL).read_text("utf-8")
    flow = "    registry: {type: mlflow, name: credit-default}\n"
    assert flow in original
    block = original.replace(flow, "    registry:\n      type: mlflow\n      name: credit-default\n")
    client.drain()
    client.change(MODEL, block)
    client.diagnostics(client.uri(MODEL))  # the server has read the edit
    line = block.split("\n").index("      type: mlflow")
    where = {"textDocument": {"uri": client.uri(MODEL)}, "position": {"line": line, "character": 12}}
    assert labels(client.request("textDocument/completion", where)) == ["mlflow"]
    where = {"textDocument": {"uri": client.uri(MODEL)}, "position": {"line": line + 1, "character": 6}}
    assert labels(client.request("textDocument/completion", where)) == ["name"]
    client.drain()
    client.change(MODEL, original)
    client.diagnostics(client.uri(MODEL))
    keys = labels(client.request("textDocument/completion", at(client, MODEL, "    lineage:", 4)))
    assert keys == ["lineage"]  # on the key: the training's fields not written yet, and this one
    environments = labels(client.request("textDocument/completion", at(client, MODEL, "environment: training", 13)))
    assert environments == ["production", "staging", "training"]


def test_completion_offers_the_metrics_of_the_models_task(client: LspClient) -> None:
    offered = labels(client.request("textDocument/completion", at(client, SUITE, "- metric: recall", 10)))
    assert "roc_auc" in offered
    assert "recall" in offered
    assert "rmse" not in offered
    assert "f1_macro" not in offered


def test_completion_in_a_waiver_offers_policies_rules_and_targets(client: LspClient) -> None:
    policies = labels(client.request("textDocument/completion", at(client, WAIVER, "policy: acme", 10)))
    assert "acme-lending-models" in policies
    assert "fairness-protected-features" in policies
    rules = labels(client.request("textDocument/completion", at(client, WAIVER, "rule: independent", 8)))
    assert rules == [
        "retrain-on-drift",
        "production-canary",
        "holdout-not-training-data",
        "independent-validation-data",
    ]
    targets = labels(client.request("textDocument/completion", at(client, WAIVER, "    name: credit-default", 10)))
    assert targets == ["credit-default"]


# --- hover --------------------------------------------------------------------------------------------------


def test_hover_explains_a_finding_code(client: LspClient) -> None:
    answer = client.request("textDocument/hover", at(client, MODEL, "training:"))
    assert answer["contents"]["value"].startswith("**CH500 policy-violation** (error): A policy rule does not hold\n")


def test_hover_summarises_a_reference_and_documents_a_field(client: LspClient) -> None:
    suite = client.request("textDocument/hover", at(client, MODEL, "suite: credit-default-eval", 9))
    assert suite["contents"]["value"] == (
        "**EvaluationSuite** `credit-default-eval` in `suites/credit-default-eval.yaml`\n\n"
        "Discrimination, calibration and fairness gates for the credit default model.\n\nowner: team-credit-risk"
    )
    column = client.request("textDocument/hover", at(client, MODEL, "- gender", 4))
    assert column["contents"]["value"] == (
        "**column** `applications.gender` of contract `credit-applications`\n\n"
        "string, required, classification confidential, tags protected"
    )
    field = client.request("textDocument/hover", at(client, MODEL, "riskTier: high", 2))
    assert field["contents"]["value"] == (
        "**riskTier** (one of: minimal, limited, high, unacceptable) · required\n\n"
        "The EU AI Act's tiers: minimal, limited, high, unacceptable."
    )


# --- definitions and references -----------------------------------------------------------------------------


def location(client: LspClient, name: str, line: int, start: int, end: int) -> dict[str, Any]:
    return {
        "uri": client.uri(name),
        "range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}},
    }


@pytest.mark.parametrize(
    ("name", "needle", "offset", "target", "line", "start", "end"),
    [
        (MODEL, "suite: credit", 9, SUITE, 6, 8, 27),
        (MODEL, "- environment: production", 16, "environments/production.yaml", 5, 8, 18),
        (MODEL, "contract: credit-applications", 12, CONTRACT, 13, 4, 23),
        (MODEL, "- loan_amount", 4, CONTRACT, 150, 14, 25),
        (WAIVER, "policy: acme", 10, "policies/acme-lending-models.yaml", 13, 8, 27),
        (WAIVER, "rule: independent", 8, "policies/acme-lending-models.yaml", 82, 12, 39),
        (WAIVER, "    name: credit-default", 10, MODEL, 6, 8, 22),
    ],
)
def test_go_to_definition(
    client: LspClient, name: str, needle: str, offset: int, target: str, line: int, start: int, end: int
) -> None:
    found = client.request("textDocument/definition", at(client, name, needle, offset))
    assert found == [location(client, target, line, start, end)]


def test_find_references_of_a_contract_and_of_a_column(client: LspClient) -> None:
    contract = client.request(
        "textDocument/references", {**at(client, CONTRACT, "id: credit", 5), "context": {"includeDeclaration": True}}
    )
    assert contract == [
        location(client, CONTRACT, 13, 4, 23),
        location(client, MODEL, 37, 16, 35),
        location(client, MODEL, 42, 16, 35),
        location(client, MODEL, 117, 16, 35),
    ]
    column = client.request(
        "textDocument/references",
        {**at(client, CONTRACT, "- name: annual_income", 10), "context": {"includeDeclaration": False}},
    )
    assert column == [location(client, MODEL, 50, 6, 19), location(client, MODEL, 112, 10, 23)]


# --- code actions -------------------------------------------------------------------------------------------


def test_renew_a_waiver_moves_expires_and_leaves_the_approvers(client: LspClient, root: Path) -> None:
    position = client.position(WAIVER, "expires: 2027")
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": client.uri(WAIVER)},
            "range": {"start": position, "end": position},
            "context": {"diagnostics": []},
        },
    )
    until = (datetime.date.fromisoformat(TODAY) + datetime.timedelta(days=90)).isoformat()
    renew = [action for action in actions if action["title"].startswith("Renew this waiver")]
    assert [action["edit"] for action in renew] == [
        {
            "changes": {
                client.uri(WAIVER): [
                    {
                        "range": {
                            "start": {"line": position["line"], "character": 11},
                            "end": {"line": position["line"], "character": 21},
                        },
                        "newText": until,
                    }
                ]
            }
        }
    ]
