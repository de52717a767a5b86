"""The JSON Schema of `charter check --format json`, published as schemas/check-report.schema.json.

It sits beside the reporter it describes, and a test renders every kind of finding and validates
the output against it: a key the reporter adds without adding it here fails that test. The schema
is closed (`additionalProperties: false`) so a misspelt key in a consumer's expectations fails too;
keys are only ever added, and the schema at this address grows with them.
"""

from __future__ import annotations

from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
REPORT_SCHEMA_NAME = "check-report.schema.json"
REPORT_SCHEMA_ID = f"https://charter.dev/schemas/v1alpha1/{REPORT_SCHEMA_NAME}"

_COUNT = {"type": "integer", "minimum": 0}
_TEXT_OR_NULL = {"type": ["string", "null"]}


def _closed(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def finding_schema() -> dict[str, Any]:
    """One finding, as `finding_json` writes it (`charter check` and the findings of `charter plan`)."""
    return _closed(
        "One finding, at the exact place in the user's YAML.",
        {
            "code": {"type": "string", "pattern": "^CH[1-9][0-9][0-9]$", "description": "`charter explain CODE`"},
            "name": {**_TEXT_OR_NULL, "description": "The code's name (`unknown-field`)."},
            "severity": {"enum": ["error", "warning", "info"]},
            "message": {"type": "string"},
            "file": {"type": "string", "description": "Display path; empty for a finding about the run."},
            "line": {**_COUNT, "description": "1-based; 0 when the finding is about a whole file or the run."},
            "column": {**_COUNT, "description": "1-based; 0 when unknown."},
            "endLine": _COUNT,
            "endColumn": {**_COUNT, "description": "Exclusive, as in SARIF; 0 when unknown."},
            "path": {"type": "string", "description": "The path inside the document (`spec.features[0]`)."},
            "hint": _TEXT_OR_NULL,
            "policy": {**_TEXT_OR_NULL, "description": "For a policy's finding, the policy."},
            "rule": {**_TEXT_OR_NULL, "description": "For a policy's finding, the rule (`policy/rule` names it)."},
            "waiver": {**_TEXT_OR_NULL, "description": "The waiver that waived it: a waived finding does not count."},
        },
    )


def report_schema() -> dict[str, Any]:
    summary = _closed(
        "Counts of unwaived findings by severity, waived findings, and what was read.",
        dict.fromkeys(("errors", "warnings", "infos", "waived", "files", "specs"), _COUNT),
    )
    body = _closed(
        "Every finding of `charter check --format json`, sorted by file, line and column.",
        {
            "$schema": {"const": REPORT_SCHEMA_ID},
            "version": {"type": "string", "description": "Charter's version."},
            "summary": summary,
            "diagnostics": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
        },
    )
    return {
        "$schema": DIALECT,
        "$id": REPORT_SCHEMA_ID,
        "title": "charter check --format json",
        **body,
        "$defs": {"finding": finding_schema()},
    }
