"""JUnit XML, for CI systems that only show test reports (GitLab, Jenkins, Azure).

Valid against `junit-10.xsd`, the schema Jenkins' xunit plugin checks reports against (vendored in
tests/junit/): `<testsuites>` carries no `skipped` count (only its suites do), and no two testcases of
a suite share a name, since CI systems key a test's history on suite, class and name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters.findings import Report

# XML 1.0 cannot carry these even as character references, so they are dropped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(value: str) -> str:
    return _ILLEGAL.sub("", value)


def render(report: Report) -> str:
    root = ET.Element("testsuites", name="charter")
    by_file: dict[str, list[Diagnostic]] = {}
    for d in report.diagnostics:
        by_file.setdefault(d.file or "charter", []).append(d)
    if not by_file:
        suite = ET.SubElement(root, "testsuite", name="charter")
        ET.SubElement(suite, "testcase", classname="charter", name="all checks passed")
    for file, diagnostics in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=clean(file))
        for d, name in zip(diagnostics, _names(diagnostics), strict=True):
            _testcase(suite, file, d, name)
    _count(root)
    for suite in root:
        _count(suite)
        suite.set("skipped", str(sum(1 for c in suite.iter("testcase") if c.find("skipped") is not None)))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _names(diagnostics: list[Diagnostic]) -> list[str]:
    """A name per finding, unique in its suite: code, `policy/rule`, position and path, then `#2`, `#3`..."""
    seen: Counter[str] = Counter()
    names = []
    for d in diagnostics:
        where = f"{d.line}:{d.column}" if d.line > 0 else ""
        rule = f"{d.policy}/{d.rule}" if d.policy and d.rule else ""
        name = clean(" ".join(part for part in (d.code, rule, where, d.dotted_path) if part))
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def _testcase(suite: ET.Element, file: str, d: Diagnostic, name: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=clean(file), name=name)
    location = f"{d.file}:{d.line}:{d.column}" if d.line > 0 else d.file
    body = clean("\n".join(part for part in (location, d.message, d.hint) if part))
    if d.waiver is not None:
        ET.SubElement(case, "skipped", message=clean(f"waived by {d.waiver}"))
    elif d.severity is Severity.ERROR:
        failure = ET.SubElement(case, "failure", message=clean(d.message), type=d.code)
        failure.text = body
    else:
        # Warnings do not fail the build, so they pass but keep their text.
        ET.SubElement(case, "system-out").text = f"{d.severity.value}[{d.code}] {body}"


def _count(element: ET.Element) -> None:
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    element.set("errors", "0")
