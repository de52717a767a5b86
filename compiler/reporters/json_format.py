"""Machine-readable findings for scripts and dashboards; keys are a stable contract."""

from __future__ import annotations

import json
from typing import Any

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity, count_by_severity
from compiler.reporters import Report


def render(report: Report) -> str:
    counts = count_by_severity(report.diagnostics)
    document = {
        "version": report.tool_version,
        "summary": {
            "errors": counts[Severity.ERROR],
            "warnings": counts[Severity.WARNING],
            "infos": counts[Severity.INFO],
            "waived": sum(1 for d in report.diagnostics if d.suppressed),
            "files": report.files_checked,
            "specs": report.specs_checked,
        },
        "diagnostics": [_diagnostic(d) for d in report.diagnostics],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _diagnostic(d: Diagnostic) -> dict[str, Any]:
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
