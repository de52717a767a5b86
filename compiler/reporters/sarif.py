"""SARIF 2.1.0, the format GitHub code scanning and most CI dashboards ingest."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/charter-dev/charter"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report) -> str:
    rule_ids = sorted({d.code for d in report.diagnostics})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    driver: dict[str, Any] = {"name": "charter", "informationUri": INFORMATION_URI}
    if report.tool_version:
        driver["semanticVersion"] = report.tool_version
    driver["rules"] = [_rule(rule_id) for rule_id in rule_ids]
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True}],
        "results": [_result(d, index[d.code]) for d in report.diagnostics],
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(rule_id: str) -> dict[str, Any]:
    code = CODES.get(rule_id)
    if code is None:
        return {"id": rule_id}
    return {
        "id": code.id,
        # GitHub shows `name` as the rule's label and expects PascalCase there.
        "name": "".join(part.capitalize() for part in code.name.split("-")),
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": code.explanation},
        "defaultConfiguration": {"level": _LEVELS[code.severity]},
    }


def _result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    text = d.message + (f" Hint: {d.hint}" if d.hint else "")
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[d.severity],
        "message": {"text": text},
    }
    # A finding about the run itself has no file, so no location at all.
    if d.file:
        result["locations"] = [{"physicalLocation": _physical(d)}]
    # Line numbers shift with every edit; code, file, path and message do not,
    # so alerts keep their identity across commits.
    key = f"{d.code}|{d.file}|{d.dotted_path}|{d.message}"
    result["partialFingerprints"] = {"charter/v1": hashlib.sha256(key.encode()).hexdigest()}
    if d.waiver is not None:
        result["suppressions"] = [{"kind": "external", "justification": f"waived by {d.waiver}"}]
    properties = {"policy": d.policy, "rule": d.rule, "path": d.dotted_path or None}
    if any(properties.values()):
        result["properties"] = {k: v for k, v in properties.items() if v}
    return result


def _physical(d: Diagnostic) -> dict[str, Any]:
    posix = d.file.replace("\\", "/")
    # `uri` must be a valid URI reference: spaces and non-ASCII are percent-encoded.
    artifact: dict[str, Any] = {"uri": quote(posix, safe="/")}
    if posix.startswith("/"):
        artifact["uri"] = "file://" + artifact["uri"]
    else:
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if d.line <= 0:
        return physical
    region: dict[str, int] = {"startLine": d.line}
    if d.column > 0:
        region["startColumn"] = d.column
    # SARIF rejects a region that ends before it starts, so doubtful ends are dropped.
    if d.end_line > d.line or (d.end_line == d.line and d.end_column > d.column > 0):
        region["endLine"] = d.end_line
        if d.end_column > 0:
            region["endColumn"] = d.end_column
    physical["region"] = region
    return physical
