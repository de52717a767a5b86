"""The loader: YAML 1.2 scalars, positions, documents, and every guard of THREATS.md."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.positions import locate
from compiler.stages import check_path, load_document
from compiler.stages.read import load
from compiler.stages.read.load import MAX_DEPTH, SourceFile, load_bytes, load_file, load_text
from compiler.stages.read.yaml12 import MAX_EXPANDED_VALUES


def loaded(text: str) -> SourceFile:
    return load_text(textwrap.dedent(text), "spec.yaml")


def value_of(scalar: str) -> Any:
    source = load_text(f"key: {scalar}\n", "spec.yaml")
    assert not source.diagnostics, source.diagnostics
    return source.documents[0].data["key"]


def codes(source: SourceFile) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in source.diagnostics]


def only(source: SourceFile) -> Diagnostic:
    assert len(source.diagnostics) == 1, source.diagnostics
    return source.diagnostics[0]


# --- YAML 1.2 scalars ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML 1.1 booleans are strings in YAML 1.2.
        ("no", "no"),
        ("No", "No"),
        ("NO", "NO"),
        ("on", "on"),
        ("off", "off"),
        ("yes", "yes"),
        ("y", "y"),
        ("n", "n"),
        # Booleans and null of the core schema.
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("null", None),
        ("~", None),
        ("", None),
        # Integers: octal and hex in the 1.2 spelling; a leading zero is decimal.
        ("0o17", 15),
        ("0x1f", 31),
        ("0x1F", 31),
        ("0755", 755),
        ("+12", 12),
        ("-0", 0),
        # 1.1 spellings that 1.2 does not have stay strings.
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("0O17", "0O17"),
        # Floats.
        ("1e3", 1000.0),
        ("1.5E-2", 0.015),
        (".5", 0.5),
        ("1.", 1.0),
        ("1.10", 1.1),
        (".inf", math.inf),
        ("+.Inf", math.inf),
        ("-.INF", -math.inf),
        # Dates are not a 1.2 type: ODCS and waivers get the text they wrote.
        ("2024-01-01", "2024-01-01"),
        ("2024-01-15T09:30:00Z", "2024-01-15T09:30:00Z"),
        # Explicit core tags and quotes.
        ("!!str 123", "123"),
        ("!!str true", "true"),
        ("!!int 0x1f", 31),
        ("!!float 1", 1.0),
        ("!!bool true", True),
        ("!!null ''", None),
        ('"123"', "123"),
        ("'true'", "true"),
        ("!<tag:yaml.org,2002:str> 5", "5"),
    ],
)
def test_yaml12_scalars(text: str, expected: Any) -> None:
    value = value_of(text)
    assert value == expected
    assert type(value) is type(expected)


def test_nan_is_a_number_the_schema_refuses() -> None:
    assert math.isnan(value_of(".nan"))
    assert math.isnan(value_of(".NaN"))


def test_yaml11_directive_warns_and_changes_nothing() -> None:
    source = loaded(
        """\
        %YAML 1.1
        ---
        a: yes
        b: on
        c: no
        """
    )
    assert source.documents[0].data == {"a": "yes", "b": "on", "c": "no"}
    finding = only(source)
    assert (finding.code, finding.severity, finding.line, finding.column) == ("CH115", Severity.WARNING, 1, 1)


def test_byte_order_mark_is_not_content() -> None:
    source = load_bytes(b"\xef\xbb\xbfa: 1\n", "spec.yaml")
    assert source.documents[0].data == {"a": 1}
    assert not source.diagnostics


# --- positions ---------------------------------------------------------------------

POSITIONS = """\
apiVersion: charter/v1alpha1
spec:
  version: 1.10
  quoted: "1.10"
  features:
    - tenure
    - plan
  serving:
    runtime: kserve
"""


def test_positions_of_keys_and_values() -> None:
    node = loaded(POSITIONS).documents[0].node
    version = locate(node, ["spec", "version"])
    assert (version.line, version.column, version.end_line, version.end_column) == (3, 12, 3, 16)
    assert version.exact
    assert version.source_text == "1.10"  # the text, not the float 1.1
    key = locate(node, ["spec", "version"], key=True)
    assert (key.line, key.column, key.end_column, key.source_text) == (3, 3, 10, "version")
    assert locate(node, ["spec", "quoted"]).source_text is None  # quoted: not plain text
    item = locate(node, ["spec", "features", 1])
    assert (item.line, item.column, item.source_text) == (7, 7, "plan")
    runtime = locate(node, ["spec", "serving", "runtime"])
    assert (runtime.line, runtime.column) == (9, 14)


def test_a_collection_is_underlined_where_it_starts() -> None:
    node = loaded(POSITIONS).documents[0].node
    serving = locate(node, ["spec", "serving"])
    assert (serving.line, serving.column, serving.end_line, serving.end_column) == (9, 5, 9, 6)


def test_missing_paths_fall_back_to_the_deepest_key() -> None:
    node = loaded(POSITIONS).documents[0].node
    missing = locate(node, ["spec", "serving", "port"])
    assert not missing.exact
    assert (missing.line, missing.column) == (8, 3)  # `serving:`
    out_of_range = locate(node, ["spec", "features", 5])
    assert not out_of_range.exact
    assert (out_of_range.line, out_of_range.column) == (5, 3)  # `features:`
    assert not locate(node, ["nothing"]).exact


def test_duplicate_keys_locate_the_last_one_like_the_data() -> None:
    source = loaded("a: 1\nb: 2\na: 3\n")
    assert source.documents[0].data == {"a": 3, "b": 2}
    assert locate(source.documents[0].node, ["a"]).line == 3
    assert codes(source) == [("CH104", 3, 1)]
    assert "first at line 1" in source.diagnostics[0].message


def test_merged_keys_are_located_where_they_are_written() -> None:
    source = loaded(
        """\
        defaults: &defaults
          cluster: eu-west
          tier: staging
        spec:
          <<: *defaults
          tier: production
        """
    )
    assert source.documents[0].data["spec"] == {"cluster": "eu-west", "tier": "production"}
    assert not source.diagnostics  # a key written beside `<<` overrides, it is no duplicate
    node = source.documents[0].node
    assert locate(node, ["spec", "cluster"]).line == 2  # in the anchor
    assert locate(node, ["spec", "tier"]).line == 6  # the override


def test_positions_with_crlf_line_ends() -> None:
    source = load_text("a: 1\r\nb:\r\n  c: 1.10\r\n", "spec.yaml")
    span = locate(source.documents[0].node, ["b", "c"])
    assert (span.line, span.column, span.source_text) == (3, 6, "1.10")


# --- documents ----------------------------------------------------------------------


def test_multi_document_indexes_count_every_document() -> None:
    source = loaded(
        """\
        a: 1
        ---
        ---
        b: 2
        --- # third
        c: 3
        """
    )
    assert [(d.index, d.data) for d in source.documents] == [(0, {"a": 1}), (2, {"b": 2}), (3, {"c": 3})]
    assert codes(source) == [("CH103", 2, 1)]  # the empty document, at its `---`


def test_a_syntax_error_keeps_the_documents_before_it() -> None:
    source = loaded(
        """\
        kind: Environment
        ---
        kind: Model
        spec: {a: [1, 2}
        """
    )
    assert [d.data for d in source.documents] == [{"kind": "Environment"}]
    assert codes(source) == [("CH100", 4, 16)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("  \n\n", "file is empty"),
        ("# nothing yet\n", "only comments"),
    ],
)
def test_files_without_documents_warn(text: str, message: str) -> None:
    finding = only(load_text(text, "spec.yaml"))
    assert (finding.code, finding.severity, finding.line) == ("CH103", Severity.WARNING, 0)
    assert message in finding.message


# --- syntax -------------------------------------------------------------------------


def test_tab_indentation_has_a_hint() -> None:
    finding = only(loaded("spec:\n\ttier: staging\n"))
    assert (finding.code, finding.line, finding.column) == ("CH100", 2, 1)
    assert "spaces" in (finding.hint or "")


def test_syntax_error_names_where_the_construct_began() -> None:
    finding = only(loaded("a: [1,\n  2\nb: 3\n"))
    assert (finding.code, finding.line, finding.column) == ("CH100", 3, 2)
    assert "(line 1, column 4)" in finding.message


def test_invalid_utf8_and_binary() -> None:
    assert codes(load_bytes(b"a: 1\nb: caf\xe9\n", "spec.yaml")) == [("CH101", 2, 7)]
    assert codes(load_bytes(b"a: 1\nb: \x00\n", "spec.yaml")) == [("CH102", 2, 4)]
    assert codes(load_text("a: \x07\n", "spec.yaml"))[0][0] == "CH100"  # a control character


def test_file_too_large_is_refused_before_parsing() -> None:
    finding = only(load_bytes(b"a: 1\n" + b"#" * load.MAX_FILE_BYTES, "spec.yaml"))
    assert (finding.code, finding.line) == ("CH116", 0)


def test_unreadable_file(tmp_path: Path) -> None:
    finding = only(load_file(tmp_path, "specs"))  # a directory where a file should be
    assert finding.code == "CH117"


def test_a_loader_bug_becomes_a_finding_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "spec.yaml").write_text("a: 1\n")

    def broken(root: Path, path: Path, display: str) -> SourceFile:
        raise RuntimeError("boom")

    monkeypatch.setattr("compiler.stages.read.discovery.load_repo_file", broken)
    monkeypatch.chdir(tmp_path)
    (finding,) = check_path(Path(".")).diagnostics
    assert finding.code == "CH900"
    assert "RuntimeError: boom" in finding.message


# --- tags, keys, numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "shown"),
    [
        ("a: !!python/object/apply:os.system [ls]\n", "CH109", "`!!python/object/apply:os.system`"),
        ("a: !!python/name:os.system\n", "CH109", "`!!python/name:os.system`"),
        ("a: !Ref other\n", "CH109", "`!Ref`"),
        ("a: !!binary aGVsbG8=\n", "CH109", "`!!binary`"),
        ("a: !!timestamp 2020-01-01\n", "CH109", "`!!timestamp`"),
        ("a: !!set {b}\n", "CH109", "`!!set`"),
        ("%TAG ! tag:evil.example,2000:\n---\na: !x 1\n", "CH109", "`tag:evil.example,2000:x`"),
        ("a: !!int two\n", "CH202", "`two` is not a valid !!int"),
        ("a: !!bool yes\n", "CH202", "`yes` is not a valid !!bool"),
        ("a: !!str [x]\n", "CH202", "a list cannot be `!!str`"),
        ("a: !!int {b: 1}\n", "CH202", "a mapping cannot be `!!int`"),
        ("a: !!map text\n", "CH202", "`text` is not a valid !!map"),  # was a KeyError
        ("--- !!seq\n", "CH202", "is not a valid !!seq"),  # was a KeyError
    ],
)
def test_tags(text: str, code: str, shown: str) -> None:
    source = load_text(text, "spec.yaml")
    finding = only(source)
    assert finding.code == code
    assert shown in finding.message
    assert not source.documents  # the document is refused, not half-read


def test_non_string_keys() -> None:
    source = loaded(
        """\
        404: a
        true: b
        null: c
        "200": d
        ? [x, y]
        : e
        """
    )
    assert codes(source) == [("CH110", 1, 1), ("CH110", 2, 1), ("CH110", 3, 1), ("CH110", 5, 3)]
    assert source.diagnostics[0].hint == 'quote it: "404"'
    assert set(source.documents[0].data) == {"404", "true", "null", "200", "a collection"}


@pytest.mark.parametrize(
    "number",
    ["9" * 4001, "-" + "9" * 4000, "0x" + "f" * 3300, "0o" + "7" * 4400],
)
def test_huge_integers_are_refused_with_a_position(number: str) -> None:
    finding = only(load_text(f"a: 1\nb: {number}\n", "spec.yaml"))
    assert (finding.code, finding.line, finding.column) == ("CH111", 2, 4)


def test_large_but_printable_integers_load() -> None:
    assert value_of("9" * 4000) == int("9" * 4000)
    str(value_of("0x" + "f" * 3000))  # printable: below Python's 4,300-digit limit


def test_expression_in_text_is_flagged_in_keys_and_values() -> None:
    source = loaded('a: "${{ secrets.X }}"\n${{ github.actor }}: b\nc: $ {{ fine }}\n')
    assert codes(source) == [("CH209", 1, 4), ("CH209", 2, 1)]
    assert len(source.documents) == 1  # a finding, not a refusal


def test_merge_of_a_non_mapping_points_at_the_merge() -> None:
    source = loaded("names: &names [a, b]\nspec:\n  <<: *names\n")
    assert codes(source) == [("CH202", 3, 3)]


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    source = loaded('"<<": 1\n')
    assert source.documents[0].data == {"<<": 1}


# --- aliases -------------------------------------------------------------------------------


def alias_document(copies: int, extra_scalars: int = 0) -> str:
    """A root list: one anchored list of 8 scalars, `copies` aliases of it, and extra scalars.

    Values counted: 9 for the anchored list (8 scalars and itself), 9 per alias,
    1 per extra scalar, 1 for the root list.
    """
    items = ["&a [1, 2, 3, 4, 5, 6, 7, 8]", *(["*a"] * copies), *(["x"] * extra_scalars)]
    return "[" + ", ".join(items) + "]\n"


def test_alias_budget_boundary() -> None:
    # 9 + 9 * 11,110 + 1 = 100,000 values: exactly the budget.
    assert MAX_EXPANDED_VALUES == 9 + 9 * 11_110 + 1
    at_limit = load_text(alias_document(11_110), "spec.yaml")
    assert not at_limit.diagnostics
    assert len(at_limit.documents[0].data) == 11_111
    over = load_text(alias_document(11_110, extra_scalars=1), "spec.yaml")
    finding = only(over)
    assert (finding.code, finding.line, finding.column) == ("CH106", 1, 1)
    assert not over.documents


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    source = load_text("\n".join(lines) + "\n", "laughs.yaml")
    assert only(source).code == "CH106"


def test_aliases_share_and_do_not_count_as_recursion() -> None:
    source = loaded("a: &x {k: v}\nb: *x\nc: [*x, *x]\n")
    assert not source.diagnostics
    assert source.documents[0].data == {"a": {"k": "v"}, "b": {"k": "v"}, "c": [{"k": "v"}, {"k": "v"}]}


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "a: &x {b: *x}\n", "a: &x {<<: *x}\n"])
def test_recursive_alias(text: str) -> None:
    finding = only(load_text(text, "spec.yaml"))
    assert (finding.code, finding.line, finding.column) == ("CH107", 1, 4)


# --- depth -----------------------------------------------------------------------------------


def nested_flow(levels: int) -> str:
    return "[" * levels + "]" * levels


PAD = "# " + "-" * 1200 + "\n"  # a long line: the cheap bound no longer rules out deep nesting


@pytest.mark.parametrize("pad", ["", PAD], ids=["composer", "event-guard"])
def test_depth_limit_is_exact_on_both_paths(pad: str) -> None:
    assert not load_text(pad + nested_flow(MAX_DEPTH) + "\n", "spec.yaml").diagnostics
    finding = only(load_text(pad + nested_flow(MAX_DEPTH + 1) + "\n", "spec.yaml"))
    line = 2 if pad else 1
    assert (finding.code, finding.line, finding.column) == ("CH108", line, MAX_DEPTH + 1)


def test_event_guard_runs_before_the_c_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = load._Yaml12Composer

    class Spy(original):  # type: ignore[misc,valid-type]
        def __init__(self, text: str) -> None:
            calls.append(text)
            super().__init__(text)

    monkeypatch.setattr(load, "_Yaml12Composer", Spy)
    finding = only(load_text("[" * 100_000, "deep.yaml"))
    assert (finding.code, finding.line, finding.column) == ("CH108", 1, MAX_DEPTH + 1)
    assert calls == []  # refused from the event stream: the recursive composer never saw it


def refusing_libyaml(monkeypatch: pytest.MonkeyPatch, levels: int, problem: str) -> None:
    """A libyaml whose scanner refuses nesting past `levels`, in words of its own."""
    real_parse = yaml.parse

    def parse(text: str, Loader: Any = yaml.SafeLoader) -> Any:
        if Loader is not yaml.CSafeLoader:
            yield from real_parse(text, Loader=Loader)
            return
        depth = 0
        for event in real_parse(text, Loader=Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > levels:
                    raise yaml.scanner.ScannerError("während des Lesens", event.start_mark, problem, event.start_mark)
            yield event

    monkeypatch.setattr(yaml, "parse", parse)


@pytest.mark.parametrize("problem", ["Verschachtelung zu tief", "exceeded maximum nesting depth", ""])
def test_depth_code_does_not_depend_on_the_library_limit_or_wording(
    monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    """CH108 at the 65th opening, whether libyaml refuses at 1,000 levels, at 100, or in other words."""
    refusing_libyaml(monkeypatch, 100, problem)
    finding = only(load_text(PAD + nested_flow(200) + "\n", "spec.yaml"))
    assert (finding.code, finding.line, finding.column) == ("CH108", 2, MAX_DEPTH + 1)


def test_a_syntax_error_in_a_long_file_is_still_a_syntax_error(monkeypatch: pytest.MonkeyPatch) -> None:
    refusing_libyaml(monkeypatch, 1, "not a nesting problem")
    finding = only(load_text(PAD + "key: [[1, 2], 3\nother: 4\n", "spec.yaml"))
    assert (finding.code, finding.line) == ("CH100", 3)


def test_earlier_documents_keep_their_lines_when_the_depth_is_measured_again() -> None:
    text = "a: 1\n---\n  b: 2\n--- " + "[" * 3_000 + "\n"
    finding = only(load_text(text, "spec.yaml"))
    assert (finding.code, finding.line, finding.column) == ("CH108", 4, 4 + MAX_DEPTH + 1)


def test_block_nesting_depth() -> None:
    text = "".join("  " * level + f"k{level}:\n" for level in range(MAX_DEPTH + 1)) + "  " * (MAX_DEPTH + 1) + "x\n"
    finding = only(load_text(text, "spec.yaml"))
    assert finding.code == "CH108"
    # Level n is the mapping that starts with key k(n-2) on line n: level 65 starts at `k63`.
    assert (finding.line, finding.column) == (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "{" * 100_000,
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "- " * 60_000 + "x\n",
        "".join("  " * level + "- \n" for level in range(3_000)),
    ],
    ids=["open-brackets", "open-braces", "closed-brackets", "block-sequence-line", "block-sequence-lines"],
)
def test_deep_input_does_not_kill_the_process(text: str, tmp_path: Path) -> None:
    """In a child process: a segfault in the C parser would otherwise take pytest down with it."""
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    script = (
        "import sys; from pathlib import Path; from compiler.stages.read.load import load_file; "
        "s = load_file(Path(sys.argv[1]), 'deep.yaml'); print([d.code for d in s.diagnostics])"
    )
    command = [sys.executable, "-c", script, str(path)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['CH108']"


def test_one_file_through_the_door_reads_it_and_validates_a_document_when_asked(tmp_path: Path) -> None:
    """`load_document` is how the editor, the changed-only scope and the policy tools read one file: the same
    documents from text, bytes or a path, reading's findings with their place, and each document's spec."""
    example = Path(__file__).resolve().parent.parent / "examples" / "credit-scoring"
    project = (example / "charter.yaml").read_text("utf-8")
    text = project + "---\n- not a spec\n---\nkind: Model\nspec: {a: [1, 2}\n"
    written = tmp_path / "charter.yaml"
    written.write_text(text, "utf-8")
    loads = [load_document(text, "charter.yaml"), load_document(text.encode(), "charter.yaml")]
    loads.append(load_document(written, "charter.yaml"))
    assert len({repr([d.data for d in loaded.documents]) for loaded in loads}) == 1
    for loaded in loads:
        assert loaded.path == "charter.yaml"
        assert [(d.code, d.line) for d in loaded.diagnostics] == [("CH100", project.count("\n") + 5)]
        first, second = loaded.documents
        spec = loaded.spec_of(first)
        assert spec is not None
        assert (spec.kind, spec.name) == ("Project", "credit-scoring")
        assert loaded.spec_of(second) is None  # a list is no spec: its finding is the check's (CH105)
