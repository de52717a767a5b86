"""Regenerate tests/golden/: what `charter build` writes for each example, byte for byte.

    python scripts/golden.py            (or `make golden`)

Each example under examples/ is copied to a temporary directory and built there
with the command line, so the examples themselves stay untouched; then
tests/golden/<example>/ is replaced by the files the build wrote (every
generated file and `.charter/manifest.json`), and nothing else. The date is
pinned (CHARTER_TODAY), since model cards list the waivers in force.

Never edit a golden file by hand: change a template or a spec, run this, and
review the diff. tests/test_render.py compares a fresh build with these files.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden"
# Model cards list the waivers in force on the day of the build: pin the day.
GOLDEN_DATE = "2026-11-01"


def examples() -> list[Path]:
    return sorted(path.parent for path in EXAMPLES.glob("*/charter.yaml"))


def build(example: Path, workdir: Path) -> dict[str, bytes]:
    """Build a copy of `example` inside `workdir`; return every file the build wrote."""
    from compiler.commands.cli import main

    project = workdir / example.name
    shutil.copytree(example, project, ignore=shutil.ignore_patterns(".charter", ".github", "deploy", "docs"))
    before = _tree(project)
    previous = os.environ.get("CHARTER_TODAY")
    os.environ["CHARTER_TODAY"] = GOLDEN_DATE
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["build", str(project), "--color", "never"])
    finally:
        if previous is None:
            os.environ.pop("CHARTER_TODAY", None)
        else:
            os.environ["CHARTER_TODAY"] = previous
    if code != 0:
        raise RuntimeError(f"charter build {example.name} exited {code}:\n{out.getvalue()}{err.getvalue()}")
    after = _tree(project)
    return {path: data for path, data in sorted(after.items()) if before.get(path) != data}


def _tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="charter-golden-") as tmp:
        built = {example.name: build(example, Path(tmp)) for example in examples()}
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    for name, files in built.items():
        for relative, data in files.items():
            target = GOLDEN / name / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        print(f"tests/golden/{name}: {len(files)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
