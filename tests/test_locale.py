"""Output does not depend on the locale (issue 22).

Measured: under a non-UTF-8 locale, a spec with non-ASCII text ended `charter check` with an internal error
(`UnicodeEncodeError`) and no findings. `LC_ALL=C` without Python's locale coercion and UTF-8 mode gives the
process an ASCII stdout, as an old server or a minimal container does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASCII_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}


def _charter(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "PYTHONIOENCODING"))}
    env.update(ASCII_LOCALE, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, env=env, capture_output=True, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", root)
    model = root / "models" / "demand-forecast.yaml"
    text = model.read_text("utf-8").replace(
        "  description: Next-week unit demand per store and product.",
        "  description: Prévision de la demande, 需要予測 📦\n  bögus: ü",
    )
    model.write_text(text, "utf-8")
    return root


def test_findings_on_non_ascii_text_under_an_ascii_locale(project: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding)"],
        env={**os.environ, **ASCII_LOCALE}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip().lower() in ("ascii", "ansi_x3.4-1968")  # the locale really is not UTF-8
    done = _charter(project.parent, "check", project.name, "--color", "never")
    assert b"internal error" not in done.stderr, done.stderr
    assert done.returncode == 1
    out = done.stdout.decode("utf-8")  # the same UTF-8 bytes as under any other locale
    assert "demand-forecast/models/demand-forecast.yaml:11:3: error[CH200] unknown field `bögus`" in out


def test_build_and_its_files_under_an_ascii_locale(project: Path) -> None:
    model = project / "models" / "demand-forecast.yaml"
    model.write_text(model.read_text("utf-8").replace("\n  bögus: ü", ""), "utf-8")
    done = _charter(project.parent, "build", project.name)
    assert done.returncode == 0, done.stderr.decode("utf-8")
    card = (project / "docs" / "models" / "demand-forecast.md").read_text("utf-8")
    assert "Prévision de la demande, 需要予測 📦" in card
