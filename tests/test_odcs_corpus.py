"""Charter on real public ODCS v3 contracts, against verdicts computed from the official schemas.

tests/odcs-corpus/ holds the contracts as published (origins and licences in
its README and sources.json) and expected.json, written by
tests/odcs-corpus/expect.py from the official schemas with python-jsonschema,
not by Charter. On every contract: no valid one is rejected, no invalid one
accepted, one valid only in a later release gets the CH302 warning naming
that release, and every error sits inside a part of the file the official
schema rejects, at the exact key or value its path names (located here with
PyYAML's own nodes, not Charter's).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.stages.read.load import load_file
from compiler.stages.validate.specs import validate

# Messages speak YAML: null, true/false, mapping, sequence.
PYTHON_WORDS = re.compile(r"\b(None|True|False|dict|list)\b|'")
CORPUS = Path(__file__).resolve().parent / "odcs-corpus"
EXPECTED: dict[str, Any] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
SOURCES: list[dict[str, str]] = json.loads((CORPUS / "sources.json").read_text("utf-8"))


def findings_of(file: str) -> list[Diagnostic]:
    source = load_file(CORPUS / "files" / file, file)
    assert len(source.documents) == 1, source.diagnostics
    _, findings = validate(source.documents[0])
    return [*source.diagnostics, *findings]


def starts(root: yaml.Node, path: tuple[Any, ...]) -> set[tuple[int, int]]:
    """1-based (line, column) where the node at `path` starts, and where its key does."""
    node, places = root, {(root.start_mark.line + 1, root.start_mark.column + 1)}
    for segment in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == segment)
            places = {(key.start_mark.line + 1, key.start_mark.column + 1)}
        else:
            node = node.value[segment]
            places = set()
        places.add((node.start_mark.line + 1, node.start_mark.column + 1))
    return places


def test_the_corpus_is_large_and_every_file_has_an_origin() -> None:
    assert len(EXPECTED) >= 100
    assert {entry["file"] for entry in SOURCES} == set(EXPECTED)
    for entry in SOURCES:
        content = (CORPUS / "files" / entry["file"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], f"{entry['file']} changed since collected"
        assert entry["licence"] in ("Apache-2.0", "MIT")
        assert entry["repository"].startswith("https://github.com/")
    verdicts = {entry["verdict"].split(":")[0] for entry in EXPECTED.values()}
    assert verdicts == {"valid", "later", "invalid"}


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_verdict_and_locations_match_the_official_schemas(file: str) -> None:
    expected = EXPECTED[file]
    findings = findings_of(file)
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    later = [finding for finding in findings if finding.code == "CH302"]
    verdict = expected["verdict"]
    if verdict == "valid":
        assert errors == [], "a valid contract is rejected"
        assert later == []
        return
    if verdict.startswith("later:"):
        version = verdict.removeprefix("later:")
        assert errors == [], "a contract valid in a later release is rejected"
        assert [finding.message for finding in later] == [
            f"uses fields of ODCS {version}; declare `apiVersion: {version}`"
        ]
        return
    assert errors, "an invalid contract is accepted"
    for error in errors:
        assert not PYTHON_WORDS.search(error.message), f"Python, not YAML: {error.message}"
    assert later == []
    regions = [(error["line"], error["end_line"], error["path"]) for error in expected["errors"]]
    for first, last, _ in regions:
        assert any(first <= error.line <= last for error in errors), f"no finding for lines {first}-{last}"
    root = yaml.compose((CORPUS / "files" / file).read_text("utf-8"))
    for error in errors:
        inside = [path for first, last, path in regions if first <= error.line <= last]
        assert inside, f"{error.code} at line {error.line} is outside every part the schema rejects"
        assert any(tuple(error.path[: len(path)]) == tuple(path) for path in inside), (error.path, inside)
        assert (error.line, error.column) in starts(root, error.path), f"{error.code} {error.message} misplaced"
        if (error.line, error.column) == (1, 1):
            assert error.path == (), "a finding at 1:1 that is not about the document root"
