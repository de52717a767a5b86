"""JSON files (evidence records) read by the C JSON parser give exactly what the YAML 1.2 loader gives: the same
data, value for value and type for type, and the same findings; where the two could differ, the YAML path reads
the file (issue 26: a cold check of 10,000 specs read its 3,000 evidence records through the YAML path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compiler.stages.read import load
from compiler.stages.read.json_text import read_json_mapping

ROOT = Path(__file__).resolve().parent.parent
RECORDS = sorted(ROOT.glob("examples/*/evidence/**/*.json"))


def typed(value: Any) -> Any:
    """The value with every scalar's type spelled out: 1, 1.0 and True are equal in Python, not here."""
    if isinstance(value, dict):
        return [(key, typed(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, repr(value))


def both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = load.load_text(text, "record.json")
    with monkeypatch.context() as patched:
        patched.setattr(load, "read_json_mapping", lambda _: None)
        slow = load.load_text(text, "record.json")

    def seen(source: load.SourceFile) -> Any:
        return [typed(d.data) for d in source.documents], list(source.diagnostics)

    return seen(fast), seen(slow)


CASES = [
    '{"a": 1, "b": -2, "c": 1.5, "d": -0.25e-3, "e": 1E+3, "f": 0, "g": -0, "h": 10.0}',
    '{"a":1,"b":[1,2,{"c":null}],"d":true,"e":false}',
    '{"text": "colon: here, - dash, # hash, & amp, * star, ! bang, | pipe, > gt, % pct, @ at, ` tick"}',
    '{"quote": "say \\"hi\\" \\\\ back \\n line \\t tab \\r cr \\b bs \\f ff"}',
    '{"unicode": "caf\u00e9 \u4e2d\u6587 \U0001f600", "empty": "", "space": " x "}',
    '{"nested": {"deeper": {"list": [[], {}, [[]], [{"k": "v"}]]}}}',
    '{"<<": {"a": 1}, "b": 2}',
    '{"yes": "no", "on": "off", "n": "y", "null": "~", "true": "True"}',
    '{"big": 123456789012345678901234567890, "neg": -123456789012345678901234567890}',
    '{"a": 1, "a": 2}',
    '{"a": "${{ github.token }}"}',
    '{"a": "\\u0024{{ x }}"}',
    '{"a": "\\/"}',
    '{"a": NaN}',
    '{"a": Infinity}',
    '{\t"a": 1}',
    '{"a": 1}\r\n',
    '{"a": "x\u0085y"}',
    '{"a": "x\u2028y"}',
    '{"a": "\ufeffx"}',
    '{"a": "\x7f"}',
    "[1, 2]",
    "null",
    "{}",
    '{"a": 1} trailing',
    '{"' + "k" * 1100 + '": 1}',
    '{"n": ' + "9" * 4001 + "}",
    '{"n": ' + "9" * 3999 + "}",
    "\n\n  " + '{"later": "lines"}' + "\n\n",
]


@pytest.mark.parametrize("text", CASES)
def test_json_reads_as_yaml_reads_it(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both_ways(text, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("depth", [62, 63, 64, 65])
def test_nesting_at_the_limit_reads_as_yaml_reads_it(depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = '{"a": ' * depth + "1" + "}" * depth
    fast, slow = both_ways(text, monkeypatch)
    assert fast == slow
    assert (read_json_mapping(text) is None) == (depth > 64)


@pytest.mark.parametrize("record", RECORDS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_example_record_takes_the_fast_path_with_the_same_result(
    record: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = record.read_text("utf-8")
    assert read_json_mapping(text) == json.loads(text)
    fast, slow = both_ways(text, monkeypatch)
    assert fast == slow


def test_a_finding_in_a_fast_read_record_is_located_from_its_text() -> None:
    text = '{\n  "a": 1,\n  "b": {\n    "c": [true, "x"]\n  }\n}\n'
    (document,) = load.load_text(text, "record.json").documents
    assert document.data == {"a": 1, "b": {"c": [True, "x"]}}
    node = document.node  # composed from the text on first use
    assert node.value[1][1].value[0][1].value[1].start_mark.line == 3


def test_what_the_yaml_path_would_report_goes_the_yaml_way() -> None:
    for text in ('{"a": 1, "a": 2}', '{"a": "${{ x }}"}', '{"a": NaN}', "[1]", "null", '{"a": "\\u0041"}'):
        assert read_json_mapping(text) is None, text
