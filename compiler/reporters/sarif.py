"""SARIF 2.1.0, the format GitHub code scanning and most CI dashboards ingest.

What GitHub needs beyond the schema: every rule has `help`; a finding of a policy rule has a rule of
its own (`CH500/eu-ai-act-evidence/evaluation-evidence`), so an alert names the rule that fired;
`partialFingerprints` are unique per result and do not move with line numbers (GitHub identifies an
alert by rule and fingerprint: two results that share both merge into one alert); a run holds at most
25,000 results, and a project with more keeps the most severe and says how many it left out.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters.findings import Report
from compiler.reporters.rules import RuleHelp, rule_key

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/charter-dev/charter"
CODE_DOCS = f"{INFORMATION_URI}/blob/main/docs/codes.md"
# GitHub code scanning refuses a run with more results than this (its documented upload limits).
MAX_RESULTS = 25_000
TRUNCATED_CODE = "CH940"
# The fingerprint's key names its recipe: a new recipe is a new key, so no old value changes meaning.
FINGERPRINT = "charter/v2"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, *, max_results: int = MAX_RESULTS) -> str:
    kept, left_out = _within_limit(report.diagnostics, max_results)
    rule_ids = sorted({_rule_id(d) for d in kept})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    examples = {_rule_id(d): d for d in reversed(kept)}
    driver: dict[str, Any] = {"name": "charter", "informationUri": INFORMATION_URI}
    if report.tool_version:
        driver["semanticVersion"] = report.tool_version
    driver["rules"] = [_rule(rule_id, examples[rule_id], report.rules) for rule_id in rule_ids]
    fingerprints = _fingerprints(kept)
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [_invocation(left_out, len(report.diagnostics))],
        "results": [_result(d, index[_rule_id(d)], fp) for d, fp in zip(kept, fingerprints, strict=True)],
    }
    if left_out:
        run["properties"] = {"findings": len(report.diagnostics), "findingsLeftOut": len(left_out)}
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _within_limit(diagnostics: Sequence[Diagnostic], max_results: int) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The findings a run may hold, in report order, and those left out: the least severe go first."""
    if len(diagnostics) <= max_results:
        return list(diagnostics), []
    # Unwaived errors are what blocks a merge, so they are the last to be left out.
    by_weight = sorted(range(len(diagnostics)), key=lambda i: (diagnostics[i].suppressed, diagnostics[i].severity.rank))
    chosen = set(by_weight[:max_results])
    kept = [d for i, d in enumerate(diagnostics) if i in chosen]
    left_out = [d for i, d in enumerate(diagnostics) if i not in chosen]
    return kept, left_out


def _invocation(left_out: Sequence[Diagnostic], total: int) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if not left_out:
        return invocation
    levels = Counter(_LEVELS[d.severity] for d in left_out)
    counted = ", ".join(f"{levels[level]} {level}" for level in ("error", "warning", "note") if levels[level])
    text = (
        f"{len(left_out)} of {total} findings left out ({counted}): GitHub code scanning accepts at most "
        f"{MAX_RESULTS:,} results per run, so this log keeps the most severe. "
        "Every finding: `charter check --format json` (or `--format text`)."
    )
    invocation["toolExecutionNotifications"] = [
        {"descriptor": {"id": TRUNCATED_CODE}, "level": "warning", "message": {"text": text}}
    ]
    return invocation


def _rule_id(d: Diagnostic) -> str:
    key = rule_key(d)
    return f"{d.code}/{key}" if key else d.code


def _pascal(name: str) -> str:
    # GitHub shows `name` as the rule's label and expects PascalCase there.
    return "".join(part.capitalize() for part in name.replace("/", "-").split("-"))


def _rule(rule_id: str, example: Diagnostic, rules: Mapping[str, RuleHelp]) -> dict[str, Any]:
    code = CODES.get(example.code)
    key = rule_key(example)
    if key is not None:
        return _policy_rule(rule_id, key, example, rules.get(key))
    if code is None:
        return {"id": rule_id, "help": {"text": example.hint or example.message}}
    return {
        "id": code.id,
        "name": _pascal(code.name),
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": code.explanation},
        "helpUri": f"{CODE_DOCS}#{code.id.lower()}",
        "help": {"text": f"{code.explanation}\n\n`charter explain {code.id}` prints this text."},
        "defaultConfiguration": {"level": _LEVELS[code.severity]},
    }


def _policy_rule(rule_id: str, key: str, example: Diagnostic, found: RuleHelp | None) -> dict[str, Any]:
    """A rule of a policy: its description, remediation and references as its policy states them."""
    code = CODES.get(example.code)
    title = code.title if code else example.code
    severity = found.severity if found else example.severity
    description = (found.description if found else None) or f"{title}: `{key}`."
    parts = [description]
    remediation = (found.remediation if found else None) or example.hint
    if remediation:
        parts.append(f"Fix: {remediation}")
    references = found.references if found else tuple(example.related)
    if references:
        parts.append("References: " + "; ".join(references))
    # An organisation's own policies too: `charter explain` reads them from the project it runs in.
    parts.append(f"`charter explain {key}` prints this rule's documentation.")
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": _pascal(key),
        "shortDescription": {"text": f"{key}: {title}"},
        "fullDescription": {"text": description},
        "help": {"text": "\n\n".join(parts)},
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": {"policy": example.policy, "rule": example.rule},
    }
    if found is not None and found.help_uri:
        rule["helpUri"] = found.help_uri
    elif code is not None:
        rule["helpUri"] = f"{CODE_DOCS}#{code.id.lower()}"
    return rule


def _fingerprints(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """One fingerprint per result, unique in the run, that no edit elsewhere in a file changes.

    The key holds what says which finding this is (code, file, document, policy and rule, path in
    the document, message), never its line. Findings that share all of it (one typo twice in one
    document) are told apart by their order among themselves.
    """
    seen: Counter[str] = Counter()
    out = []
    for d in diagnostics:
        key = "\x1f".join((d.code, d.file, str(d.document), d.policy or "", d.rule or "", d.dotted_path, d.message))
        seen[key] += 1
        out.append(hashlib.sha256(f"{key}\x1f{seen[key]}".encode()).hexdigest())
    return out


def _result(d: Diagnostic, rule_index: int, fingerprint: str) -> dict[str, Any]:
    text = d.message + (f" Hint: {d.hint}" if d.hint else "")
    result: dict[str, Any] = {
        "ruleId": _rule_id(d),
        "ruleIndex": rule_index,
        "level": _LEVELS[d.severity],
        "message": {"text": text},
    }
    # A finding about the run itself has no file, so no location at all.
    if d.file:
        result["locations"] = [{"physicalLocation": _physical(d)}]
    result["partialFingerprints"] = {FINGERPRINT: fingerprint}
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
