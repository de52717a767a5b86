"""The published JSON Schemas are valid 2020-12 schemas and match the models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from compiler.commands.cli import main
from compiler.commands.schema import all_schemas, file_name, render
from compiler.core.models import KINDS

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schemas_are_not_stale() -> None:
    for name, schema in all_schemas().items():
        committed = ROOT / "schemas" / name
        assert committed.is_file(), f"schemas/{name} is missing: run `make schemas`"
        assert committed.read_text("utf-8") == render(schema), f"schemas/{name} is stale: run `make schemas`"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_schema_is_valid_2020_12(kind: str) -> None:
    schema = all_schemas()[file_name(kind)]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["kind"]["const"] == kind


def test_fields_have_descriptions_for_editor_completion() -> None:
    schema = all_schemas()["model.schema.json"]
    spec = schema["$defs"]["ModelSpec"]["properties"]
    assert "riskTier" in spec
    assert "EU AI Act" in spec["riskTier"]["description"]
    assert spec["riskTier"]["enum"] == ["minimal", "limited", "high", "unacceptable"]


def test_schema_check_mode_detects_staleness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert main(["schema", "--out", str(tmp_path), "--check"]) == 0
    target = tmp_path / "model.schema.json"
    target.write_text(json.dumps({"stale": True}), "utf-8")
    capsys.readouterr()
    assert main(["schema", "--out", str(tmp_path), "--check"]) == 1
    assert "model.schema.json: stale" in capsys.readouterr().out
