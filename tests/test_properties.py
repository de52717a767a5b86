"""Properties of the loader and the validator, checked with Hypothesis.

1. Nothing a user can put in a file makes `load_text`, `load_bytes` or
   `validate` raise: arbitrary text, arbitrary bytes, and YAML-shaped text
   built from the characters that drive the parser (indentation, `-`, `:`,
   brackets, anchors, aliases, tags, quotes, directives), and the specs of
   tests/cases with a few edits, all end in Diagnostics whose positions lie
   inside the file.
2. The published JSON Schemas and the pydantic models agree: in
   tests/test_schema_agreement.py.
3. JSON is YAML 1.2: a document written as JSON loads to the same data (and a
   schema-valid document written as JSON passes `validate` with no finding:
   tests/test_schema_agreement.py).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler.core.diagnostics import Diagnostic
from compiler.core.models import KINDS
from compiler.stages.read.load import SourceFile, load_bytes, load_text
from compiler.stages.resolve.references import resolve
from compiler.stages.validate.specs import validate

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


# --- 1. nothing raises ----------------------------------------------------------------


def check_everything(source: SourceFile, text: str) -> None:
    """Validate every document; every finding is a Diagnostic placed inside the file."""
    findings: list[Diagnostic] = list(source.diagnostics)
    for document in source.documents:
        _, more = validate(document)
        findings.extend(more)
    lines = len(text.splitlines()) + 1
    for finding in findings:
        assert isinstance(finding, Diagnostic)
        assert finding.file == "fuzz.yaml"
        assert 0 <= finding.line <= lines, finding
        assert (finding.line == 0) == (finding.column == 0), finding
        if finding.line:
            assert finding.end_line >= finding.line, finding


@FUZZ
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    check_everything(load_text(text, "fuzz.yaml"), text)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    source = load_bytes(raw, "fuzz.yaml")
    check_everything(source, source.text or raw.decode("utf-8", errors="replace"))


KEYS = ["apiVersion", "kind", "metadata", "name", "spec", "tier", "features", "label", "<<", "? a", "1", "a b"]
SCALARS = [
    "charter/v1alpha1",
    "Model",
    "Environment",
    "EvaluationSuite",
    "Waiver",
    "Policy",
    "Project",
    "DataContract",
    "v3.0.2",
    "yes",
    "no",
    "on",
    "~",
    "null",
    "1.10",
    "0x1f",
    "0o17",
    "1e3",
    ".nan",
    "-.inf",
    "2024-02-30",
    "9" * 50,
    "${{ secrets.X }}",
    "a: b",
    "#",
    "%",
    "@",
    "`",
    "|",
    ">-",
    "\t",
    "\ufeff",
    "é",
]
TOKENS = st.sampled_from(
    [
        "- ",
        "-",
        ": ",
        ":",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "&b ",
        "*a",
        "*b",
        "!!str ",
        "!!int ",
        "!!map ",
        "!!seq ",
        "!Ref ",
        "!!python/object/apply:os.system ",
        '"',
        "'",
        '"\\u00e9"',
        "'it''s'",
        "? ",
        "<<: *a",
        " ",
        "  ",
    ]
)
PIECE = st.one_of(TOKENS, st.sampled_from(KEYS + SCALARS), st.text(alphabet="ab:-[]{}\"' \t#&*!|>", max_size=6))
LINE = st.one_of(
    st.sampled_from(["---", "...", "%YAML 1.1", "%YAML 1.2", "%TAG ! tag:x,2000:", "# comment", ""]),
    st.builds(
        lambda indent, pieces: " " * indent + "".join(pieces),
        st.integers(0, 10),
        st.lists(PIECE, min_size=1, max_size=6),
    ),
)
ENVELOPES = st.sampled_from(
    [
        "",
        *(f"apiVersion: charter/v1alpha1\nkind: {kind}\n" for kind in KINDS),
        "apiVersion: v3.0.2\nkind: DataContract\n",
    ]
)


@FUZZ
@given(ENVELOPES, st.lists(LINE, max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_yaml_shaped_text_never_raises(envelope: str, lines: list[str], newline: str) -> None:
    text = envelope + newline.join(lines)
    check_everything(load_text(text, "fuzz.yaml"), text)


@FUZZ
@given(st.integers(1, 200), st.sampled_from(["[", "{", "- ", "a:\n", "? "]), st.sampled_from(["", "&a ", "*a "]))
def test_nesting_never_raises(levels: int, opener: str, decoration: str) -> None:
    text = "".join(" " * (2 * i if opener.endswith("\n") else 0) + decoration + opener for i in range(levels))
    check_everything(load_text(text, "fuzz.yaml"), text)


def _seed_specs() -> list[str]:
    """The YAML of the test cases: near-valid documents are what users write."""
    seeds = []
    for path in sorted((Path(__file__).parent / "cases").glob("**/*.yaml")):
        if path.name == "expected.yaml" or path.stat().st_size > 5000:
            continue
        try:
            seeds.append(path.read_text("utf-8"))
        except UnicodeDecodeError:
            continue  # the invalid UTF-8 case
    return seeds


SEEDS = _seed_specs()
EDITS = [*KEYS, *SCALARS, "- ", ": ", "[", "]", "{", "}", "&a ", "*a", "<<: *a\n  ", "\n", "  ", "'", '"', "#"]


@st.composite
def edited_specs(draw: st.DrawFn) -> str:
    """A spec from the cases with a few characters deleted, inserted, replaced, or a line copied."""
    text: str = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        until = draw(st.integers(at, min(len(text), at + 12)))
        edit = draw(st.integers(0, 3))
        if edit == 0:
            text = text[:at] + text[until:]
        elif edit == 1:
            text = text[:at] + draw(st.sampled_from(EDITS)) + text[at:]
        elif edit == 2:
            text = text[:at] + draw(st.sampled_from(EDITS)) + text[until:]
        else:
            lines = text.split("\n")
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(lines)))
            text = "\n".join(lines)
    return text


@FUZZ
@given(edited_specs())
def test_edited_specs_never_raise(text: str) -> None:
    source = load_text(text, "fuzz.yaml")
    check_everything(source, text)
    specs = [spec for spec, _ in map(validate, source.documents) if spec is not None]
    resolve(specs, ["fairness"])  # references across the file's documents


# --- 3. JSON is YAML 1.2 -------------------------------------------------------------------

# YAML does not allow the first group of characters unescaped, and JSON writers
# do not escape them; JSON's surrogate-pair escapes (`\ud83d\ude00`) are not YAML,
# so astral characters stay as they are. libyaml reads the second group (NEL,
# LINE SEPARATOR, PARAGRAPH SEPARATOR) as line breaks, as YAML 1.1 does: in a
# quoted string they would fold into a space (YAML 1.2 keeps them as text).
_NOT_PRINTABLE = re.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff]|[\x85\u2028\u2029]")


def no_expression(document: Any) -> bool:
    return "${{" not in json.dumps(document, ensure_ascii=False)


def as_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return _NOT_PRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@FUZZ
@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_json_documents_load_to_the_same_data(document: dict[str, Any]) -> None:
    assume(no_expression(document))
    assume(all(abs(value) < 10**4000 for value in _numbers(document) if isinstance(value, int)))
    text = as_json(document)
    source = load_text(text, "spec.json")
    assert not source.diagnostics
    if document:
        assert source.documents[0].data == document
        assert _types(source.documents[0].data) == _types(document)


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _types(value: Any) -> Any:
    """The shape with types, so that 1 == 1.0 == True do not hide a wrong type."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    if isinstance(value, float) and math.isfinite(value):
        return ("float", value)
    return (type(value).__name__, value)
