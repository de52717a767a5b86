"""`charter build`: deterministic output, golden files, the drift check, hardening.

1. Golden files: a fresh build of each example equals tests/golden/<example>/
   byte for byte (regenerate with `make golden`, never by hand).
2. Deterministic: building twice, reading the files in another order, copying the
   project elsewhere or building from inside it give the same bytes.
3. Every generated file starts with a header naming its source spec.
4. `charter build --check` writes nothing and exits 1, naming the file, on a file
   missing, stale, edited by hand (with a diff), left behind by a deleted spec, or
   not written by Charter; `charter build` never overwrites a file it does not
   own, removes what a deleted spec left behind, writes nothing when the check
   fails, and writes atomically.
5. Workflows are hardened and manifests meet the Pod Security Standards'
   restricted profile, read from the parsed YAML, for the examples and for two
   variants that cover the other paths (a Kubernetes canary promoted through
   Argo CD, KServe pushed with kubectl).
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import io
import json
import os
import random
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from scripts_support import load_script

import compiler.core.fsutil
import compiler.stages.read.discovery
from compiler.commands.cli import main
from compiler.stages import check_path, render_outputs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(path.parent.name for path in (ROOT / "examples").glob("*/charter.yaml"))
GOLDEN = ROOT / "tests" / "golden"


golden = load_script("golden")
TODAY = datetime.date.fromisoformat(golden.GOLDEN_DATE)


@pytest.fixture(autouse=True)
def pinned_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_TODAY", golden.GOLDEN_DATE)


def charter(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--color", "never"])
    return code, out.getvalue(), err.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


# The examples' committed outputs are left behind: tests start from the specs alone.
GENERATED = shutil.ignore_patterns(".charter", ".github", "deploy", "docs")


def copy_example(name: str, destination: Path) -> Path:
    return Path(shutil.copytree(ROOT / "examples" / name, destination, ignore=GENERATED))


def built_copy(name: str, destination: Path) -> Path:
    project = copy_example(name, destination)
    code, out, err = charter("build", str(project))
    assert code == 0, out + err
    return project


def rendered(project: Path) -> dict[str, str]:
    result = check_path(project, today=TODAY)
    assert result.resolved is not None
    return {output.path: output.text for output in render_outputs(result.resolved, result.project, TODAY)}


# --- 1. golden files ---------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_build_matches_the_golden_files(example: str, tmp_path: Path) -> None:
    built = golden.build(ROOT / "examples" / example, tmp_path)
    expected = tree(GOLDEN / example) if (GOLDEN / example).is_dir() else {}
    problems = [f"missing from the goldens: {path}" for path in sorted(set(built) - set(expected))]
    problems += [f"golden no longer generated: {path}" for path in sorted(set(expected) - set(built))]
    for path in sorted(set(built) & set(expected)):
        if built[path] != expected[path]:
            diff = difflib.unified_diff(
                expected[path].decode("utf-8").splitlines(keepends=True),
                built[path].decode("utf-8").splitlines(keepends=True),
                fromfile=f"tests/golden/{example}/{path}",
                tofile=f"charter build examples/{example}: {path}",
            )
            problems.append("".join(diff))
    assert not problems, (
        "the render differs from tests/golden/: if the change is intended, run `make golden` "
        "and review the diff (never edit goldens by hand)\n" + "\n".join(problems)
    )


def test_goldens_hold_build_output_only() -> None:
    assert sorted(path.name for path in GOLDEN.iterdir()) == EXAMPLES
    for example in EXAMPLES:
        files = tree(GOLDEN / example)
        owned = set(golden_manifest(example))
        assert set(files) == owned | {".charter/manifest.json"}, "run `make golden`"


def golden_manifest(example: str) -> list[str]:
    return owned_files(GOLDEN / example)


def owned_files(root: Path) -> list[str]:
    """What the build at `root` recorded as its own, in `.charter/manifest.json`."""
    return sorted(json.loads((root / ".charter" / "manifest.json").read_text("utf-8"))["files"])


# --- 2. determinism -------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES)
def test_building_twice_changes_nothing(example: str, tmp_path: Path) -> None:
    project = built_copy(example, tmp_path / example)
    first = tree(project)
    code, out, _ = charter("build", str(project))
    assert code == 0
    assert "0 written, 0 removed" in out
    assert tree(project) == first
    assert rendered(project) == rendered(project)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("example", EXAMPLES)
def test_file_order_does_not_matter(example: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = rendered(ROOT / "examples" / example)
    discover = compiler.stages.read.discovery.spec_files

    def shuffled(*args: Any, **kwargs: Any) -> list[Path]:
        files = list(discover(*args, **kwargs))
        random.Random(seed).shuffle(files)
        return files

    monkeypatch.setattr(compiler.stages.read.discovery, "spec_files", shuffled)
    assert rendered(ROOT / "examples" / example) == expected


@pytest.mark.parametrize("example", EXAMPLES)
def test_where_the_project_lives_does_not_matter(example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shallow = built_copy(example, tmp_path / "a")
    deep = built_copy(example, tmp_path / "some" / "deeper" / "place with spaces" / example)
    assert tree(shallow) == tree(deep)
    # From inside the project, with a relative path, as CI runs it.
    inside = copy_example(example, tmp_path / "inside")
    monkeypatch.chdir(inside)
    code, out, err = charter("build", ".")
    assert code == 0, out + err
    assert tree(inside) == tree(shallow)


# --- 3. headers ----------------------------------------------------------------------------


HEADER = re.compile(r"^# Generated by charter from (?P<source>\S+); do not edit by hand\.$")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_generated_file_names_its_source_spec(example: str) -> None:
    for path in golden_manifest(example):
        text = (GOLDEN / example / path).read_text("utf-8")
        lines = text.splitlines()
        first = lines[1] if path.endswith(".md") else lines[0]
        if path.endswith(".md"):
            assert lines[0] == "---", path
        match = HEADER.match(first)
        assert match, f"{path}: no header: {first!r}"
        source = match["source"]
        assert (ROOT / "examples" / example / source).is_file(), f"{path}: {source} is not a spec of {example}"
        if path.endswith("charter-pull-request.yml"):
            assert source == "charter.yaml"
        else:
            model = YAML(typ="safe").load((ROOT / "examples" / example / source).read_text("utf-8"))
            assert model["kind"] == "Model"
            assert model["metadata"]["name"] in path, f"{path} is not rendered from {source}"


# --- 4. build --check and what build writes ---------------------------------------------------


@pytest.fixture
def demand(tmp_path: Path) -> Path:
    return built_copy("demand-forecast", tmp_path / "demand-forecast")


def test_check_is_clean_right_after_a_build(demand: Path) -> None:
    code, out, _ = charter("build", str(demand), "--check")
    assert code == 0
    assert "generated files are current" in out


def test_check_writes_nothing_and_reports_missing_files(tmp_path: Path) -> None:
    project = copy_example("demand-forecast", tmp_path / "p")
    before = tree(project)
    code, out, _ = charter("build", str(project), "--check")
    assert code == 1
    assert "deploy/production/demand-forecast/rollout.yaml: missing" in out
    assert tree(project) == before, "--check wrote files"


def test_a_hand_edit_is_named_with_a_diff(demand: Path) -> None:
    target = demand / ".github/workflows/model-demand-forecast.yml"
    text = target.read_text("utf-8")
    target.write_text(text.replace("timeout-minutes: 20", "timeout-minutes: 600", 1), "utf-8")
    before = tree(demand)
    code, out, _ = charter("build", str(demand), "--check")
    assert code == 1
    assert ".github/workflows/model-demand-forecast.yml: edited by hand" in out
    assert "--- a/.github/workflows/model-demand-forecast.yml" in out
    assert "-    timeout-minutes: 600" in out
    assert "+    timeout-minutes: 20" in out
    assert tree(demand) == before
    # Its bytes no longer hash to the manifest's record, so `charter build` leaves it alone and says so
    # (the manifest is a claim, not a permission); deleting the file lets the build write it again.
    code, out, err = charter("build", str(demand))
    assert code == 1
    assert "model-demand-forecast.yml was edited by hand; left untouched (delete it to regenerate it)" in err
    assert tree(demand) == before
    target.unlink()
    code, out, _ = charter("build", str(demand))
    assert code == 0
    assert target.read_text("utf-8") == text


def test_a_spec_change_makes_files_stale(demand: Path) -> None:
    spec = demand / "models/demand-forecast.yaml"
    spec.write_text(spec.read_text("utf-8").replace("replicas: 2", "replicas: 3", 1), "utf-8")
    code, out, _ = charter("build", str(demand), "--check", "--no-diff")
    assert code == 1
    assert "deploy/production/demand-forecast/rollout.yaml: stale" in out
    assert "edited by hand" not in out


def test_a_deleted_spec_leaves_files_behind_until_the_next_build(demand: Path) -> None:
    owned = set(golden_manifest("demand-forecast"))
    (demand / "models/demand-forecast.yaml").unlink()
    code, out, _ = charter("build", str(demand), "--check")
    assert code == 1
    left = {path for path in owned if "demand-forecast" in Path(path).name or "/demand-forecast/" in path}
    assert left
    for path in left:
        assert f"{path}: left behind by a deleted spec" in out
    code, out, _ = charter("build", str(demand))
    assert code == 0
    for path in left:
        assert not (demand / path).exists(), path
        assert f"removed {demand.as_posix()}/{path}" in out or f"removed {path}" in out
    assert not (demand / "deploy/production").exists(), "empty directories are pruned"
    assert charter("build", str(demand), "--check")[0] == 0


def test_a_file_charter_did_not_write_is_never_overwritten(tmp_path: Path) -> None:
    project = copy_example("demand-forecast", tmp_path / "p")
    theirs = project / ".github/workflows/model-demand-forecast.yml"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("# a workflow the team wrote\n", "utf-8")
    code, out, err = charter("build", str(project))
    assert code == 1
    assert "model-demand-forecast.yml exists but was not generated by charter; left untouched" in err
    assert theirs.read_text("utf-8") == "# a workflow the team wrote\n"
    assert (project / "deploy/staging/demand-forecast/deployment.yaml").is_file(), "the other files are written"
    code, out, _ = charter("build", str(project), "--check")
    assert code == 1
    assert "model-demand-forecast.yml: exists but was not generated by charter" in out
    # Still not Charter's after another build: the manifest never claims it.
    charter("build", str(project))
    assert ".github/workflows/model-demand-forecast.yml" not in (project / ".charter/manifest.json").read_text()
    assert theirs.read_text("utf-8") == "# a workflow the team wrote\n"


def test_a_file_not_in_the_manifest_is_not_charters(demand: Path) -> None:
    (demand / ".charter/manifest.json").unlink()
    target = demand / "docs/models/demand-forecast.md"
    target.write_text(target.read_text("utf-8") + "\nA note of ours.\n", "utf-8")
    code, _, _ = charter("build", str(demand))
    assert code == 1
    assert target.read_text("utf-8").endswith("\nA note of ours.\n")


def test_a_build_with_a_check_error_writes_nothing(tmp_path: Path) -> None:
    project = copy_example("demand-forecast", tmp_path / "p")
    spec = project / "models/demand-forecast.yaml"
    spec.write_text(spec.read_text("utf-8").replace("suite: demand-forecast-eval", "suite: no-such-suite"), "utf-8")
    before = tree(project)
    code, _, err = charter("build", str(project))
    assert code == 1
    assert "nothing written" in err
    assert tree(project) == before
    assert not (project / ".charter").exists()


def test_a_build_with_a_check_error_keeps_the_previous_output(demand: Path) -> None:
    spec = demand / "models/demand-forecast.yaml"
    spec.write_text(spec.read_text("utf-8").replace("riskTier: minimal", "riskTier: negligible"), "utf-8")
    before = tree(demand)
    assert charter("build", str(demand))[0] == 1
    assert tree(demand) == before


def temporary_files(root: Path) -> list[str]:
    return [path.as_posix() for path in root.rglob("*.tmp")]


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = built_copy("demand-forecast", tmp_path / "p")
    assert not temporary_files(project)
    spec = project / "models/demand-forecast.yaml"
    spec.write_text(spec.read_text("utf-8").replace("replicas: 2", "replicas: 3", 1), "utf-8")
    before = tree(project)
    replace: Callable[..., None] = os.replace

    def crash(source: str, target: str) -> None:
        if str(target).endswith("rollout.yaml"):
            raise OSError("disk full")
        replace(source, target)

    monkeypatch.setattr(compiler.core.fsutil.os, "replace", crash)
    code, _, err = charter("build", str(project))
    assert code == 2
    assert "disk full" in err
    assert not temporary_files(project), "a temporary file was left behind"
    after = tree(project)
    changed = {path for path in after if after[path] != before.get(path)}
    assert all(not path.endswith("rollout.yaml") for path in changed), "a half-written manifest"
    monkeypatch.setattr(compiler.core.fsutil.os, "replace", replace)
    assert charter("build", str(project))[0] == 0
    assert charter("build", str(project), "--check")[0] == 0


# --- 5. hardening ---------------------------------------------------------------------------

SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def variants(tmp: Path) -> Iterator[tuple[str, Path]]:
    """The examples, plus what they leave out: a Kubernetes canary promoted through Argo CD, KServe pushed with
    kubectl."""
    for example in EXAMPLES:
        yield example, built_copy(example, tmp / example)
    canary = copy_example("demand-forecast", tmp / "kubernetes-gitops")  # the example's canary, promoted by Argo CD
    project = canary / "charter.yaml"
    gitops = "mode: gitops\n    repoUrl: https://github.com/acme-retail/demand-forecast.git"
    project.write_text(project.read_text("utf-8").replace("mode: push", gitops), "utf-8")
    kserve_push = copy_example("credit-scoring", tmp / "kserve-push")
    project = kserve_push / "charter.yaml"
    project.write_text(project.read_text("utf-8").replace("mode: gitops", "mode: push"), "utf-8")
    for name, root in (("kubernetes-gitops", canary), ("kserve-push", kserve_push)):
        code, out, err = charter("build", str(root))
        assert code == 0, out + err
        yield name, root


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHARTER_TODAY", golden.GOLDEN_DATE)
        found = {}
        for name, root in variants(tmp_path_factory.mktemp("variants")):
            found[name] = {path: (root / path).read_text("utf-8") for path in owned_files(root)}
    return found


def workflows(outputs: dict[str, dict[str, str]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, files in outputs.items():
        for path, text in files.items():
            if path.startswith(".github/workflows/"):
                yield f"{name}/{path}", text, YAML(typ="safe", pure=True).load(text)


def manifests(outputs: dict[str, dict[str, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, files in outputs.items():
        for path, text in files.items():
            # Kubernetes manifests; an orchestrator's training files (a KFP module, an Airflow DAG) are Python.
            if path.startswith("deploy/") and path.endswith((".yaml", ".yml")):
                for document in YAML(typ="safe", pure=True).load_all(text):
                    yield f"{name}/{path}", document


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


def test_the_variants_cover_both_runtimes_deploy_jobs_and_canaries(outputs: dict[str, dict[str, str]]) -> None:
    kinds = {document["kind"] for _, document in manifests(outputs)}
    assert {"InferenceService", "Application", "Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert {"PodDisruptionBudget"} <= kinds
    deploy_jobs = [
        (where, job_id) for where, _, wf in workflows(outputs) for job_id in wf["jobs"] if job_id.startswith("deploy-")
    ]
    assert {where.split("/")[0] for where, _ in deploy_jobs} == {
        "credit-scoring",
        "demand-forecast",
        "kubernetes-gitops",
        "kserve-push",
    }
    assert any("canary" in path for files in outputs.values() for path in files if "kserve" not in path)


def test_workflows_have_least_privilege_permissions(outputs: dict[str, dict[str, str]]) -> None:
    for where, _, workflow in workflows(outputs):
        assert workflow["permissions"] == {}, f"{where}: top-level permissions must be empty"
        for job_id, job in workflow["jobs"].items():
            assert isinstance(job.get("permissions"), dict), f"{where}: job {job_id} has no permissions"
            scripts = " ".join(step.get("run", "") for step in job.get("steps", []))
            if job["permissions"].get("contents") == "write" and job_id.startswith("deploy-"):
                # A gitops promotion moves only its environment's branch, which Argo CD syncs (never main),
                # after GitHub's approvals in the job's environment.
                branch = f"charter/promoted/{job_id.removeprefix('deploy-')}"
                pushes = [s for s in job["steps"] if "push" in s.get("run", "")]
                assert pushes, f"{where}: {job_id}"
                assert all(s["env"]["BRANCH"] == branch for s in pushes), f"{where}: {job_id}"
                assert all('"$REVISION:refs/heads/$BRANCH"' in s["run"] for s in pushes), f"{where}: {job_id}"
                assert isinstance(job["environment"], str), f"{where}: {job_id}"
            elif job["permissions"].get("contents") == "write":
                # Only the job that proposes evidence writes, and only to a branch of its own (never main).
                assert job_id == "evidence", f"{where}: {job_id} writes contents"
                assert 'push --quiet origin "HEAD:refs/heads/$branch"' in scripts
                assert 'branch="charter/evidence/$MODEL/$RUN_ID"' in scripts
                assert "gh pr create" in scripts
            else:
                assert job["permissions"].get("contents") in ("read", None), f"{where}: {job_id} writes contents"
            assert isinstance(job.get("timeout-minutes"), int), f"{where}: job {job_id} has no timeout-minutes"
            assert job.get("secrets") != "inherit", f"{where}: {job_id}"


def test_workflow_write_permissions_are_explained(outputs: dict[str, dict[str, str]]) -> None:
    for where, text, _ in workflows(outputs):
        for line in text.splitlines():
            if re.match(r"^\s+[a-z-]+: write\b", line):
                assert " # " in line, f"{where}: `{line.strip()}` needs a comment saying why"


def test_every_action_is_pinned_to_a_commit(outputs: dict[str, dict[str, str]]) -> None:
    for where, text, workflow in workflows(outputs):
        for job_id, _, step in steps(workflow):
            if "uses" in step:
                assert SHA_PINNED.match(step["uses"]), f"{where}: {job_id} uses {step['uses']}"
        for line in text.splitlines():
            if "uses:" in line:  # Charter's setup action at the project's own pin says where the pin is
                comment = r"# v\d+(\.\d+)*" + (r"|# pinned in charter\.yaml" if "/setup@" in line else "")
                assert re.search(rf"@[0-9a-f]{{40}} ({comment})$", line), f"{where}: no version comment: {line}"


def test_checkout_never_keeps_the_token(outputs: dict[str, dict[str, str]]) -> None:
    checkouts = 0
    for where, _, workflow in workflows(outputs):
        for job_id, _, step in steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                checkouts += 1
                assert step["with"]["persist-credentials"] is False, f"{where}: {job_id}"
    assert checkouts


def test_no_dangerous_triggers(outputs: dict[str, dict[str, str]]) -> None:
    for where, text, workflow in workflows(outputs):
        assert set(workflow["on"]) <= {"pull_request", "push", "schedule", "workflow_dispatch"}, where
        assert "pull_request_target" not in text
        assert "workflow_run" not in text
        if "pull_request" in workflow["on"]:
            assert workflow["concurrency"]["cancel-in-progress"] is True, where


EXIT_CODE_OUTPUT = 'echo "exit_code=$?" >> "$GITHUB_OUTPUT"'
# The `recorded` job's answer: one of two constant words, whatever the repository holds.
EVIDENCE_OUTPUTS = ('echo "evidence=passes" >> "$GITHUB_OUTPUT"', 'echo "evidence=missing" >> "$GITHUB_OUTPUT"')


def test_no_expression_in_any_script(outputs: dict[str, dict[str, str]]) -> None:
    for where, _, workflow in workflows(outputs):
        for job_id, _, step in steps(workflow):
            script = step.get("run", "")
            assert "${{" not in script, f"{where}: {job_id}: {script}"
            # The outputs a step writes: the drift gate's exit code, a number the shell made; whether the version's
            # evidence passes, a constant word.
            for constant in (EXIT_CODE_OUTPUT, *EVIDENCE_OUTPUTS):
                script = script.replace(constant, "")
            for sink in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"):
                assert sink not in script, f"{where}: {job_id} writes {sink}"


def test_secrets_only_in_jobs_bound_to_an_environment(outputs: dict[str, dict[str, str]]) -> None:
    seen = 0
    for where, _, workflow in workflows(outputs):
        for job_id, job in workflow["jobs"].items():
            uses_secrets = "secrets." in as_text(job)
            if job_id.startswith("deploy-") or uses_secrets:
                seen += 1
                assert isinstance(job.get("environment"), str), f"{where}: {job_id} is not bound to an environment"
                assert job["environment"], where
    assert seen


def as_text(node: Any) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(node, stream)
    return stream.getvalue()


def test_deploy_jobs_follow_promotion_order(outputs: dict[str, dict[str, str]]) -> None:
    for where, _, workflow in workflows(outputs):
        jobs = workflow["jobs"]
        if "deploy-production" in jobs:
            # A staging that nothing gates in gitops mode (no approvals, no promotesFrom) syncs main on merge:
            # there is no job to wait for, and production's Application tracks its own branch all the same.
            if "deploy-staging" in jobs or not where.startswith("kubernetes-gitops/"):
                assert "deploy-staging" in jobs["deploy-production"]["needs"], where
            assert "evaluate" in jobs["deploy-production"]["needs"], where


# The Pod Security Standards' restricted profile, plus what THREATS.md adds.
def assert_restricted(where: str, pod: dict[str, Any], containers: list[dict[str, Any]]) -> None:
    for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(forbidden), f"{where}: {forbidden}"
    assert not any("hostPath" in volume for volume in pod.get("volumes", [])), where
    pod_context = pod.get("securityContext", {})
    for container in containers:
        context = container["securityContext"]
        name = f"{where}: container {container.get('name', 'model')}"
        assert context["allowPrivilegeEscalation"] is False, name
        assert context.get("privileged", False) is False, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert not context["capabilities"].get("add"), name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, name
        assert context.get("runAsUser", pod_context.get("runAsUser")) not in (0, None), name
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile"))
        assert seccomp == {"type": "RuntimeDefault"}, name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: {kind}"
        assert not any("hostPort" in port for port in container.get("ports", [])), name
        if "image" in container:
            assert re.search(r"@sha256:[0-9a-f]{64}$", container["image"]), f"{name}: image not by digest"


def test_manifests_meet_the_restricted_pod_security_standard(outputs: dict[str, dict[str, str]]) -> None:
    checked = 0
    for where, document in manifests(outputs):
        if document["kind"] == "Deployment":
            pod = document["spec"]["template"]["spec"]
            assert pod["automountServiceAccountToken"] is False, where
            assert_restricted(where, pod, pod["containers"])
            checked += 1
        elif document["kind"] == "InferenceService":
            predictor = document["spec"]["predictor"]
            assert_restricted(where, predictor, [predictor["model"]])
            checked += 1
    assert checked >= 4


LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def test_every_object_is_tied_to_its_model_version_and_spec(outputs: dict[str, dict[str, str]]) -> None:
    for where, document in manifests(outputs):
        metadata = document["metadata"]
        labels, annotations = metadata["labels"], metadata["annotations"]
        for key, value in labels.items():
            assert LABEL_KEY.match(key), f"{where}: label key {key}"
            assert LABEL_VALUE.match(value), f"{where}: label {key}={value}"
            assert len(value) <= 63, where
        assert labels["app.kubernetes.io/managed-by"] == "charter", where
        assert labels["charter.dev/model"] in where, where
        assert annotations["charter.dev/source"].startswith("models/"), where
        assert annotations["charter.dev/model-version"], where
