"""Issue 21, case 9: output directories belong to Charter.

A copy of examples/credit-scoring (built, so its outputs and manifest are real) gets a file no spec renders in an
output directory: the `ClusterRoleBinding` to `cluster-admin` of the issue in the folder Argo CD syncs with prune
and selfHeal, a link, a file in a hidden folder, a workflow posing as Charter's. `charter build --check` and
`charter plan` fail with the exact code, file, line and column; `spec.outputs.allowExtra` admits a deliberate
extra, in the plan only when the base revision already admitted it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_plan_fixtures import commit, git

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "credit-scoring"
CRB = "deploy/production/credit-default/crb.yaml"
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: credit-default-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: default
    namespace: credit-scoring
"""
OUTPUTS = "  outputs:\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "credit-scoring"
    shutil.copytree(EXAMPLE, copy, symlinks=True)
    git(copy, "init", "--quiet", "--initial-branch=main")
    commit(copy, "the example, built")
    return copy


def charter(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "CHARTER_TODAY": "2026-11-01", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "compiler", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


def put(project: Path, relative: str, text: str) -> None:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def allow(project: Path, *globs: str) -> None:
    path = project / "charter.yaml"
    text = path.read_text("utf-8")
    assert text.count(OUTPUTS) == 1
    listed = ", ".join(json.dumps(glob) for glob in globs)
    path.write_text(text.replace(OUTPUTS, f"{OUTPUTS}    allowExtra: [{listed}]\n"), "utf-8")


def located(stderr: str) -> list[str]:
    """`file:line:column: error[CODE]` (or `file: error[CODE]` without a line) of every finding printed."""
    return [line.split(" ", 2)[0] + " " + line.split(" ", 2)[1] for line in stderr.splitlines() if "[CH" in line]


def test_the_example_is_clean(project: Path) -> None:
    done = charter(project, "build", ".", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_hand_written_cluster_role_binding_fails_build_check(project: Path) -> None:
    put(project, CRB, BINDING)
    done = charter(project, "build", ".", "--check", "--no-diff")
    assert done.returncode == 1
    assert located(done.stderr) == [f"{CRB}:1:1: error[CH830]"]
    assert f"`{CRB}` is in the output directory `deploy` but no spec generates it" in done.stderr, done.stderr
    assert done.stdout.strip().endswith("1 files in the output directories are not Charter's: move them away.")
    # `charter build` reports it too, and leaves it where it is: it never deletes what it did not write.
    built = charter(project, "build", ".")
    assert built.returncode == 1
    assert located(built.stderr) == [f"{CRB}:1:1: error[CH830]"]
    assert (project / CRB).read_text("utf-8") == BINDING


def test_hidden_folders_links_and_special_files_are_listed(project: Path, tmp_path: Path) -> None:
    put(project, "deploy/production/.argocd/extra.yaml", BINDING)
    secret = tmp_path / "secret.yaml"
    secret.write_text(BINDING, "utf-8")
    (project / "deploy/staging/rbac.yaml").symlink_to(secret)
    (project / "docs/models/linked").symlink_to(tmp_path, target_is_directory=True)
    done = charter(project, "build", ".", "--check", "--no-diff")
    assert done.returncode == 1
    assert located(done.stderr) == [
        "deploy/production/.argocd/extra.yaml:1:1: error[CH830]",
        "deploy/staging/rbac.yaml: error[CH831]",
        "docs/models/linked: error[CH831]",
    ]
    assert "`deploy/staging/rbac.yaml` in the output directory `deploy` is a symbolic link" in done.stderr
    # An allow-list admits regular files only: a link stays an error.
    allow(project, "deploy/**/*", "docs/models/*")
    again = charter(project, "build", ".", "--check", "--no-diff")
    assert located(again.stderr) == ["deploy/staging/rbac.yaml: error[CH831]", "docs/models/linked: error[CH831]"]


def test_an_output_directory_that_is_a_link_is_refused(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(project / "docs/models", elsewhere)
    (project / "docs/models").symlink_to(elsewhere, target_is_directory=True)
    done = charter(project, "build", ".", "--check", "--no-diff")
    assert done.returncode == 1
    assert "docs/models: error[CH831]" in located(done.stderr)


def test_allow_extra_admits_a_deliberate_file(project: Path) -> None:
    put(project, "deploy/README.md", "# What Argo CD syncs from here\n")
    put(project, "docs/models/credit-default-roc.png", "not really a png\n")
    allow(project, "deploy/README.md", "docs/models/*.png")
    done = charter(project, "build", ".", "--check", "--no-diff")
    assert done.returncode == 0, done.stdout + done.stderr
    put(project, CRB, BINDING)
    assert located(charter(project, "build", ".", "--check", "--no-diff").stderr) == [f"{CRB}:1:1: error[CH830]"]


def test_the_repositorys_own_workflows_are_left_to_it(project: Path) -> None:
    put(project, ".github/workflows/release.yml", "name: release\non: push\njobs: {}\n")
    assert charter(project, "build", ".", "--check", "--no-diff").returncode == 0
    # Named like Charter's, or claiming to be generated by it: Charter's, and not rendered by any spec.
    put(project, ".github/workflows/model-credit-default-deploy.yml", "name: deploy\non: push\njobs: {}\n")
    put(project, ".github/workflows/ci.yml", "# Generated by charter from models/x.yaml; do not edit by hand.\n")
    done = charter(project, "build", ".", "--check", "--no-diff")
    assert done.returncode == 1
    assert located(done.stderr) == [
        ".github/workflows/ci.yml:1:1: error[CH830]",
        ".github/workflows/model-credit-default-deploy.yml:1:1: error[CH830]",
    ]


def _plan(project: Path, *extra: str) -> tuple[int, list[tuple[str, str, str, int, int]]]:
    done = charter(project, "plan", ".", "--base", "HEAD~1", *extra, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    found = json.loads(done.stdout)["breakingChanges"]
    return done.returncode, [(c["code"], c["rule"], c["file"], c["line"], c["column"]) for c in found]


def test_plan_fails_on_a_file_added_to_a_synced_folder(project: Path) -> None:
    put(project, CRB, BINDING)
    commit(project, "an admin binding beside the InferenceService")
    code, found = _plan(project, "--head", "HEAD")
    assert (code, found) == (1, [("CH630", "head-output-not-generated", CRB, 1, 1)])


def test_plan_reads_the_allow_list_of_the_base_too(project: Path) -> None:
    put(project, CRB, BINDING)
    allow(project, "deploy/**/*.yaml")
    commit(project, "an admin binding, and an allow-list that admits it")
    code, found = _plan(project, "--head", "HEAD")
    # The allow-list is a trust setting too (CH693, for the trust owners); approved, the file still fails.
    assert (code, found) == (
        1,
        [
            ("CH630", "head-output-not-generated", CRB, 1, 1),
            ("CH693", "trust-setting-changed", "charter.yaml", 44, 5),
        ],
    )
    # Once the base allows it (a change of its own, reviewed), the same file passes.
    git(project, "reset", "--quiet", "--hard", "HEAD~1")
    allow(project, "deploy/**/*.yaml")
    commit(project, "allow extra manifests")
    put(project, CRB, BINDING)
    commit(project, "an extra manifest")
    assert _plan(project, "--head", "HEAD") == (0, [])


def test_plan_on_the_working_tree_refuses_a_link(project: Path, tmp_path: Path) -> None:
    commit(project, "nothing")
    (project / "deploy/staging/rbac.yaml").symlink_to(tmp_path)
    code, found = _plan(project)
    assert (code, found) == (1, [("CH631", "head-output-not-regular", "deploy/staging/rbac.yaml", 0, 0)])
