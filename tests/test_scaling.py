"""Issue 26: no input makes checking quadratic, and a document shows at most 100 findings (CH126).

No timed assertion: the work is counted instead. A profile hook counts every Python and C function call
made while one hostile file is loaded, validated and its findings located, at N, 2N and 4N. Fixed costs
cancel in the differences; a linear path grows by about 2x from one difference to the next, a quadratic
one by about 4x (`_find_key` scanned every key of the mapping for each finding, so the old code gave 4.0).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.core.capped import MAX_PER_DOCUMENT, cap_per_document
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.positions import locate
from compiler.stages import check_path
from compiler.stages.read.load import load_text
from compiler.stages.validate.specs import validate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "credit-scoring"
MODEL = "models/credit-default.yaml"


def _calls(action: Callable[[], object]) -> int:
    count = 0

    def hook(_frame: object, event: str, _arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(hook)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def _growth(make: Callable[[int], Callable[[], object]], base: int) -> float:
    """(calls at 4N - calls at 2N) / (calls at 2N - calls at N): about 2 when linear, about 4 when quadratic."""
    make(base)()  # warm caches (pydantic, schemas) so that every measured run does the same work
    one, two, four = (_calls(make(base * factor)) for factor in (1, 2, 4))
    return (four - two) / (two - one)


def _model_with_unknown_keys(n: int) -> str:
    keys = "".join(f"  unknownKey{i}: {i}\n" for i in range(n))
    return (
        "apiVersion: charter/v1alpha1\nkind: Model\nmetadata:\n  name: m\n  owner: team-a\n"
        "spec:\n  task: regression\n" + keys
    )


def _load_and_validate(text: str) -> Callable[[], object]:
    def run() -> object:
        source = load_text(text, "model.yaml")
        return [validate(document) for document in source.documents]

    return run


def test_locating_findings_in_one_mapping_is_linear_in_its_keys() -> None:
    def make(n: int) -> Callable[[], object]:
        node = load_text(_model_with_unknown_keys(n), "m.yaml").documents[0].node
        return lambda: [locate(node, ["spec", f"unknownKey{i}"], key=True) for i in range(n)]

    assert _growth(make, 200) < 2.5


def test_unknown_keys_load_and_validate_in_linear_work() -> None:
    growth = _growth(lambda n: _load_and_validate(_model_with_unknown_keys(n)), 150)
    assert growth < 2.5


def test_many_documents_in_one_file_load_and_validate_in_linear_work() -> None:
    document = (
        "apiVersion: charter/v1alpha1\nkind: Environment\nmetadata:\n  name: env-{i}\n  owner: team-a\n"
        "spec:\n  tier: staging\n  cluster: c\n  namespace: ns\n  githubEnvironment: env-{i}\n  surplus{i}: 1\n"
    )
    growth = _growth(lambda n: _load_and_validate("---\n".join(document.format(i=i) for i in range(n))), 40)
    assert growth < 2.5


def test_deep_legal_nesting_loads_and_validates_in_linear_work() -> None:
    def nested(n: int) -> str:
        lines = [f"{'  ' * (level + 1)}level{level}:" for level in range(n)]
        return _model_with_unknown_keys(0) + "\n".join(lines) + f"\n{'  ' * (n + 1)}leaf: 1\n"

    growth = _growth(lambda n: _load_and_validate(nested(n)), 15)  # 15, 30, 60: under the limit of 64
    assert growth < 2.5


def test_unknown_keys_in_a_data_contract_validate_in_linear_work() -> None:
    contract = (EXAMPLE / "contracts" / "credit-holdout.odcs.yaml").read_text("utf-8")

    def grown(n: int) -> str:
        return contract.replace("\nstatus: active\n", "\nstatus: active\n" + "".join(f"x{i}: {i}\n" for i in range(n)))

    assert _growth(lambda n: _load_and_validate(grown(n)), 100) < 2.5


def _copy_with_model(tmp_path: Path, grow: Callable[[str], str]) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".charter"))
    model = root / MODEL
    model.write_text(grow(model.read_text("utf-8")), "utf-8")
    return root


def _unknown_keys(n: int) -> Callable[[str], str]:
    return lambda text: text.replace("\nspec:\n", "\nspec:\n" + "".join(f"  unknownKey{i}: {i}\n" for i in range(n)), 1)


def test_a_document_shows_at_most_100_findings_and_a_summary_at_the_first_one_hidden(tmp_path: Path) -> None:
    text = (EXAMPLE / MODEL).read_text("utf-8")
    spec_line = text.split("\n").index("spec:") + 1
    root = _copy_with_model(tmp_path, _unknown_keys(250))
    found = [d for d in check_path(root).diagnostics if d.file.endswith(MODEL)]
    unknown = [d for d in found if d.code == "CH200"]
    assert len(unknown) == MAX_PER_DOCUMENT == 100
    assert [(d.line, d.column, d.message) for d in unknown[:2]] == [
        (spec_line + 1, 3, "unknown field `unknownKey0` in `spec`"),
        (spec_line + 2, 3, "unknown field `unknownKey1` in `spec`"),
    ]
    assert unknown[-1].message == "unknown field `unknownKey99` in `spec`"
    summaries = [d for d in found if d.code == "CH126"]
    assert len(summaries) == 1
    summary = summaries[0]
    # 150 unknown keys, and the waived CH500 of the example (errors come first, then the waived).
    assert summary.message == (
        "151 more findings are not shown in this document (150 errors, 1 waived); at most 100 are shown per document"
    )
    assert (summary.severity, summary.line, summary.column, summary.end_column) == (
        Severity.INFO,
        spec_line + 101,
        3,
        len("  unknownKey100") + 1,
    )
    assert summary.path == ("spec", "unknownKey100")
    assert len(found) == 101


def test_a_document_with_100_findings_is_shown_whole(tmp_path: Path) -> None:
    root = _copy_with_model(tmp_path, _unknown_keys(99))  # and the example's waived CH500: 100 in all
    found = [d for d in check_path(root).diagnostics if d.file.endswith(MODEL)]
    assert len(found) == 100
    assert "CH126" not in {d.code for d in found}


def _finding(line: int, severity: Severity, *, waiver: str | None = None, document: int = 0) -> Diagnostic:
    return Diagnostic("CH999", severity, f"at {line}", "f.yaml", line, 1, line, 2, document=document, waiver=waiver)


def test_unwaived_errors_are_kept_first_and_waived_findings_last_so_the_exit_code_holds() -> None:
    findings = [_finding(line, Severity.WARNING) for line in range(1, 6)]
    findings += [_finding(10, Severity.ERROR, waiver="w"), _finding(20, Severity.ERROR)]
    kept = cap_per_document(findings, limit=2)
    assert [(d.line, d.severity, d.waiver) for d in kept[:2]] == [
        (20, Severity.ERROR, None),
        (1, Severity.WARNING, None),
    ]
    summary = kept[2]
    assert (summary.code, summary.line) == ("CH126", 2)
    assert summary.message == (
        "5 more findings are not shown in this document (4 warnings, 1 waived); at most 2 are shown per document"
    )


def test_each_document_of_a_file_has_its_own_cap() -> None:
    findings = [_finding(line, Severity.ERROR, document=line % 2) for line in range(1, 7)]
    kept = cap_per_document(findings, limit=3)
    assert len(kept) == 6
    assert "CH126" not in {d.code for d in kept}
    kept = cap_per_document(findings, limit=2)
    assert sorted((d.document, d.code, d.line) for d in kept if d.code == "CH126") == [(0, "CH126", 6), (1, "CH126", 5)]


@pytest.mark.parametrize("limit", [1, 50])
def test_findings_without_a_file_are_never_capped(limit: int) -> None:
    run_level = [Diagnostic("CH901", Severity.ERROR, f"run {i}", "") for i in range(60)]
    assert cap_per_document(run_level, limit=limit) == run_level
