"""Links and images from spec and data text are inert in every Markdown output, as GitHub renders them.

The oracle is cmark-gfm (`cmarkgfm`, GitHub's own Markdown renderer, with its autolink and table extensions): each
output is rendered, and no `<a>` or `<img>` may come from hostile text, while Charter's own structure (headings,
tables, code) still renders.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cmarkgfm
import numpy as np
import pandas as pd
import pytest
from cmarkgfm.cmark import Options
from test_gates_drift import drift_project
from test_gates_support import run_gate
from test_plan_fixtures import TODAY, commit, edit, git, make_repo

from compiler.commands.cli import main
from compiler.core import markdown

ROOT = Path(__file__).resolve().parent.parent
EVIL = "evil.example"
HOSTILE = (
    f"![pixel](https://{EVIL}/p.png) [approved by the Model Risk Committee](https://{EVIL}/mrc) "
    f"<https://{EVIL}/auto> https://{EVIL}/bare www.{EVIL} <img src=https://{EVIL}/i.png> "
    f"<a href=https://{EVIL}/a>here</a> [see][mrc] [mrc]: https://{EVIL}/ref"
)

CANARY_MESSAGE = "Canaries of lending models take at most 20% of traffic."


def html(text: str) -> str:
    """What GitHub shows for `text`: cmark-gfm with GitHub's extensions, raw HTML allowed through to be judged."""
    rendered: str = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    return rendered


def links(rendered: str) -> list[str]:
    return re.findall(r"<(?:a|img)\b[^>]*>", rendered)


def assert_inert(text: str) -> str:
    rendered = html(text)
    assert EVIL in rendered  # the text is shown...
    assert links(rendered) == []  # ...and goes nowhere
    return rendered


@pytest.mark.parametrize("escape", [markdown.text, markdown.inline, markdown.card_text])
def test_the_escapers_leave_no_link(escape: object) -> None:
    assert callable(escape)
    shown = escape(HOSTILE)
    rendered = assert_inert(f"| a | b |\n| --- | --- |\n| {shown} | x |\n")
    assert rendered.count("<td>") == 2  # still one table row of two cells
    # The text reads as written: the escapes are invisible once rendered.
    assert f"[approved by the Model Risk Committee](https://{EVIL}/mrc)" in rendered


def test_charter_own_links_keep_working() -> None:
    """Charter writes its links around escaped text: the link is Charter's, the label inert."""
    rendered = html(f"[{markdown.text(HOSTILE)}](https://docs.charter.example/CH500)")
    assert links(rendered) == ['<a href="https://docs.charter.example/CH500">']


def test_the_pull_request_comment_and_check_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An organisation policy's message (spec text) in the comment, the plan inside it, and the check run."""
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    edit(repo, "ml/models/scorer.yaml", "trafficPercent: 10", "trafficPercent: 30")
    edit(
        repo,
        "org-policies/lending.yaml",
        "Canaries of lending models take at most 20% of traffic.",
        json.dumps(HOSTILE),
    )
    commit(repo, "a canary, and a message that links")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert main(["github", "report", "ml", "--base", base, "--dry-run"]) == 1
    out = capsys.readouterr().out
    summary, comment = out.split("<!-- charter-report -->", 1)
    # The findings table, and the approval the policy change needs.
    assert assert_inert(summary).count("<table>") == 2
    assert "| `acme/model-risk` | **missing** |" in summary
    rendered = assert_inert(comment)
    assert "<h2>" in rendered
    assert "<h3>" in rendered  # the plan's sections


def test_the_plan_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    edit(
        repo,
        "org-policies/lending.yaml",
        "Canaries of lending models take at most 20% of traffic.",
        json.dumps(HOSTILE),
    )
    edit(repo, "ml/models/scorer.yaml", "trafficPercent: 10", "trafficPercent: 30")
    commit(repo, "a message that links")
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    main(["plan", str(repo / "ml"), "--base", base, "--format", "markdown"])
    rendered = assert_inert(capsys.readouterr().out)
    assert "<table>" in rendered


def test_the_model_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "credit-scoring"
    shutil.copytree(
        ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns(".charter", ".github", "docs")
    )
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    old = "Probability that a consumer credit applicant defaults within twelve months."
    assert old in text
    model.write_text(text.replace(old, json.dumps(HOSTILE)), "utf-8")
    assert main(["build", str(project), "--color", "never"]) == 0, capsys.readouterr()
    card = (project / "docs" / "models" / "credit-default.md").read_text("utf-8")
    body = card.split("---\n", 2)[2]
    rendered = html(body)
    assert EVIL in rendered
    # The one link is the registered version in the MLflow UI its registration record names (issue 28).
    assert links(rendered) == ['<a href="https://mlflow.acme-bank.example/#/models/credit-default/versions/1">']
    assert "<h1>" in rendered
    assert "<table>" in rendered


def test_the_drift_issue_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Category values are data: one that links, drifting, is listed in the issue body the monitor opens."""
    monkeypatch.chdir(tmp_path)
    root = drift_project(tmp_path / "p", "chi2", 0.01)
    rng = np.random.default_rng(7)

    def traffic(weights: list[float]) -> pd.DataFrame:
        n = 5_000
        segment = rng.choice(["a", "b", HOSTILE], size=n, p=weights)
        seen = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
        return pd.DataFrame({"income": rng.lognormal(10.5, 0.5, n).round(2), "segment": segment, "seen": seen})

    traffic([0.6, 0.3, 0.1]).to_parquet(tmp_path / "reference.parquet")
    traffic([0.2, 0.3, 0.5]).to_parquet(tmp_path / "current.parquet")
    argv = ["drift", str(root), "--model", "model", "--reference", str(tmp_path / "reference.parquet")]
    code, report = run_gate([*argv, "--current", str(tmp_path / "current.parquet")], tmp_path / "drift.json")
    assert code == 1
    assert report["driftedFeatures"] == ["segment"]
    body = (tmp_path / "drift-summary.md").read_text("utf-8")
    assert "Largest shifts in `segment`" in body
    rendered = assert_inert(body)
    assert "<table>" in rendered


def test_the_editor_hover(tmp_path: Path) -> None:
    """`charter lsp` hovers are Markdown too: a reference's summary shows the spec's description as text."""
    from compiler.lsp.hover import summary
    from compiler.lsp.targets import Target
    from compiler.stages import check_path

    project = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns(".charter", "docs"))
    suite = project / "suites" / "credit-default-eval.yaml"
    old = "Discrimination, calibration and fairness gates for the credit default model."
    suite.write_text(suite.read_text("utf-8").replace(old, json.dumps(HOSTILE)), "utf-8")
    shown = summary(check_path(project), Target("EvaluationSuite", "credit-default-eval"))
    assert shown.startswith("**EvaluationSuite** `credit-default-eval` in ")
    assert "<strong>" in assert_inert(shown)
