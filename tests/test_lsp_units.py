"""The language server's parts without a server: the cursor on broken YAML, finding conversion, code docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripts_support import load_script

from compiler.core.codes import all_codes
from compiler.core.diagnostics import Diagnostic
from compiler.core.lines import editor_lines
from compiler.lsp.convert import code_href, from_utf16, to_lsp, utf16
from compiler.lsp.cursor import locate_cursor
from compiler.lsp.fields import field_at

ROOT = Path(__file__).resolve().parent.parent
HALF_TYPED = """kind: Model
spec:
  data:
    training:
      contract: \n  features:
    - income
    - \n  deployments:
  - environment: staging
    re
  command: [python, -m, train]
"""


@pytest.mark.parametrize(
    ("line", "character", "path", "on_key", "new_key", "word"),
    [
        (4, 16, ("spec", "data", "training", "contract"), False, False, ""),
        (6, 8, ("spec", "features", 0), False, False, "income"),
        (7, 6, ("spec", "features", 1), False, False, ""),
        (9, 4, ("spec", "deployments", 0, "environment"), True, False, "environment"),
        (10, 6, ("spec", "deployments", 0), True, True, "re"),
        (11, 22, ("spec", "command", 1), False, False, "-m"),
    ],
)
def test_the_cursor_on_half_typed_yaml(
    line: int, character: int, path: tuple[object, ...], on_key: bool, new_key: bool, word: str
) -> None:
    cursor = locate_cursor(HALF_TYPED, line, character)
    assert cursor is not None
    assert (cursor.path, cursor.on_key, cursor.new_key, cursor.word, cursor.kind) == (
        path,
        on_key,
        new_key,
        word,
        "Model",
    )


def test_documents_are_counted_and_block_scalars_skipped() -> None:
    text = "kind: A\n---\nkind: Waiver\nspec:\n  justification: >-\n    policy: no\n  policy: x\n"
    cursor = locate_cursor(text, 6, 11)
    assert cursor is not None
    assert (cursor.document, cursor.path, cursor.kind) == (1, ("spec", "policy"), "Waiver")


def test_a_finding_of_line_0_is_on_the_first_line_and_columns_are_utf16() -> None:
    whole = to_lsp(Diagnostic.of("CH103", "file is empty", "a.yaml"), editor_lines("# only a comment\n"))
    assert (whole.range.start.line, whole.range.start.character, whole.range.end.character) == (0, 0, 16)
    astral = "name: \U0001f600 x"
    finding = Diagnostic.of("CH401", "no", "a.yaml", line=1, column=9, end_line=1, end_column=10)
    at = to_lsp(finding, editor_lines(astral))
    assert (at.range.start.character, at.range.end.character) == (9, 10)
    assert utf16(astral, 8) == 9
    assert from_utf16(astral, 9) == 8


def test_fields_come_from_the_spec_models() -> None:
    tier = field_at("Model", ("spec", "riskTier"))
    assert tier is not None
    assert tier.values == ("minimal", "limited", "high", "unacceptable")
    assert field_at("Model", ("spec", "nope")) is None


def test_docs_codes_is_current_and_every_code_has_its_anchor() -> None:
    committed = (ROOT / "docs" / "codes.md").read_text("utf-8")
    assert committed == load_script("code_docs").codes_markdown(), "docs/codes.md is stale: run `make docs`"
    for code in all_codes():
        assert f"\n## {code.id}\n" in committed
        assert code_href(code.id).endswith(f"docs/codes.md#{code.id.lower()}")


def test_a_cached_check_keeps_every_spec_for_completion_and_definitions(tmp_path: Path) -> None:
    import shutil

    from compiler.lsp.workspace import Workspace

    root = tmp_path / "credit-scoring"
    example = Path(__file__).resolve().parents[1] / "examples" / "credit-scoring"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", "cache"))
    workspace = Workspace(root)
    first = workspace.check({})
    staging = (root / "environments/staging.yaml").read_bytes()
    added = staging.replace(b"name: staging", b"name: sandbox").replace(b"namespace: credit-risk", b"namespace: play")
    edited = workspace.check({"environments/sandbox.yaml": added})  # a new spec nothing refers to yet
    assert not edited.complete
    # The model has a (waived) finding, so its text is in the report, though it was not read again.
    assert any(d.file.endswith("models/credit-default.yaml") for d in edited.diagnostics)
    assert sorted((s.kind, s.name) for s in edited.specs) == sorted(
        [*((s.kind, s.name) for s in first.specs), ("Environment", "sandbox")]
    )


def test_a_server_starts_from_the_signed_cache_then_reads_the_whole_project_for_completion(tmp_path: Path) -> None:
    """Issue 26: start to first diagnostics. The first server writes the cache; the next one's first check reads
    only the project file and the policies, with the same findings, and a check of the whole project follows."""
    import shutil

    from compiler.core.cache import CACHE_FILE
    from compiler.lsp.workspace import Workspace

    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root, ignore=shutil.ignore_patterns(".github", "cache"))
    first = Workspace(root).check({})
    assert (root / CACHE_FILE).is_file()
    every_spec = sorted((spec.kind, spec.name) for spec in first.specs)
    assert len(every_spec) == 10  # with the Environment the model trains in

    workspace = Workspace(root)
    quick = workspace.check({})
    assert workspace.partial
    assert quick.diagnostics == first.diagnostics
    assert sorted(spec.kind for spec in quick.specs) == ["Policy", "Project"]
    whole = workspace.check({}, whole=True)
    assert not workspace.partial
    assert whole.diagnostics == first.diagnostics
    assert sorted((spec.kind, spec.name) for spec in whole.specs) == every_spec
    # Later edits are cached checks again, on top of every spec.
    edited = workspace.check({"environments/staging.yaml": (root / "environments/staging.yaml").read_bytes()})
    assert not workspace.partial
    assert sorted((spec.kind, spec.name) for spec in edited.specs) == every_spec


def test_a_server_on_a_folder_without_a_project_file_writes_no_cache(tmp_path: Path) -> None:
    from compiler.core.cache import CACHE_DIR
    from compiler.lsp.workspace import Workspace

    (tmp_path / "model.yaml").write_text("apiVersion: charter/v1alpha1\nkind: Model\n", "utf-8")
    Workspace(tmp_path).check({})
    assert not (tmp_path / CACHE_DIR).exists()


def test_the_first_findings_do_not_wait_for_the_cache_or_the_collector(tmp_path: Path) -> None:
    """Issue 26: the server publishes the first check's findings, then writes the cache and freezes the check's
    objects (`settle`), which took a second of a cold start at 1,000 specs before the findings went out."""
    import gc
    import shutil

    from compiler.core import collector
    from compiler.core.cache import CACHE_FILE
    from compiler.lsp.workspace import Workspace

    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root, ignore=shutil.ignore_patterns(".github", "cache"))
    workspace = Workspace(root)
    frozen = gc.get_freeze_count()
    workspace.check({}, settle_later=True)
    assert not (root / CACHE_FILE).exists()
    # Nothing frozen by the check (objects an earlier test froze may be freed meanwhile: a memo replaced).
    assert gc.get_freeze_count() <= frozen
    workspace.settle()
    assert (root / CACHE_FILE).is_file()
    assert gc.get_freeze_count() > frozen
    collector.thaw()
