"""The repository's scripts (scripts/*.py) as modules, loaded once per test process, and what the tests of
its oracles share: the examples built once, and the rule for a missing oracle."""

from __future__ import annotations

import contextlib
import importlib.util
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
