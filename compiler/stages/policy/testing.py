"""Policies' unit tests, written as data (`charter policy test DIR`).

A test file (`tests/*.yaml` in a pack or an organisation's policy folder):

    policy: supply-chain-images          # the policy under test
    fixture: ../../fixtures/high-risk    # optional: a folder of specs every case starts from
    today: "2026-06-01"                  # optional: pins waiver expiry
    cases:
      - name: a tag instead of a digest fails
        documents:                       # specs added to the fixture; one with the same
          - apiVersion: charter/v1alpha1 # kind and name replaces the fixture's
            kind: Model
            ...
        expect:
          - {rule: training-image-pinned, target: Model/credit-default}
      - name: passing evaluation evidence for the current version
        evidence:                        # records filed under evidence/<model>/<version>/<gate>.json
          - {model: credit-default, gate: eval, verdict: pass}
          - {model: other, gate: eval, verdict: pass, changed: [suite]}   # measured on another suite
        expect: []

Each case runs the full pipeline on its specs with only the policy under
test, and compares the policy's findings (rule, target, and severity when
given) with `expect`, exactly. A case's evidence records are filed by the evidence recorder, which the
command hands in (`FileEvidence`): the runner knows specs and policies, not how a record is written.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.sources import display_path
from compiler.stages.checked import Checked
from compiler.stages.pipeline import check_path, load_document

FileEvidence = Callable[[Path, Checked, Any], list[str]]
"""Files a case's `evidence` entries under a project root, judged against its check; returns the problems."""

PROJECT = """apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: policy-test
spec:
  policies:
    packs: []
"""


@dataclass
class CaseResult:
    file: str
    policy: str
    case: str
    line: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unexpected or self.problems)


def case_files(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.rglob("*.yaml") if "tests" in p.relative_to(directory).parts[:-1])


def run_directory(directory: Path, file_evidence: FileEvidence) -> Iterator[CaseResult]:
    for test_file in case_files(directory):
        yield from run_file(test_file, file_evidence)


def run_file(test_file: Path, file_evidence: FileEvidence) -> Iterator[CaseResult]:
    display = display_path(test_file)
    source = load_document(test_file, display)
    errors = [d for d in source.diagnostics if d.severity is Severity.ERROR]
    if errors or not source.documents or not isinstance(source.documents[0].data, dict):
        problem = errors[0].message if errors else "not a policy test file"
        yield CaseResult(display, "?", "(file)", errors[0].line if errors else 0, problems=[problem])
        return
    document = source.documents[0]
    data: dict[str, Any] = document.data
    policy_name = str(data.get("policy", "?"))
    policy_file = _find_policy(test_file, policy_name)
    if policy_file is None:
        yield CaseResult(display, policy_name, "(file)", 1, problems=[f"no policy named `{policy_name}` near the test"])
        return
    fixture = (test_file.parent / data["fixture"]).resolve() if data.get("fixture") else None
    today = datetime.date.fromisoformat(str(data["today"])) if data.get("today") else None
    for index, case in enumerate(data.get("cases") or []):
        line = document.node.value[0][0].start_mark.line + 1
        for key, value in document.node.value:
            if key.value == "cases" and isinstance(value, yaml.SequenceNode) and index < len(value.value):
                line = value.value[index].start_mark.line + 1
        yield _run_case(
            display, policy_name, policy_file, fixture=fixture, today=today, case=case, line=line, filer=file_evidence
        )


def _find_policy(test_file: Path, name: str) -> Path | None:
    """The policy file that defines `name`, in the folder above `tests/`."""
    folder = test_file.parent
    while folder.name != "tests" and folder != folder.parent:
        folder = folder.parent
    search = folder.parent if folder.name == "tests" else test_file.parent
    for candidate in sorted([*search.glob("*.yaml"), *search.glob("*.yml")]):
        for document in load_document(candidate, candidate.name).documents:
            data = document.data
            if (
                isinstance(data, dict)
                and data.get("kind") == "Policy"
                and (data.get("metadata") or {}).get("name") == name
            ):
                return candidate
    return None


def _run_case(
    display: str,
    policy: str,
    policy_file: Path,
    *,
    fixture: Path | None,
    today: datetime.date | None,
    case: Any,
    line: int,
    filer: FileEvidence,
) -> CaseResult:
    name = str(case.get("name", "?")) if isinstance(case, dict) else "?"
    result = CaseResult(display, policy, name, line)
    if not isinstance(case, dict):
        result.problems.append("a case is a mapping with name, documents and expect")
        return result
    documents = [d for d in case.get("documents") or [] if isinstance(d, dict)]
    with tempfile.TemporaryDirectory(prefix="charter-policy-test-") as temporary:
        root = Path(temporary)
        _lay_out(root, fixture, documents)
        checked = check_path(root, today=today, extra_policies=[policy_file])
        if case.get("evidence"):
            result.problems.extend(filer(root, checked, case["evidence"]))
            checked = check_path(root, today=today, extra_policies=[policy_file])
        targets = {(spec.file, spec.document.index): f"{spec.kind}/{spec.name}" for spec in checked.specs}
        got = {_describe(d, targets) for d in checked.diagnostics if d.policy == policy and not d.suppressed}
        # A case must not pass because its specs are broken: report those first.
        broken = [d for d in checked.diagnostics if d.severity is Severity.ERROR and d.policy is None]
        result.problems.extend(f"{Path(d.file).name}:{d.line}: [{d.code}] {d.message}" for d in broken)
    expected = {_expected(item) for item in case.get("expect") or []}
    loose = {(rule, target) for rule, target, severity in expected if severity is None}
    actual = {(rule, target, None if (rule, target) in loose else sev) for rule, target, sev in got}
    result.missing = sorted(_show(item) for item in expected - actual)
    result.unexpected = sorted(_show(item) for item in actual - expected)
    return result


def _lay_out(root: Path, fixture: Path | None, documents: list[dict[str, Any]]) -> None:
    replaced = {(d.get("kind"), _name(d)) for d in documents}
    if fixture is not None:
        for path in sorted(fixture.rglob("*.y*ml")):
            source = load_document(path, path.name)
            keep = [d.data for d in source.documents if (d.data.get("kind"), _name(d.data)) not in replaced]
            if keep:
                target = root / path.relative_to(fixture)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(yaml.safe_dump_all(keep, sort_keys=False), "utf-8")
    if not (root / "charter.yaml").exists() and not any(d.get("kind") == "Project" for d in documents):
        (root / "charter.yaml").write_text(PROJECT, "utf-8")
    for index, document in enumerate(documents):
        target = root / ("charter.yaml" if document.get("kind") == "Project" else f"case-{index}.yaml")
        target.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")


def _name(document: dict[str, Any]) -> str:
    if document.get("kind") == "DataContract":
        return str(document.get("id"))
    metadata = document.get("metadata")
    return str(metadata.get("name")) if isinstance(metadata, dict) else "?"


def _describe(diagnostic: Diagnostic, targets: dict[tuple[str, int], str]) -> tuple[str, str, str | None]:
    rule = diagnostic.rule or "(policy)"
    if diagnostic.code != "CH500":
        # Not a violation: the policy failed to run, or a waiver of it was refused, expired or unused.
        rule = f"{rule}!{CODES[diagnostic.code].name}"
    target = targets.get((diagnostic.file, diagnostic.document), Path(diagnostic.file).name)
    return rule, target, diagnostic.severity.value


def _expected(item: Any) -> tuple[str, str, str | None]:
    if not isinstance(item, dict):
        return ("?", str(item), None)
    severity = item.get("severity")
    return str(item.get("rule", "?")), str(item.get("target", "?")), str(severity) if severity else None


def _show(item: tuple[str, str, str | None]) -> str:
    rule, target, severity = item
    return f"{rule} on {target}" + (f" ({severity})" if severity else "")
