"""Every input is bounded and linear (issue 30, item 4).

Memory bounds are real: the command runs in a child process under `prlimit --as`, so reading what should not
be read ends in a MemoryError there, not in a slow test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_client import LspClient
from test_gates_support import CREDIT
from test_plan_fixtures import git

from compiler.commands.cli import main
from compiler.lsp.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: lending
  owner: team-ml
spec:
  specs: ["**/*.yaml"]
  policies:
    packs: []
"""


def bounded(cwd: Path, memory: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """`charter ARGV` in a child process that cannot map more than `memory` bytes."""
    return subprocess.run(
        ["prlimit", f"--as={memory}", sys.executable, "-m", "compiler", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CHARTER_TODAY": "2026-06-01"},
    )


def test_blobs_over_the_cap_are_sized_never_read(tmp_path: Path) -> None:
    """A base revision with four 80 MB spec files: `plan` reads none of them (320 MB would not fit in 400 MB
    of address space beside the interpreter, twice over as the old reader held them); each is CH116."""
    repo = tmp_path / "repo"
    (repo / "ml").mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "ml" / "charter.yaml").write_text(PROJECT, "utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "project")
    line = b"# " + b"x" * 97 + b"\n"
    for index in range(4):
        # Straight into the object database: the working tree never holds them.
        sha = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=repo,
            input=line * (800_000 + index),
            capture_output=True,
            check=True,
        ).stdout.decode("ascii")
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{sha.strip()},ml/big-{index}.yaml")
    git(repo, "commit", "--quiet", "-m", "data committed by mistake")
    git(repo, "rm", "--quiet", "--cached", "ml/big-0.yaml", "ml/big-1.yaml", "ml/big-2.yaml", "ml/big-3.yaml")
    git(repo, "commit", "--quiet", "-m", "data removed")
    done = bounded(repo, 400 * MiB, "plan", "ml", "--base", "HEAD~1")
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    for index in range(4):
        too_large = f"fixed  error[CH116] ml/big-{index}.yaml: file is larger than the limit of 10,485,760 bytes"
        assert too_large in done.stdout, done.stdout
    assert done.stdout.rstrip().endswith("charter plan: passes.")


def broken_documents(path: Path, count: int = 4_000) -> None:
    """`count` small documents in one file (about 350 KB), each with one finding on its last line."""
    document = "apiVersion: charter/v1alpha1\nkind: Model\nmetadata: {{name: m{}, owner: t}}\nspec: [broken]\n"
    path.write_text("---\n".join(document.format(index) for index in range(count)), "utf-8")


def counting_splits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every split of a file's text into lines that `compiler.core.lines.Lines` makes, by file; counted, not
    timed, so the test says the same on a loaded machine (the quadratic version split once per finding)."""
    from compiler.core import lines

    splits: list[str] = []
    original = lines.Lines.of

    def of(self: lines.Lines, file: str) -> list[str]:
        if file not in self._lines:
            splits.append(file)
        return original(self, file)

    monkeypatch.setattr(lines.Lines, "of", of)
    return splits


def test_the_text_report_splits_a_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It split the whole file again for every finding: 5.4 s against 1 s for JSON on this file."""
    broken_documents(tmp_path / "many.yaml")
    splits = counting_splits(monkeypatch)
    assert main(["check", str(tmp_path / "many.yaml"), "--format", "text"]) == 1
    out = capsys.readouterr().out
    assert out.count("error[CH") == 4_000
    assert "many.yaml:19999:7: error[CH" in out
    assert " 19999 | spec: [broken]\n" in out
    assert len(splits) == 1, splits


def test_the_language_server_splits_a_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing 4,000 findings of one file took 5 s (the file split for each), five times the check itself."""
    (tmp_path / "charter.yaml").write_text(PROJECT, "utf-8")
    broken_documents(tmp_path / "many.yaml")
    workspace = Workspace(tmp_path)
    checked = workspace.check({})
    splits = counting_splits(monkeypatch)
    published = workspace.diagnostics(checked)
    found = published[workspace.uri_of(checked.diagnostics[0].file)]
    assert len(found) == 4_000
    last = found[-1].range
    assert (last.start.line, last.start.character, last.end.line) == (19998, 6, 19998)
    assert splits.count(checked.diagnostics[0].file) == 1, splits


MODEL = """\
apiVersion: charter/v1alpha1
kind: Model
metadata: {name: scorer, owner: team}
spec: [broken]
"""


def test_the_language_server_reads_only_buffers_and_the_workspace(tmp_path: Path) -> None:
    """Hover and definition on a URI the editor names: a file outside the workspace, a link in it to a file
    outside, a FIFO, `/dev/zero`. They were read from disk (following the link; the FIFO hung the server and
    `/dev/zero` grew it to 24 GB); now nothing is read and nothing is answered."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.yaml"
    secret.write_text(MODEL.replace("spec: [broken]", "# token: s3cr3t"), "utf-8")
    root = tmp_path / "workspace"
    (root / "models").mkdir(parents=True)
    (root / "charter.yaml").write_text(PROJECT, "utf-8")
    (root / "models" / "scorer.yaml").write_text(MODEL, "utf-8")
    (root / "models" / "link.yaml").symlink_to(secret)
    os.mkfifo(root / "models" / "pipe.yaml")
    client = LspClient(root, env={"CHARTER_TODAY": "2026-06-01"})
    try:
        client.initialize()
        client.diagnostics(client.open("models/scorer.yaml"))
        on_kind = {"line": 1, "character": 2}
        # The control: the same hover on the editor's buffer documents the field.
        opened = client.request(
            "textDocument/hover", {"textDocument": {"uri": client.uri("models/scorer.yaml")}, "position": on_kind}
        )
        assert opened["contents"]["value"].startswith("**kind**")
        for uri in (
            secret.as_uri(),
            client.uri("models/link.yaml"),
            client.uri("models/pipe.yaml"),
            "file:///dev/zero",
        ):
            where = {"textDocument": {"uri": uri}, "position": on_kind}
            assert client.request("textDocument/hover", where) is None, uri
            assert client.request("textDocument/definition", where) is None, uri
        limits = Path(f"/proc/{client.process.pid}/limits").read_text("utf-8")
        ceiling = next(line for line in limits.splitlines() if line.startswith("Max address space"))
        assert ceiling.split()[3] == str(4096 * MiB)  # the soft limit: `charter lsp --memory-mb`, 4 GiB
    finally:
        client.close()


def gate_report(extra: str) -> str:
    """A report `evidence record` would file, with `extra` as one more field."""
    judged = {"model": "credit-default", "version": "3.2.0", "digest": "sha256:" + "0" * 64, "parts": {}}
    head = json.dumps({"gate": "eval", "charterVersion": "0.1.0", "verdict": "pass", "judged": judged})
    return head[:-1] + f', "extra": {extra}}}'


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("[" * 900 + "]" * 900, "nested deeper than 64 levels; not a gate report"),
        ("[" + ", ".join(['{"a": 1}'] * 150_000) + "]", "more than 100,000 values; not a gate report"),
        ('"' + "x" * (11 * MiB) + '"', "larger than 10,485,760 bytes; not a gate report"),
    ],
    ids=["900 deep", "150,000 values", "11 MB"],
)
def test_evidence_record_refuses_deep_or_huge_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, says: str
) -> None:
    """A report nested 900 deep ended in "internal error"; a 28 MB one of two million values was filed after
    32 s and 2.5 GB. Each is now a clear refusal naming the file, and nothing is written."""
    project = tmp_path / "credit"
    shutil.copytree(CREDIT, project, ignore=shutil.ignore_patterns("evidence", ".charter"))
    report = tmp_path / "eval.json"
    report.write_text(gate_report(extra), "utf-8")
    assert main(["evidence", "record", "--project", str(project), str(report)]) == 2
    assert capsys.readouterr().err == f"charter evidence record: {report}: {says}\n"
    assert not (project / "evidence").exists()
