"""The repository's scripts (scripts/*.py) as modules, loaded once per test process, and what the tests of
its oracles share: the examples built once, and the rule for a missing oracle."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
EXAMPLES = sorted(path.parent.name for path in (ROOT / "examples").glob("*/charter.yaml"))


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
def built_examples(prefix: str) -> Iterator[dict[str, Path]]:
    """Each example built once (scripts/golden.py's build), in a temporary copy: its root by name."""
    golden = load_script("golden")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        roots = {}
        for name in EXAMPLES:
            golden.build(ROOT / "examples" / name, Path(tmp))
            roots[name] = Path(tmp) / name
        yield roots


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
    (model,) = (project / "models").glob("*.yaml")
    lines = model.read_text("utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("    orchestrator: ", "    environment: training"))]
    assert len(kept) == len(lines) - 2, model
    model.write_text("".join(kept), "utf-8")
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = main(["build", str(project)])
    assert code == 0, said.getvalue()
    return project
