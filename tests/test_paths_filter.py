"""`paths:` of the model pipeline match exactly the spec files it is built from, whatever their names (issue 22).

Measured: spec files whose names held spaces or non-ASCII letters were left out of the filter, the model's
own spec among them, so a change to it never started its pipeline. GitHub reads `*`, `**`, `?`, `+`, `!`,
`[...]` as pattern syntax and `\\` as the escape; `matches` below reads a pattern the same way.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent


def matches(pattern: str, path: str) -> bool:
    """GitHub's filter pattern syntax, for what the generated filters use: escapes, `*`, `**`, `?`."""
    regex, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex, i = regex + re.escape(pattern[i + 1]), i + 2
            continue
        if pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
            continue
        regex += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        i += 1
    return re.fullmatch(regex, path) is not None


@pytest.mark.parametrize(
    "name",
    ["crédit défaut.yaml", "模型 v2.yaml", "model [v2].yaml", "a*b?c+d!e{f}.yaml"],
)
def test_the_model_spec_starts_its_pipeline_whatever_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    (project / "models" / "demand-forecast.yaml").rename(project / "models" / name)
    assert main(["build", str(project)]) == 0
    capsys.readouterr()
    workflow = yaml.safe_load((project / ".github/workflows/model-demand-forecast.yml").read_text("utf-8"))
    patterns = workflow[True]["push"]["paths"]  # YAML 1.1 reads `on` as true
    spec_files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*.yaml"))
    assert f"models/{name}" in spec_files
    watched = [path for path in spec_files if any(matches(pattern, path) for pattern in patterns)]
    assert f"models/{name}" in watched
    # Each pattern matches exactly one file: no wider, no narrower. The last is the model's evidence folder,
    # whose merge deploys the version (tests/test_act_evidence_merge.py).
    assert patterns[-1] == "evidence/demand-forecast/**"
    for pattern in patterns[:-1]:
        assert len([path for path in spec_files if matches(pattern, path)]) == 1, pattern
