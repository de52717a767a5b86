"""The KServe SDK's models as an oracle for every InferenceService `charter build` renders.

    python scripts/kserve_oracle.py DIR...      every InferenceService under each DIR, against the SDK (exit 1)

The SDK (`kserve` on PyPI) is OpenAPI-generated: `kserve.models.V1beta1InferenceService` and the classes its
`openapi_types` name, from `kserve.models` or, for the core Kubernetes types (V1ObjectMeta, V1Container...), from
`kubernetes.client.models`. It runs in its own venv (`make kserve`, .venv-kserve): the SDK pins much of what the test
lock holds. This file is both halves: imported by the tests, `sdk_errors` sends the documents to itself run by the
venv's interpreter (`--stdin`), which answers with the findings as JSON.

How lax the SDK is, measured on kserve 0.21.0 with kubernetes 37.0.3, and what is added here:
  - its ApiClient cannot deserialize an InferenceService at all: it looks every class up in `kserve.models`,
    which has no V1ObjectMeta (AttributeError); the walk below resolves both modules;
  - an unknown key is dropped without a word: here it is a finding, at its path;
  - a primitive is coerced (`klass(data)`: 3 -> "3", "3" -> 3, [..] -> "[..]"): here the JSON type must be the
    declared one (an int is a float; a bool is not an int);
  - the models' setters do check what the schema requires (`modelFormat` not None, enums): kept, as findings;
  - the models' setters do not check Kubernetes' enums (a seccompProfile `type: Bogus` passes): the CRD schema
    oracle (scripts/manifest_oracles.py) does;
  - finally the object is serialized back (`sanitize_for_serialization`) and every value of the document must come
    back unchanged, so anything the walk let through that the models do not carry shows up as a difference.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-kserve" / "bin" / "python"
KIND = ("serving.kserve.io/v1beta1", "InferenceService")
ROOT_CLASS = "V1beta1InferenceService"


@dataclass(frozen=True)
class Finding:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: [kserve SDK] {self.path}: {self.message}"


# --- the host's half: find the documents, ask the venv -----------------------------------------------


def kserve_sdk_missing() -> str | None:
    return None if PYTHON.is_file() else "the KServe SDK is not installed: `make kserve` (its own venv, .venv-kserve)"


def inference_services(root: Path) -> Iterator[tuple[str, Any]]:
    """Every InferenceService in the YAML files under `root`, with its path relative to it."""
    import yaml

    for path in sorted(root.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text("utf-8")):
            if isinstance(document, dict) and (document.get("apiVersion"), document.get("kind")) == KIND:
                yield str(path.relative_to(root)), document


def sdk_errors(documents: Iterable[tuple[str, Any]]) -> tuple[int, list[Finding]]:
    """How many documents the SDK judged, and its findings; one run of the venv's interpreter for all."""
    payload = json.dumps([[file, document] for file, document in documents])
    done = subprocess.run(
        [str(PYTHON), __file__, "--stdin"], input=payload, capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"the KServe SDK oracle failed (exit {done.returncode}): {done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    return answer["judged"], [Finding(**finding) for finding in answer["findings"]]


# --- the venv's half: the SDK's models, strictly ------------------------------------------------------


class Invalid(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


_PRIMITIVES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}
# Types the generated code names but defines nowhere, as their JSON form: a Kubernetes quantity is a string.
_UNDEFINED = {"ResourceQuantity": "str"}


def _model_class(name: str) -> Any:
    import kserve.models
    import kubernetes.client.models

    for module in (kserve.models, kubernetes.client.models):
        if hasattr(module, name):
            return getattr(module, name)
    raise Invalid("", f"the SDK has no model `{name}`")


def _strict(value: Any, declared: str, path: str) -> Any:
    """`value` as the SDK's type `declared` (an `openapi_types` string), refusing what the SDK would bend."""
    declared = _UNDEFINED.get(declared, declared)
    if value is None:
        return None
    # kserve's generator writes `list[X]` and `dict(str, X)`, the kubernetes client's `List[X]` and `Dict[str, X]`.
    if match := re.fullmatch(r"[Ll]ist\[(.*)\]", declared):
        if not isinstance(value, list):
            raise Invalid(path, f"expected a list ({declared}), got {type(value).__name__}")
        return [_strict(item, match[1], f"{path}/{index}") for index, item in enumerate(value)]
    if match := re.fullmatch(r"dict\(([^,]*), (.*)\)|Dict\[([^,]*), (.*)\]", declared):
        if not isinstance(value, dict):
            raise Invalid(path, f"expected a mapping ({declared}), got {type(value).__name__}")
        return {key: _strict(item, match[2] or match[4], f"{path}/{key}") for key, item in value.items()}
    if declared == "object":
        return value
    if declared in _PRIMITIVES:
        wrong_bool = isinstance(value, bool) and declared != "bool"
        if wrong_bool or not isinstance(value, _PRIMITIVES[declared]):
            raise Invalid(path, f"expected {declared}, got {type(value).__name__} {json.dumps(value)[:60]}")
        return value
    if declared == "datetime":
        return datetime.datetime.fromisoformat(value)
    return _model(value, _model_class(declared), path)


def _model(value: Any, cls: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise Invalid(path, f"expected a {cls.__name__} mapping, got {type(value).__name__}")
    by_key = {key: attribute for attribute, key in cls.attribute_map.items()}
    unknown = sorted(set(value) - set(by_key))
    if unknown:
        raise Invalid(path, f"unknown field `{unknown[0]}` in {cls.__name__} (the SDK would drop it)")
    arguments = {
        by_key[key]: _strict(item, cls.openapi_types[by_key[key]], f"{path}/{key}") for key, item in value.items()
    }
    try:
        return cls(**arguments)
    except ValueError as error:  # the setters' own checks: required fields, enums
        raise Invalid(path, f"{cls.__name__}: {error}") from None


def _differences(before: Any, after: Any, path: str) -> Iterator[str]:
    """Where the document's values did not come back; keys only the SDK writes are its defaults (a
    V1beta1ModelSpec comes back with `name: ""`), not the document's."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before):
            yield from _differences(before.get(key), after.get(key), f"{path}/{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (one, other) in enumerate(zip(before, after, strict=True)):
            yield from _differences(one, other, f"{path}/{index}")
    elif before != after or type(before) is not type(after):
        yield path


def judge(file: str, document: Any) -> list[Finding]:
    """The findings of the SDK on one InferenceService: the strict walk, then the round trip."""
    from kserve import ApiClient

    try:
        service = _model(document, _model_class(ROOT_CLASS), "")
    except Invalid as invalid:
        return [Finding(file, invalid.path or "/", invalid.message)]
    back = ApiClient().sanitize_for_serialization(service)
    return [
        Finding(file, where or "/", "not the same after a round trip through the SDK's models")
        for where in _differences(document, back, "")
    ]


def _serve_stdin() -> int:
    documents = json.load(sys.stdin)
    findings = [finding for file, document in documents for finding in judge(file, document)]
    json.dump({"judged": len(documents), "findings": [vars(finding) for finding in findings]}, sys.stdout)
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--stdin"]:
        return _serve_stdin()
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    judged, findings = sdk_errors(item for root in argv for item in inference_services(Path(root)))
    for finding in findings:
        print(finding)
    print(f"{judged} InferenceService(s) judged by the KServe SDK, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
