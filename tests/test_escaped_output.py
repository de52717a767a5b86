"""Issue 10, attack 8: control and bidirectional characters reach no reader raw, in any human format."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.commands.cli import main
from compiler.core.safe_names import escape_for_people, path_segment_problem

CASE = Path(__file__).parent / "cases" / "ch211-contract-id-control"
SHOWN_ID = "loans\\x1b[31m\\x07\\x00\\u202e\\u2066x"
MESSAGE = f"contract id `{SHOWN_ID}` cannot name a path: it contains the character U+001B"
HINT = "use letters, digits, `-`, `_`, `.` and `:`, for example `loans` or `urn:acme:loans`"


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *options: str) -> str:
    monkeypatch.chdir(CASE)
    assert main(["check", "contract.yaml", *options]) == 1
    return capsys.readouterr().out


def test_github_annotations_show_escapes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    title = "CH211 A name that becomes a path is not a single plain path segment"
    assert run(capsys, monkeypatch, "--format", "github") == (
        f"::error file=contract.yaml,line=3,col=5,endLine=3,endColumn=35,title={title}::{MESSAGE}%0AHint: {HINT}\n"
        "charter: 1 error, 0 warnings\n"
    )


def test_text_output_shows_escapes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, monkeypatch, "--color", "never") == (
        f"contract.yaml:3:5: error[CH211] {MESSAGE}\n"
        ' 3 | id: "loans\\e[31m\\a\\0\\u202e\\u2066x"\n'
        "   |     ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        f"  = hint: {HINT}\n"
        "1 error, 0 warnings, 0 infos in 1 file.\n"
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1bb", "a\\x1bb"),
        ("bell\x07", "bell\\x07"),
        ("nul\x00", "nul\\x00"),
        ("\u202eevil", "\\u202eevil"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
        ("line\rover", "line\\x0dover"),
        ("kept\nand\ttabs, é, 😀", "kept\nand\ttabs, é, 😀"),
    ],
)
def test_escape_for_people(raw: str, shown: str) -> None:
    assert escape_for_people(raw) == shown


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../../../../proc/self/cwd", "it contains a path separator (`/` or `\\`)"),
        ("a..b", "it contains `..`"),
        ("-rf", "it starts with `-`"),
        (".hidden", "it starts with `.`"),
        ("a b", "it contains the character U+0020"),
        ("x\u202e", "it contains the character U+202E"),
        ("", "it is empty"),
        ("urn:acme:loans", None),
        ("3f2a9c1e-loans_v1.2", None),
    ],
)
def test_path_segment_problem(name: str, problem: str | None) -> None:
    assert path_segment_problem(name) == problem


RAW = "a\x1bb\x07c\x00d\u202ee\u2066f"
SHOWN = "a\\x1bb\\x07c\\x00d\\u202ee\\u2066f"


def test_markdown_of_the_plan_and_the_pull_request_comment_shows_escapes() -> None:
    from compiler.core.markdown import code, inline
    from compiler.core.markdown import text as md

    assert md(f"model {RAW} <b>") == f"model {SHOWN} &lt;b&gt;"
    assert code(RAW) == f"`{SHOWN}`"
    assert inline(f"id `{RAW}` is bad {RAW}") == f"id `{SHOWN}` is bad {SHOWN}"


def test_model_cards_show_escapes() -> None:
    from compiler.core.templating import code_span, markdown_text

    assert markdown_text(f"Scores {RAW}") == f"Scores {SHOWN}".replace("\\", "\\\\")
    assert code_span(RAW) == SHOWN


def test_check_run_annotations_show_escapes(tmp_path: Path) -> None:
    from compiler.core.diagnostics import Diagnostic, Severity
    from compiler.integrations.github.publish import to_annotations

    (tmp_path / "model.yaml").write_text("x: 1\n")
    finding = Diagnostic("CH205", Severity.ERROR, f"bad {RAW}", "model.yaml", 1, 1, 1, 2, hint=f"fix {RAW}")
    [annotation] = to_annotations([finding], tmp_path, tmp_path)
    assert annotation["message"] == f"bad {SHOWN}"
    assert annotation["raw_details"] == f"hint: fix {SHOWN}"


def test_a_long_line_is_quoted_as_a_bounded_excerpt() -> None:
    from compiler.core.diagnostics import Diagnostic, Severity
    from compiler.reporters import text

    line = "k: [" + ", ".join(f"s{i:05d}" for i in range(20_000)) + "]"
    column = line.index("s10000") + 1
    finding = Diagnostic("CH205", Severity.ERROR, "bad", "spec.yaml", 1, column, 1, column + 6)
    shown_finding, shown = text._excerpt(line, finding)
    assert len(shown) == text.EXCERPT + 2
    assert (shown[0], shown[-1]) == ("…", "…")
    start = shown_finding.column - 1
    assert shown[start : shown_finding.end_column - 1] == "s10000"
