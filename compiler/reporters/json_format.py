"""Machine-readable findings for scripts and dashboards; keys are a stable contract: only ever added."""

from __future__ import annotations

import json
from typing import Any

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity, count_by_severity
from compiler.reporters.findings import Report
from compiler.reporters.json_schema import REPORT_SCHEMA_ID


def render(report: Report) -> str:
    counts = count_by_severity(report.diagnostics)
    document = {
        # Where the format is described (schemas/check-report.schema.json); added in 0.1, before `version`.
        "$schema": REPORT_SCHEMA_ID,
        "version": report.tool_version,
        "summary": {
            "errors": counts[Severity.ERROR],
            "warnings": counts[Severity.WARNING],
            "infos": counts[Severity.INFO],
            "waived": sum(1 for d in report.diagnostics if d.suppressed),
            "files": report.files_checked,
            "specs": report.specs_checked,
        },
        "diagnostics": [finding_json(d) for d in report.diagnostics],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def finding_json(d: Diagnostic) -> dict[str, Any]:
    """One finding; `charter check --format json` and the findings of `charter plan` share these keys."""
    code = CODES.get(d.code)
    return {
        "code": d.code,
        "name": code.name if code else None,
        "severity": d.severity.value,
        "message": d.message,
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "path": d.dotted_path,
        "hint": d.hint,
        "policy": d.policy,
        "rule": d.rule,
        "waiver": d.waiver,
    }


def breaking_json(d: Diagnostic) -> dict[str, Any]:
    """A breaking change: its rule id (the code's name), the spec it is about, and who it concerns.

    The keys `charter plan --format json` has always written come first; `code`, the end
    position and `hint` were added when breaking changes became findings.
    """
    return {
        "rule": d.rule,
        "severity": d.severity.value,
        "kind": d.kind,
        "name": d.name,
        "message": d.message,
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "path": d.dotted_path,
        "concerns": list(d.concerns),
        "flips": [
            {"policy": f.policy, "kind": f.kind, "name": f.name, "before": f.before, "after": f.after} for f in d.flips
        ],
        "note": d.note,
        "code": d.code,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "hint": d.hint,
    }
