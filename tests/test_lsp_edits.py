"""Issue 26: after every edit the editor shows what a cold `charter check` of the same workspace state shows.

The server re-checks only what an edit touches (the keys of `compiler.stages.cache`, kept from one edit to the
next, and the listing of the last check). A sequence of edits to one model, to the organisation Policy, to a
shared Environment and to a contract, each changing the findings of other documents, is applied as the server
applies it; after each one the diagnostics published so far (the last publication of every file) must equal
the findings of a cold check of the same files and buffers, file for file, position for position.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from lsp_client import LspClient

from compiler.core import sources
from compiler.core.sources import Sources
from compiler.lsp.workspace import Workspace
from compiler.stages import check, current_date
from compiler.stages.policy import sandbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

MODEL = "teams/team-000/models/fraud-00002-0-model.yaml"
CONTRACT = "teams/team-000/contracts/fraud-00002-0-data.yaml"
POLICY = "teams/platform/policies/deployments.yaml"
STAGING = "teams/platform/environments/shared-staging.yaml"
MONITORED = """\
        !related.environments.exists(e, e.spec.tier == 'production')
        || object.spec.monitoring.schedule != ''"""
APPROVED = "        related.environments.all(e, e.spec.approvals >= 2)"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edits") / "repo"
    generate.generate(root, 40, shape="shared")
    return root


def edits(root: Path) -> list[tuple[str, str, str, str]]:
    """(file, text replaced, by what, what the step shows): each edit of the sequence, in order."""
    column = "support_tickets"
    contract_column = next(
        line for line in (root / CONTRACT).read_text("utf-8").split("\n") if line.strip() == f"- name: {column}"
    )
    return [
        (MODEL, f"    - {column}\n", "    - no_such_column\n", "a feature its contract lacks: CH402 in the model"),
        (MODEL, "    - no_such_column\n", f"    - {column}\n", "fixed"),
        (POLICY, MONITORED, APPROVED, "the Policy reads the Environments' approvals: every model fails it"),
        (STAGING, "approvals: 1", "approvals: 2", "the staging Environment's models pass it again"),
        (STAGING, "name: shared-staging", "name: shared-stage", "renamed: its models refer to nothing"),
        (STAGING, "name: shared-stage", "name: shared-staging", "named back"),
        (CONTRACT, f"{contract_column}\n", f"{contract_column.replace(column, 'renamed_column')}\n", "a column gone"),
        (CONTRACT, "renamed_column", column, "the column back"),
        (STAGING, "approvals: 2", "approvals: 1", "the Environment as it was: its models fail the Policy again"),
        (POLICY, APPROVED, MONITORED, "the Policy as it was: the project is clean again"),
    ]


def test_every_edit_shows_what_a_cold_check_shows(shared: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(shared, root)
    workspace = Workspace(root)
    shown: dict[str, list[Any]] = {}

    def publish(checked: Any, touched: set[str]) -> None:
        for uri, found in workspace.to_publish(checked, touched).items():
            shown[uri] = found

    publish(workspace.check({}), set())
    assert _visible(shown) == _cold(workspace, root, {})
    texts = {file: (root / file).read_text("utf-8") for file in (MODEL, CONTRACT, POLICY, STAGING)}
    before = _visible(shown)
    for file, old, new, what in edits(root):
        assert old in texts[file], what
        texts[file] = texts[file].replace(old, new, 1)
        uri = (root / file).as_uri()
        workspace.update(uri, texts[file])
        publish(workspace.check(dict(workspace.buffers), reuse_listing=True), {uri})
        expected = _cold(workspace, root, workspace.buffers)
        assert _visible(shown) == expected, what
        assert expected != before, f"{what}: the step changes nothing, so it tests nothing"
        before = expected
    assert not before, "the sequence ends where it started: a clean project"


def test_the_steps_change_the_findings_of_other_documents(shared: Path, tmp_path: Path) -> None:
    """What the sequence covers: an edit of the Policy, the Environment and the contract each show findings
    in models the edit did not touch, with the codes a person would expect."""
    root = tmp_path / "repo"
    shutil.copytree(shared, root)
    workspace = Workspace(root)
    texts = {file: (root / file).read_text("utf-8") for file in (MODEL, CONTRACT, POLICY, STAGING)}
    codes: list[dict[str, set[str]]] = []
    for file, old, new, _ in edits(root):
        texts[file] = texts[file].replace(old, new, 1)
        buffers = {name: text.encode("utf-8") for name, text in texts.items()}
        found: dict[str, set[str]] = {}
        for uri, diagnostics in _cold(workspace, root, buffers).items():
            found[uri.rsplit("/", 1)[1]] = {str(diagnostic.code) for diagnostic in diagnostics}
        codes.append(found)
    model = MODEL.rsplit("/", 1)[1]
    assert "CH402" in codes[0][model]
    failing = [name for name, found in codes[2].items() if name.endswith("-model.yaml") and "CH500" in found]
    assert len(failing) >= 4, codes[2]
    assert any(name != model and "CH401" in found for name, found in codes[4].items()), codes[4]
    assert "CH402" in codes[6][model], codes[6]
    assert codes[-1] == {}


def _cold(workspace: Workspace, root: Path, buffers: dict[str, bytes]) -> dict[str, list[Any]]:
    """A cold check (no cache) of the files on disk with these buffers, as the editor's diagnostics."""
    return {uri: found for uri, found in workspace.diagnostics(_cold_check(root, buffers)).items() if found}


def _visible(shown: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {uri: found for uri, found in shown.items() if found}


def test_a_file_written_outside_the_editor_is_seen_once_the_listing_is_taken_again(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit's check takes the last listing again (files and signatures); after its findings are out the
    server walks the disk (`listing_holds`), and a file added or written meanwhile is listed by the next check."""
    root = tmp_path / "repo"
    shutil.copytree(shared, root)
    # Every file counts as settled: its signature (size, times, inode) stands for its content at once.
    monkeypatch.setattr(sources, "SETTLED_SECONDS", 0)
    workspace = Workspace(root)
    workspace.check({})
    uri = (root / MODEL).as_uri()
    text = (root / MODEL).read_text("utf-8")
    workspace.update(uri, text)
    workspace.check(dict(workspace.buffers), reuse_listing=True)
    assert workspace.listing_holds()
    copy = root / "teams/team-000/models/copy.yaml"
    copy.write_text(text, "utf-8")  # a second model of the same name, written by another program
    assert not workspace.listing_holds()
    checked = workspace.check(dict(workspace.buffers), reuse_listing=True)
    assert checked.diagnostics == _cold_check(root, workspace.buffers).diagnostics
    assert any(d.code == "CH400" and d.file.endswith(MODEL) for d in checked.diagnostics)
    assert workspace.listing_holds()
    contract = root / CONTRACT
    contract.write_text(contract.read_text("utf-8").replace("support_tickets", "renamed_column"), "utf-8")
    assert not workspace.listing_holds()
    checked = workspace.check(dict(workspace.buffers), reuse_listing=True)
    assert checked.diagnostics == _cold_check(root, workspace.buffers).diagnostics
    assert any(d.code == "CH402" and d.file.endswith(MODEL) for d in checked.diagnostics)


def _cold_check(root: Path, buffers: dict[str, bytes]) -> Any:
    return check(Sources.from_path(root).with_buffers(dict(buffers)), current_date())


def test_a_check_answers_for_files_opened_since_as_it_read_them(shared: Path, tmp_path: Path) -> None:
    """The server's first check is never abandoned, and a client opens a file while it runs: when every buffer
    opened or changed since holds the text the check read, its findings are published for them at once (a
    check fewer before the first diagnostics); a changed text or a closed buffer needs the newer check."""
    root = tmp_path / "repo"
    shutil.copytree(shared, root)
    workspace = Workspace(root)
    checked = workspace.check({})
    uri = (root / MODEL).as_uri()
    text = (root / MODEL).read_text("utf-8")
    workspace.update(uri, text)
    assert workspace.answers(checked, {})
    workspace.update(uri, text.replace("    - support_tickets\n", "    - no_such_column\n"))
    assert not workspace.answers(checked, {})
    workspace.update(uri, text)
    edited = workspace.check(dict(workspace.buffers), reuse_listing=True)
    workspace.close(uri)
    assert not workspace.answers(edited, {MODEL: text.encode("utf-8")})
    new_file = (root / "teams/team-000/models/new.yaml").as_uri()
    workspace.update(new_file, text)
    assert not workspace.answers(checked, {})


def test_the_server_sees_a_file_another_program_wrote_once_the_editor_is_idle(shared: Path, tmp_path: Path) -> None:
    """`charter lsp`: a model of the same name written beside the open one while it is edited is reported
    (CH400) once the editor is idle, without a save or another edit."""
    root = tmp_path / "repo"
    shutil.copytree(shared, root)
    text = (root / MODEL).read_text("utf-8")
    client = LspClient(root)
    try:
        client.initialize()
        uri = client.open(MODEL)
        client.diagnostics(uri)
        (root / "teams/team-000/models/copy.yaml").write_text(text, "utf-8")
        client.change(MODEL, text)  # its check takes the listing of the first check again
        codes: list[str] = []
        while "CH400" not in codes:
            _, found = client.diagnostics(uri)
            codes = [diagnostic["code"] for diagnostic in found]
    finally:
        client.close()


# A second Policy in the organisation's policy file, for one model only: forty variables, each doubling the
# last, which no memory limit holds (tests/test_policy_bounds.py): the worker evaluating it must be stopped.
HOSTILE = (
    """
---
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: hostile
spec:
  match:
    kinds: [Model]
    conditions:
      - {name: one-model, expression: 'object.metadata.name == "fraud-00002-0-model"'}
  variables:
    - {name: v0, expression: '[1]'}
"""
    + "".join(f"    - {{name: v{i + 1}, expression: 'variables.v{i} + variables.v{i}'}}\n" for i in range(39))
    + """  validations:
    - name: grows
      expression: 'size(variables.v39) > 0'
"""
)


def test_an_edit_after_a_hostile_policy_was_stopped_shows_what_a_cold_check_shows(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile policy typed in an open editor stops its policy worker (CH502 on the model it judged, and the
    check returns); once it is removed, and at the next edit of a model, the findings are exact again."""
    monkeypatch.setattr(sandbox, "MEMORY_BYTES", 256 << 20)
    # The clock must not stop it first: on a busy machine the doubling lists took more than the 2 s step to
    # reach 256 MiB (as in tests/test_policy_bounds.py, the memory attack gets time enough).
    monkeypatch.setattr(sandbox, "STEP_SECONDS", 60.0)
    monkeypatch.setattr(sandbox, "RUN_SECONDS", 60.0)
    root = tmp_path / "repo"
    shutil.copytree(shared, root)
    workspace = Workspace(root)
    workspace.check({})
    policy = (root / POLICY).read_text("utf-8")
    workspace.update((root / POLICY).as_uri(), policy + HOSTILE)
    checked = workspace.check(dict(workspace.buffers), reuse_listing=True)
    stopped = [(d.code, d.file, d.policy) for d in checked.diagnostics if d.code == "CH502"]
    assert stopped == [("CH502", workspace.sources.display(MODEL), "hostile")]
    assert "more memory than the limit of 256 MiB" in next(d.message for d in checked.diagnostics if d.code == "CH502")
    workspace.update((root / POLICY).as_uri(), policy)
    checked = workspace.check(dict(workspace.buffers), reuse_listing=True)
    assert checked.diagnostics == _cold_check(root, workspace.buffers).diagnostics
    assert not any(d.code == "CH502" for d in checked.diagnostics)
    text = (root / MODEL).read_text("utf-8")
    workspace.update((root / MODEL).as_uri(), text.replace("    - support_tickets\n", "    - no_such_column\n"))
    checked = workspace.check(dict(workspace.buffers), reuse_listing=True)
    assert checked.diagnostics == _cold_check(root, workspace.buffers).diagnostics
    assert [d.code for d in checked.diagnostics if d.file.endswith(MODEL)] == ["CH402"]
