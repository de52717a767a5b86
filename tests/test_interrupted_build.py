"""A build killed while writing leaves temporary files; the next build reports and removes them (issue 22).

Measured: `kill -9` during `charter build` left a `.tmp` file that nothing removed or reported. A temporary
file is `.<name>.<8 characters>.tmp` beside the file being written (fsutil.write_atomic); only those named
after a file the build writes, or the manifest, are Charter's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
OURS = (".github/workflows/.model-demand-forecast.yml.k3j4h5g6.tmp", ".charter/.manifest.json.a_b9c8d7.tmp")
NOT_OURS = (".github/workflows/.mine.yml.k3j4h5g6.tmp", ".github/workflows/.model-demand-forecast.yml.tmp")


def test_leftovers_are_reported_then_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    for name in (*OURS, *NOT_OURS):
        (project / name).write_text("half a file", "utf-8")
    assert main(["build", str(project), "--check"]) == 1
    out = capsys.readouterr().out
    for name in OURS:
        assert f"{name}: left by an interrupted build; `charter build` removes it" in out
    for name in NOT_OURS:
        assert name not in out
    assert main(["build", str(project)]) == 0
    removed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("removed ")]
    assert [line.rsplit("/demand-forecast/", 1)[1] for line in removed] == sorted(OURS)
    assert not any((project / name).exists() for name in OURS)
    assert all((project / name).exists() for name in NOT_OURS)
    assert main(["build", str(project), "--check"]) == 0


def test_a_full_disk_while_the_manifest_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measured: `build --check` said "current" while the manifest listed 6 of 2,506 outputs."""
    import errno

    from compiler.stages.emit import writes as emit

    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project, ignore=shutil.ignore_patterns(".charter"))
    shutil.rmtree(project / ".github")
    write = emit.write_atomic

    def full_at_the_manifest(target: Path, text: str) -> None:
        if target.name == "manifest.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        write(target, text)

    monkeypatch.setattr(emit, "write_atomic", full_at_the_manifest)
    assert main(["build", str(project)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json: No space left on device; files already written keep their new bytes" in err
    monkeypatch.setattr(emit, "write_atomic", write)
    assert main(["build", str(project), "--check"]) == 1
    out = capsys.readouterr().out
    assert ".github/workflows/model-demand-forecast.yml: current, but not in the manifest" in out
    assert main(["build", str(project)]) == 0
    assert main(["build", str(project), "--check"]) == 0
