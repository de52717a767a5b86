"""The ODCS schemas Charter ships: official bytes, one per release, and the one fix Charter makes."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler.commands.cli import main
from compiler.core.specs import Spec
from compiler.stages.read.load import load_text
from compiler.stages.validate import odcs_schemas
from compiler.stages.validate.contract_errors import contract_findings
from compiler.stages.validate.specs import validate

SCHEMAS = resources.files("compiler").joinpath("odcs")


def test_every_release_is_shipped_with_its_source_and_licence() -> None:
    entries = odcs_schemas.sources()
    assert [entry["version"] for entry in entries] == list(odcs_schemas.VERSIONS)
    for entry in entries:
        raw = SCHEMAS.joinpath(entry["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], entry["file"]
        assert entry["url"].startswith("https://")
        assert entry["licence"]
        assert all(SCHEMAS.joinpath(name).is_file() for name in entry["licence_files"])
        schema = json.loads(raw)
        assert schema["properties"]["apiVersion"]["default"] == entry["version"]


def _differences(official: Any, fixed: Any, where: str = "") -> list[str]:
    if isinstance(official, dict) and isinstance(fixed, dict):
        keys = sorted(set(official) | set(fixed))
        return [diff for key in keys for diff in _differences(official.get(key), fixed.get(key), f"{where}/{key}")]
    if isinstance(official, list) and isinstance(fixed, list) and len(official) == len(fixed):
        return [
            diff
            for i, (a, b) in enumerate(zip(official, fixed, strict=True))
            for diff in _differences(a, b, f"{where}/{i}")
        ]
    return [] if official == fixed else [where]


@pytest.mark.parametrize("version", odcs_schemas.VERSIONS)
def test_the_only_change_is_the_map_discriminator_of_v3_2_0(version: str) -> None:
    changes = _differences(odcs_schemas.official_schema(version), odcs_schemas.schema(version))
    if version == "v3.2.0":
        assert changes == ["/$defs/SchemaBaseProperty/allOf/8/if/required"]
        branch = odcs_schemas.schema(version)["$defs"]["SchemaBaseProperty"]["allOf"][8]
        assert branch["if"] == {"properties": {"logicalType": {"const": "map"}}, "required": ["logicalType"]}
    else:
        assert changes == []


CONTRACT = """\
apiVersion: {version}
kind: DataContract
id: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: id
      - name: tags
        logicalType: map
"""


def _findings(text: str) -> list[tuple[str, int, int, str]]:
    source = load_text(text, "contract.yaml")
    _, findings = validate(source.documents[0])
    return [(finding.code, finding.line, finding.column, finding.message) for finding in findings]


def test_a_column_without_logical_type_needs_no_map_but_a_map_column_does() -> None:
    assert _findings(CONTRACT.format(version="v3.2.0")) == [
        ("CH201", 10, 9, "missing required field `map` in `schema[0].properties[1]`")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # v3.0.0 quality rules are written with `rule:`, which v3.1.0 renamed `metric`.
        (
            "apiVersion: v3.0.0\nkind: DataContract\nid: a\nversion: 1.0.0\nstatus: active\nschema:\n"
            "  - name: t\n    quality:\n      - rule: rowCount\n        mustBeGreaterThan: 0\n",
            [],
        ),
        # v3.0.2 requires `status`.
        (
            "apiVersion: v3.0.2\nkind: DataContract\nid: a\nversion: 1.0.0\n",
            [("CH201", 1, 1, "missing required field `status`")],
        ),
        # v3.2.0 does not.
        ("apiVersion: v3.2.0\nkind: DataContract\nid: a\nversion: 1.0.0\n", []),
    ],
)
def test_each_contract_is_judged_by_its_declared_release(text: str, expected: list[Any]) -> None:
    assert _findings(text) == expected


def test_explain_ch300_describes_versions_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "CH300"]) == 0
    out = capsys.readouterr().out
    for phrase in ("apiVersion they declare", "v3.0.0", "v3.2.0", "logicalType: map", "at its key"):
        assert phrase in out


def test_a_large_deeply_nested_invalid_contract_is_explained_without_revalidating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """python-jsonschema alone takes about three minutes on this contract (see tests/odcs-corpus/README.md):
    it re-validates every branch under `unevaluatedProperties`. Charter asks it only about the values
    jsonschema-rs located, never about the whole contract (counted, not timed)."""
    corpus = Path(__file__).resolve().parent / "odcs-corpus" / "files"
    text = (corpus / "datacontract-cli/main/import/json/product_detail.datacontract.yaml").read_text("utf-8")
    whole: list[bool] = []
    detailed = type(odcs_schemas.validator(odcs_schemas.LATEST))
    iter_errors = detailed.iter_errors

    def counted(self: Any, instance: Any, *args: Any, **kwargs: Any) -> Any:
        whole.append(isinstance(instance, dict) and "apiVersion" in instance)
        return iter_errors(self, instance, *args, **kwargs)

    monkeypatch.setattr(detailed, "iter_errors", counted)
    findings = _findings(text + "colour: blue\n")
    line = text.count("\n") + 1
    assert findings == [("CH200", line, 1, "unknown field `colour`")]
    assert True not in whole


def test_keywords_the_odcs_schemas_do_not_use_yet_are_located_too() -> None:
    """dependentRequired and `not` appear in no v3 schema today; a future one gets located findings."""
    schema = {
        "type": "object",
        "properties": {"server": {"type": "object", "dependentRequired": {"host": ["port"]}}, "mode": {"not": {}}},
    }
    checker = jsonschema.Draft201909Validator(schema)
    source = load_text("server:\n  host: db.internal\nmode: fast\n", "contract.yaml")
    spec = Spec("DataContract", "x", source.documents[0])
    findings = contract_findings(spec, list(checker.iter_errors(source.documents[0].data)), checker)
    assert [(f.code, f.line, f.column, f.message) for f in findings] == [
        ("CH201", 2, 3, "`host` needs `port` beside it in `server`"),
        ("CH300", 3, 7, "breaks the ODCS schema's `not` rule in `mode`"),
    ]
