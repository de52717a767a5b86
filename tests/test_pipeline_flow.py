"""Issue 22: what the generated workflows do around the deploy jobs, read from what `charter build` renders.

- The pull-request workflow asks GitHub about the environments (`charter github report --environments`) when a
  project has one that requires approvals or is production; before, only the deploy jobs asked, after a merge.
- A version deploys once its evidence is on the commit: the merge of its evidence pull request starts the model
  pipeline (its evidence folder is in `paths:`), which skips the data gate, training and evaluation when the
  version's passing evidence is there (`recorded`), and goes to the deploy jobs; before, the first run's deploy
  jobs failed and the merge started nothing.
The runs themselves are tests/test_act.py and tests/test_act_deploy.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_promotion import build, load

from compiler.commands.cli import main

PR_WORKFLOW = ".github/workflows/charter-pull-request.yml"


def _report_step(root: Path) -> dict[str, str]:
    job = load(root / PR_WORKFLOW)["jobs"]["check"]
    (step,) = [step for step in job["steps"] if step.get("name") == "Report on the pull request"]
    assert job["permissions"]["actions"] == "read"  # what GitHub's environments API asks of the job's token
    return step


def test_the_pull_request_verifies_gated_environments_with_github(tmp_path: Path) -> None:
    step = _report_step(build(tmp_path, "credit-scoring"))
    assert step["run"] == 'charter github report . --base "origin/$BASE_REF" --environments'


def test_without_gated_environments_github_is_not_asked(tmp_path: Path) -> None:
    """`charter init`'s project with only its staging environment (no approvals): nothing for GitHub to enforce."""
    root = tmp_path / "starter"
    assert main(["init", str(root)]) == 0
    (root / "environments/production.yaml").unlink()
    model = root / "models/model.yaml"
    text = model.read_text("utf-8")
    production = "    - environment: production\n      replicas: 2\n"
    assert production in text
    model.write_text(text.replace(production, ""), "utf-8")
    assert main(["build", str(root)]) == 0
    assert _report_step(root)["run"] == 'charter github report . --base "origin/$BASE_REF"'


def test_the_merged_evidence_deploys_without_training_again(tmp_path: Path) -> None:
    workflow = load(build(tmp_path, "credit-scoring") / ".github/workflows/model-credit-default.yml")
    assert workflow["on"]["push"]["paths"][-1] == "evidence/credit-default/**"
    jobs = workflow["jobs"]
    recorded = jobs["recorded"]
    assert "if" not in recorded  # every run asks, a dispatch too: its deploy jobs need the answer
    assert recorded["outputs"] == {"evidence": "${{ steps.require.outputs.evidence }}"}
    (step,) = [s for s in recorded["steps"] if s.get("id") == "require"]
    assert 'charter evidence require --model "$MODEL" --annotation notice || status=$?' in step["run"]
    assert jobs["data-gate"]["needs"] == "recorded"
    assert jobs["data-gate"]["if"] == (
        "${{ !cancelled() && !failure() && (github.event_name != 'push' || "
        "needs.recorded.outputs.evidence != 'passes') }}"
    )
    assert jobs["evidence"]["if"] == "${{ !cancelled() && needs.data-gate.result != 'skipped' }}"
    assert jobs["deploy-staging"]["if"] == (
        "${{ !cancelled() && !failure() && needs.recorded.outputs.evidence == 'passes' }}"
    )
    assert jobs["deploy-production"]["if"] == (
        "${{ !cancelled() && !failure() && needs.recorded.outputs.evidence == 'passes' && "
        "needs.deploy-staging.result == 'success' }}"
    )
    # The deploy job still refuses without the evidence: the `recorded` answer decides what runs, not what ships.
    names = [s.get("name") for s in jobs["deploy-production"]["steps"]]
    assert "Evidence of this version" in names


def test_evidence_require_as_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--annotation notice`: where the answer only decides that the version is trained, not an error annotation."""
    root = build(tmp_path, "credit-scoring", {"models/credit-default.yaml": [('version: "3.2.0"', 'version: "3.3.0"')]})
    capsys.readouterr()
    assert (
        main(["evidence", "require", "--model", "credit-default", "--project", str(root), "--annotation", "notice"])
        == 1
    )
    err = capsys.readouterr().err
    assert err == (
        "::notice title=charter evidence::no evaluation evidence for credit-default 3.3.0 "
        "(evidence/credit-default/3.3.0/eval.json): the version is trained and measured; it deploys once its "
        "evidence pull request is merged\n"
    )
