"""`--format json` has a published schema (schemas/check-report.schema.json) and names it in `$schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from checkout import copy_project

from compiler.commands.cli import main
from compiler.commands.schema import SCHEMA_BASE, all_schemas, render
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters import json_format
from compiler.reporters.findings import Report
from compiler.reporters.json_schema import REPORT_SCHEMA_ID, REPORT_SCHEMA_NAME

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "schemas" / REPORT_SCHEMA_NAME
E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
FINDINGS = (
    Diagnostic("CH200", E, "Unknown field `replcas`", "models/churn.yaml", 3, 3, 3, 10, path=("spec", "replcas"),
               hint="did you mean `replicas`?"),
    Diagnostic("CH500", W, "no robustness metric", "models/churn.yaml", 9, 5, policy="eu-ai-act-high-risk",
               rule="robustness", waiver="later", path=("spec", "evaluation", "suite")),
    Diagnostic("CH408", I, "not used by any model", "suites/x y.yaml"),
    Diagnostic("CH999", E, "a code the catalogue lacks has no name", "a.yaml"),
    Diagnostic("CH901", W, "No spec files found", ""),
)  # fmt: skip


def published() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(PUBLISHED.read_text("utf-8"))
    return schema


def errors(document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(published(), format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_schema_is_published_with_the_others() -> None:
    assert PUBLISHED.read_text("utf-8") == render(all_schemas()[REPORT_SCHEMA_NAME])
    assert REPORT_SCHEMA_ID == SCHEMA_BASE + REPORT_SCHEMA_NAME
    jsonschema.Draft202012Validator.check_schema(published())


def test_every_kind_of_finding_fits_the_schema() -> None:
    document = json.loads(json_format.render(Report(FINDINGS, 2, 3, tool_version="0.1.0")))
    assert next(iter(document)) == "$schema"
    assert document["$schema"] == published()["$id"]
    assert errors(document) == []
    assert errors(json.loads(json_format.render(Report(())))) == []


def test_the_schema_is_closed() -> None:
    """A key the reporter adds without describing it fails here, and so does a misspelt one."""
    document = json.loads(json_format.render(Report(FINDINGS[:1], tool_version="0.1.0")))
    document["diagnostics"][0]["colum"] = 3
    document["summary"]["errors"] = -1
    assert sorted(errors(document)) == [
        "diagnostics/0: Additional properties are not allowed ('colum' was unexpected)",
        "summary/errors: -1 is less than the minimum of 0",
    ]


@pytest.mark.parametrize("project", ["tests/cases/demo-broken", "examples/credit-scoring"])
def test_charter_check_writes_what_the_schema_describes(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_project(project, tmp_path / "checkout")  # the check writes its cache beside the project
    monkeypatch.chdir(tmp_path / "checkout")
    out = tmp_path / "report.json"
    main(["check", project, "--format", "json", "--output", str(out)])
    document = json.loads(out.read_text("utf-8"))
    assert document["diagnostics"]
    assert errors(document) == []
