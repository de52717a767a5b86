"""The constructor's hot path for plain words (issue 26) gives what the full scalar resolution gives.

`yaml12._is_plain_text` answers inline for the plain scalars the YAML 1.2 core schema reads as text; every
other scalar goes through `Constructor.scalar`. Both ways must agree on every YAML file the project ships
and on the scalars where YAML 1.1, 1.2 and Charter's own findings differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.stages.read import yaml12
from compiler.stages.read.load import SourceFile, load_text

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(
    path
    for folder in ("examples", "policies", "tests/cases", "tests/odcs-corpus")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".yaml", ".yml"} and path.is_file()
)

# Where YAML 1.1, the core schema and Charter's findings part ways: each must take the full path.
TRICKY = [
    "no", "on", "yes", "off", "y", "n", "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "tRue",
    "0o17", "0x1F", "012", "1_000", "1:20", "-1", "+1", ".5", "1e3", ".inf", "-.Inf", ".nan", ".NaN", "nan",
    "2024-01-02", "${{ secrets.X }}", "a${{b}}", "<<", "word", "two words", "é", "'quoted'", '"1"', "!!str 1",
]  # fmt: skip


def both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[SourceFile, SourceFile]:
    fast = load_text(text, "spec.yaml")
    with monkeypatch.context() as patched:
        patched.setattr(yaml12, "_is_plain_text", lambda node, value: False)
        full = load_text(text, "spec.yaml")
    return fast, full


def summary(source: SourceFile) -> tuple[Any, ...]:
    documents = [(document.index, repr(document.data)) for document in source.documents]
    return tuple(documents), tuple(source.diagnostics)


def test_the_shipped_files_are_many() -> None:
    assert len(SHIPPED) > 100


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_shipped_file_loads_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    fast, full = both_ways(text, monkeypatch)
    assert summary(fast) == summary(full)


@pytest.mark.parametrize("scalar", TRICKY)
def test_tricky_scalars_load_the_same_both_ways(scalar: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = f"{scalar}: {scalar}\nlist: [{scalar}, x]\nblock:\n  - {scalar}\n"
    fast, full = both_ways(text, monkeypatch)
    assert summary(fast) == summary(full)


def test_the_hot_path_answers_exactly_what_scalar_answers() -> None:
    """Every scalar node of the shipped files: where the hot path answers, `scalar` says the same, silently."""
    answered = 0
    for path in SHIPPED:
        source = load_text(path.read_text("utf-8", errors="replace"), "spec.yaml")
        for document in source.documents:
            for node in _scalars(document.node):
                if yaml12._is_plain_text(node, node.value):
                    walker = yaml12.Constructor("spec.yaml")
                    assert walker.scalar(node) == node.value, node
                    assert not walker.findings, node
                    answered += 1
    assert answered > 10_000  # the hot path is the common one, so the comparison is not vacuous


def test_words_that_resolve_or_need_a_finding_take_the_full_path() -> None:
    text = "- no\n- on\n- '1'\n- 1\n- null\n- ~\n- ''\n- '${{ x }}'\n- ${{ y }}\n- word\n- true\n- .5\n"
    node = load_text(text, "spec.yaml").documents[0].node
    assert isinstance(node, yaml.SequenceNode)
    taken = [item.value for item in node.value if yaml12._is_plain_text(item, item.value)]
    assert taken == ["on", "word"]  # `no` starts like `null`: the full path, which also reads it as text


def _scalars(root: yaml.Node) -> list[yaml.ScalarNode]:
    """Every scalar under `root`, aliases once per reference (iterative: some cases nest deeply)."""
    found: list[yaml.ScalarNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            found.append(node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        else:
            stack.extend(part for pair in node.value for part in pair)
    return found
