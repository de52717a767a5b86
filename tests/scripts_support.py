"""The repository's scripts (scripts/*.py) as modules, loaded once per test process, and what the tests of
its oracles share: the examples built once, and the rule for a missing oracle."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
EXAMPLES = sorted(path.parent.name for path in (ROOT / "examples").glob("*/charter.yaml"))
GITOPS_EXAMPLE = "credit-scoring-gitops"


def load_script(name: str) -> ModuleType:
    """`scripts/<name>.py` as module `charter_<name>`, whichever test module asks first."""
    module_name = f"charter_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def needs(reason: str | None) -> None:
    """Skip when an oracle is missing, except under `make test` and CI, where every oracle must run."""
    if reason is None:
        return
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(f"oracle unavailable, but this run requires every oracle: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def built_examples(prefix: str, *, gitops: bool = False) -> Iterator[dict[str, Path]]:
    """Each example built once (scripts/golden.py's build), in a temporary copy: its root by name. With `gitops`,
    also GITOPS_EXAMPLE: credit-scoring in gitops mode (CREDIT_GITOPS_EDITS), as no example deploys so any more."""
    golden = load_script("golden")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        roots = {}
        for name in EXAMPLES:
            golden.build(ROOT / "examples" / name, Path(tmp))
            roots[name] = Path(tmp) / name
        if gitops:
            source = Path(tmp) / "sources" / GITOPS_EXAMPLE
            shutil.copytree(ROOT / "examples" / "credit-scoring", source)
            edit_files(source, CREDIT_GITOPS_EDITS)
            golden.build(source, Path(tmp))
            roots[GITOPS_EXAMPLE] = Path(tmp) / GITOPS_EXAMPLE
        yield roots


# credit-scoring's production deployment as the example writes it (issue 27: KServe in push mode, a rollout decided
# by `charter deploy analyze` on the Environment's Prometheus), for the tests that replace it.
CREDIT_MODEL = "models/credit-default.yaml"
CREDIT_ROLLOUT = (
    "      # A canary decided by metrics (production-readiness/high-risk-analysis): the deploy job gives the new\n"
    "      # revision 10%, then 50% of traffic (KServe's canaryTrafficPercent), and after each pause runs\n"
    "      # `charter deploy analyze`, which queries the Environment's Prometheus; a 5xx share above 1%, a p99\n"
    "      # latency above 300 ms, or no measurement at all sends all traffic back and fails the job.\n"
    "      rollout:\n"
    "        steps:\n"
    "          - {weight: 10, pauseMinutes: 10}\n"
    "          - {weight: 50, pauseMinutes: 10}\n"
    "        analysis:\n"
    "          maxErrorRate: 0.01\n"
    "          maxLatencyMs: 300\n"
)
CREDIT_CANARY = "      canary:\n        trafficPercent: 10         # the new version takes 10% of traffic first\n"
CREDIT_PROMETHEUS = "  prometheus: https://prometheus.eu-west-1-prod.acme-bank.internal\n"
CREDIT_PUSH = "    mode: push\n"
CREDIT_GITOPS = "    mode: gitops\n"  # the example names the repository Argo CD would pull
# The example as it was before issue 27, for the tests of a readiness-only canary (CREDIT_CANARY_EDITS, push mode) and
# of gitops mode (CREDIT_GITOPS_EDITS: Argo CD pulls; a KServe rollout cannot be analysed there, CH461): production
# takes a 10% canary, so the rule that wants analysis (production-readiness/high-risk-analysis) is turned off, as a
# project would have to.
CREDIT_POLICY_PATHS = "    paths:\n      - policies/\n"
CREDIT_ANALYSIS_OFF = "    severityOverrides: {production-readiness/high-risk-analysis: 'off'}\n"
CREDIT_CANARY_EDITS: dict[str, list[tuple[str, str]]] = {
    "charter.yaml": [(CREDIT_POLICY_PATHS, CREDIT_POLICY_PATHS + CREDIT_ANALYSIS_OFF)],
    CREDIT_MODEL: [(CREDIT_ROLLOUT, CREDIT_CANARY)],
}
CREDIT_GITOPS_EDITS: dict[str, list[tuple[str, str]]] = {
    "charter.yaml": [(CREDIT_PUSH, CREDIT_GITOPS), *CREDIT_CANARY_EDITS["charter.yaml"]],
    CREDIT_MODEL: CREDIT_CANARY_EDITS[CREDIT_MODEL],
}


def edit_files(root: Path, edits: dict[str, list[tuple[str, str]]]) -> None:
    """Replace text in the files of a copied project, each replacement required to apply."""
    for file, replacements in edits.items():
        text = (root / file).read_text("utf-8")
        for old, new in replacements:
            assert old in text, (file, old)
            text = text.replace(old, new)
        (root / file).write_text(text, "utf-8")


def train_on_the_runner(project: Path) -> None:
    """Leave out the copied example's `training.orchestrator` and `environment`: it trains on the runner."""
    (model,) = (project / "models").glob("*.yaml")
    lines = model.read_text("utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("    orchestrator: ", "    environment: training"))]
    assert len(kept) == len(lines) - 2, model
    model.write_text("".join(kept), "utf-8")


def runner_trained(folder: Path, example: str) -> Path:
    """A copy of an example trained on the GitHub runner (`docker run`, the default), built under `folder`.

    The examples train in a cluster (credit-scoring on Kubeflow Pipelines, demand-forecast on Airflow: issue 28);
    the tests of the runner's train job judge that job, so the copy leaves out `orchestrator` and `environment`."""
    import shutil

    from compiler.commands.cli import main

    project = folder / example
    shutil.copytree(
        ROOT / "examples" / example, project, ignore=shutil.ignore_patterns(".charter", ".github", "deploy", "docs")
    )
    train_on_the_runner(project)
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = main(["build", str(project)])
    assert code == 0, said.getvalue()
    return project
