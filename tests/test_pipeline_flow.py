"""Issue 22: what the generated workflows do around the deploy jobs, read from what `charter build` renders.

- The pull-request workflow asks GitHub about the environments (`charter github report --environments`) when a
  project has one that requires approvals or is production; before, only the deploy jobs asked, after a merge.
The runs themselves are tests/test_act.py and tests/test_act_deploy.py.
"""

from __future__ import annotations

from pathlib import Path

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
