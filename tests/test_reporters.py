"""Every output format, rendered from the same handful of awkward findings."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema
import pytest

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters import formats, github, json_format, junit, sarif, text
from compiler.reporters.findings import Report

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SOURCES = {
    "models/churn.yaml": "kind: Model\nspec:\n  replcas: 3\n\t😀x: [1, 2]\n",
}
UNKNOWN = Diagnostic(
    "CH200", E, "Unknown field `replcas` 😀", "models/churn.yaml", 3, 3, 3, 10,
    path=("spec", "replcas"), hint="did you mean `replicas`?",
)  # fmt: skip
AWKWARD = Diagnostic(
    "CH403", W, "50% of a,b: c\nnext", "models/churn.yaml", 4, 5, 6, 2,
    path=("spec", "deployments", 0),
)  # fmt: skip
WAIVED = Diagnostic(
    "CH208", E, "bad value", "suites/x y.yaml", 2, 1, policy="fairness", rule="bound",
    waiver="w-1",
)  # fmt: skip
WHOLE_FILE = Diagnostic("CH408", I, "not used by any model", "suites/x y.yaml")
RUN = Diagnostic("CH901", W, "No spec files found", "")
ALL = (UNKNOWN, AWKWARD, WAIVED, WHOLE_FILE, RUN)


def report(*diagnostics: Diagnostic, color: bool = False) -> Report:
    return Report(diagnostics, 3, 4, SOURCES, color=color, tool_version="0.1.0")


def test_registry_lists_all_formats() -> None:
    assert set(formats()) == {"text", "json", "sarif", "github", "junit"}
    for render in formats().values():
        assert render(report(*ALL)).endswith("\n")


# --- text ---------------------------------------------------------------------


def test_text_exact() -> None:
    assert text.render(report(*ALL)) == (
        "models/churn.yaml:3:3: error[CH200] Unknown field `replcas` 😀\n"
        " 3 |   replcas: 3\n"
        "   |   ^~~~~~~\n"
        "  = hint: did you mean `replicas`?\n"
        "models/churn.yaml:4:5: warning[CH403] 50% of a,b: c\n"
        "    next\n"
        # The tab expands to 4 cells and the emoji takes 2, so the caret still
        # lands on column 5 (the space); the end is on a later line.
        " 4 |     😀x: [1, 2]\n"
        "   |         ^~~~~~~\n"
        "suites/x y.yaml:2:1: waived[CH208 fairness/bound] bad value (an error, waived by w-1)\n"
        "suites/x y.yaml: info[CH408] not used by any model\n"
        "charter: warning[CH901] No spec files found\n"
        "1 error, 2 warnings, 1 info (1 waived) in 3 files.\n"
    )


def test_text_summary_when_clean_and_singular() -> None:
    assert text.render(Report((), 1, 1)) == "All checks passed: 1 file, 1 spec.\n"
    assert text.render(Report((), 0, 2)) == "All checks passed: 0 files, 2 specs.\n"
    only_waived = text.render(Report((WAIVED,), 1, 1))
    assert only_waived.endswith("0 errors, 0 warnings, 0 infos (1 waived) in 1 file.\n")


def test_text_caret_edges() -> None:
    past_end = Diagnostic("CH201", E, "missing", "models/churn.yaml", 1, 40)
    assert "  |            ^\n" in text.render(report(past_end))
    unknown_end = Diagnostic("CH201", E, "missing", "models/churn.yaml", 1, 7)
    assert " 1 | kind: Model\n   |       ^~~~~\n" in text.render(report(unknown_end))
    no_source = Diagnostic("CH201", E, "missing", "other.yaml", 1, 1)
    assert " | " not in text.render(report(no_source))


def test_text_colour_only_when_asked() -> None:
    coloured = text.render(report(*ALL, color=True))
    plain = text.render(report(*ALL))
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain
    assert "\x1b[1;31merror" in coloured
    assert ANSI.sub("", coloured) == plain


def test_text_neutralises_terminal_escapes_from_specs() -> None:
    hostile = Diagnostic("CH202", E, "value \x1b[2J\rgone", "a.yaml", 0)
    assert "\x1b" not in text.render(report(hostile))
    assert "\r" not in text.render(report(hostile))


# --- json ---------------------------------------------------------------------


def test_json() -> None:
    data = json.loads(json_format.render(report(*ALL)))
    assert data["version"] == "0.1.0"
    assert data["summary"] == {
        "errors": 1, "warnings": 2, "infos": 1, "waived": 1, "files": 3, "specs": 4,
    }  # fmt: skip
    first = data["diagnostics"][0]
    assert first["message"] == "Unknown field `replcas` 😀"
    assert first["name"] == "unknown-field"
    assert (first["line"], first["column"], first["endLine"], first["endColumn"]) == (
        3,
        3,
        3,
        10,
    )
    assert first["path"] == "spec.replcas"
    assert data["diagnostics"][1]["path"] == "spec.deployments[0]"
    assert data["diagnostics"][2]["waiver"] == "w-1"
    assert data["diagnostics"][2]["policy"] == "fairness"
    assert "😀" in json_format.render(report(UNKNOWN))  # not \ud83d-escaped
    unknown_code = Diagnostic("CH999", E, "x", "a.yaml")
    assert json.loads(json_format.render(report(unknown_code)))["diagnostics"][0]["name"] is None


# --- sarif --------------------------------------------------------------------

# The official schema cannot be downloaded here, so this is the part of it that
# the output uses, with its constraints, and closed as the official one is
# (additionalProperties: false), so a misspelt key fails.


def _closed(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


_TEXT = _closed(["text"], text={"type": "string"})
_LEVEL = {"enum": ["none", "note", "warning", "error"]}
_POSITIVE = {"type": "integer", "minimum": 1}
SARIF_SUBSET = _closed(
    ["version", "runs"],
    **{"$schema": {"type": "string", "format": "uri"}},
    version={"enum": ["2.1.0"]},
    runs={
        "type": "array",
        "items": _closed(
            ["tool"],
            tool=_closed(
                ["driver"],
                driver=_closed(
                    ["name"],
                    name={"type": "string"},
                    informationUri={"type": "string"},
                    semanticVersion={"type": "string"},
                    rules={
                        "type": "array",
                        "items": _closed(
                            ["id"],
                            id={"type": "string"},
                            name={"type": "string"},
                            shortDescription=_TEXT,
                            fullDescription=_TEXT,
                            help=_TEXT,
                            helpUri={"type": "string", "format": "uri"},
                            defaultConfiguration=_closed([], level=_LEVEL),
                            properties={"type": "object"},
                        ),
                    },
                ),
            ),
            invocations={
                "type": "array",
                "items": _closed(
                    ["executionSuccessful"],
                    executionSuccessful={"type": "boolean"},
                    toolExecutionNotifications={"type": "array"},
                ),
            },
            properties={"type": "object"},
            results={
                "type": "array",
                "items": _closed(
                    ["message"],
                    ruleId={"type": "string"},
                    ruleIndex={"type": "integer", "minimum": -1},
                    level=_LEVEL,
                    message=_TEXT,
                    locations={
                        "type": "array",
                        "items": _closed(
                            [],
                            physicalLocation=_closed(
                                [],
                                artifactLocation=_closed(
                                    [],
                                    uri={"type": "string"},
                                    uriBaseId={"type": "string"},
                                ),
                                region=_closed(
                                    [],
                                    startLine=_POSITIVE,
                                    startColumn=_POSITIVE,
                                    endLine=_POSITIVE,
                                    endColumn=_POSITIVE,
                                ),
                            ),
                        ),
                    },
                    partialFingerprints={
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                    },
                    suppressions={
                        "type": "array",
                        "items": _closed(
                            ["kind"],
                            kind={"enum": ["inSource", "external"]},
                            justification={"type": "string"},
                        ),
                    },
                    properties={"type": "object"},
                ),
            },
        ),
    },
)


def test_sarif_structure() -> None:
    log = json.loads(sarif.render(report(*ALL)))
    jsonschema.validate(log, SARIF_SUBSET)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "charter"
    assert driver["semanticVersion"] == "0.1.0"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["CH200", "CH208", "CH403", "CH408", "CH901"]
    assert rules[0]["name"] == "UnknownField"
    assert rules[2]["name"] == "MetricTaskMismatch"
    assert rules[3]["defaultConfiguration"] == {"level": "note"}
    assert run["invocations"] == [{"executionSuccessful": True}]
    results = run["results"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first, awkward, waived, whole_file, run_level = results
    assert first["message"]["text"] == "Unknown field `replcas` 😀 Hint: did you mean `replicas`?"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "models/churn.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {
        "startLine": 3,
        "startColumn": 3,
        "endLine": 3,
        "endColumn": 10,
    }
    assert awkward["properties"] == {"path": "spec.deployments[0]"}
    assert waived["suppressions"] == [{"kind": "external", "justification": "waived by w-1"}]
    assert waived["properties"] == {"policy": "fairness", "rule": "bound"}
    assert waived["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "suites/x%20y.yaml"
    assert "region" not in whole_file["locations"][0]["physicalLocation"]
    assert whole_file["level"] == "note"
    assert "locations" not in run_level
    assert len(first["partialFingerprints"]["charter/v2"]) == 64
    assert rules[0]["helpUri"] == "https://github.com/charter-dev/charter/blob/main/docs/codes.md#ch200"
    assert rules[0]["help"]["text"].startswith("The field is not part of this kind's schema")
    assert rules[0]["help"]["text"].endswith("`charter explain CH200` prints this text.")


def test_sarif_regions_never_end_before_they_start() -> None:
    backwards = Diagnostic("CH200", E, "x", "a.yaml", 5, 8, 5, 3)
    region = json.loads(sarif.render(report(backwards)))["runs"][0]["results"][0]
    assert region["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5,
        "startColumn": 8,
    }


def test_sarif_fingerprint_ignores_line_moves() -> None:
    moved = UNKNOWN.with_changes(line=30, end_line=30)

    def fingerprint(d: Diagnostic) -> str:
        result = json.loads(sarif.render(report(d)))["runs"][0]["results"][0]
        return str(result["partialFingerprints"]["charter/v2"])

    assert fingerprint(moved) == fingerprint(UNKNOWN)
    assert fingerprint(AWKWARD) != fingerprint(UNKNOWN)


def test_sarif_without_findings_or_version() -> None:
    log = json.loads(sarif.render(Report(())))
    jsonschema.validate(log, SARIF_SUBSET)
    assert "semanticVersion" not in log["runs"][0]["tool"]["driver"]
    assert log["runs"][0]["results"] == []


# --- github -------------------------------------------------------------------


def test_github_exact() -> None:
    assert github.render(report(*ALL)).splitlines() == [
        (
            "::error file=models/churn.yaml,line=3,col=3,endLine=3,endColumn=10,"
            "title=CH200 Unknown field::Unknown field `replcas` 😀%0AHint: did you mean `replicas`?"
        ),
        (
            "::warning file=models/churn.yaml,line=4,col=5,endLine=6,endColumn=2,"
            "title=CH403 Metric does not fit the model's task::50%25 of a,b: c%0Anext"
        ),
        ("::notice file=suites/x y.yaml,line=2,col=1,title=CH208 Value is not valid::bad value (waived by w-1)"),
        ("::notice file=suites/x y.yaml,title=CH408 Spec is not used by anything::not used by any model"),
        "::warning title=CH901 No spec files found::No spec files found",
        "charter: 1 error, 2 warnings",
    ]


def test_github_property_escaping() -> None:
    assert github.escape_property("a%b,c:d\r\ne") == "a%25b%2Cc%3Ad%0D%0Ae"
    assert github.escape_data("a%b,c:d\r\ne") == "a%25b,c:d%0D%0Ae"
    odd_file = Diagnostic("CH100", E, "x", "dir,1/a:b.yaml", 1, 1)
    assert github.render(report(odd_file)).startswith("::error file=dir%2C1/a%3Ab.yaml,")


def test_github_spec_text_cannot_inject_commands() -> None:
    hostile = Diagnostic("CH202", E, "x\n::error::injected\r\n", "a.yaml", 1)
    (line, _summary) = github.render(report(hostile)).splitlines()
    assert line == "::error file=a.yaml,line=1,title=CH202 Value has the wrong type" + ("::x%0A::error::injected%0D%0A")


# --- junit --------------------------------------------------------------------


def test_junit() -> None:
    xml = junit.render(report(*ALL))
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert xml.endswith(">\n")
    root = ET.fromstring(xml.encode())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "1", None)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["suites/x y.yaml"].get("skipped") == "1"
    assert list(suites) == ["models/churn.yaml", "suites/x y.yaml", "charter"]
    churn = suites["models/churn.yaml"]
    assert (churn.get("tests"), churn.get("failures")) == ("2", "1")
    failure = churn.find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "CH200"
    assert failure.get("message") == "Unknown field `replcas` 😀"
    assert failure.text == ("models/churn.yaml:3:3\nUnknown field `replcas` 😀\ndid you mean `replicas`?")
    names = [c.get("name") for c in root.iter("testcase")]
    assert names[:2] == ["CH200 3:3 spec.replcas", "CH403 4:5 spec.deployments[0]"]
    skipped = suites["suites/x y.yaml"].find("testcase/skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived by w-1"
    out = churn.find("testcase/system-out")
    assert out is not None
    assert out.text is not None
    assert "50% of a,b: c\nnext" in out.text


def test_junit_clean_run() -> None:
    root = ET.fromstring(junit.render(Report(())).encode())
    (case,) = root.iter("testcase")
    assert case.get("name") == "all checks passed"
    assert len(case) == 0
    assert (root.get("tests"), root.get("failures")) == ("1", "0")


@pytest.mark.parametrize(
    ("bad", "kept"),
    [("\x00", ""), ("\x1b[31m", "[31m"), ("\x0c", ""), ("\ufffe", ""), ("\ud800", "")],
)
def test_junit_always_parses(bad: str, kept: str) -> None:
    hostile = Diagnostic("CH202", E, f"a{bad}b <&>\"'", f"f{bad}.yaml", 1, 1, hint=bad)
    root = ET.fromstring(junit.render(report(hostile)).encode())
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == f"a{kept}b <&>\"'"
