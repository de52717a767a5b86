"""Reads in a `repofs.held_open()` block: the directories on the way stay open from one read to the next, and
every answer (bytes, or the refusal and its reason) is the one a read outside the block gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.core import repofs

# A tree with links where a directory is expected, a link as the file, a FIFO and a directory read as a file.
FILES = {
    "a/b/one.yaml": b"one",
    "a/b/two.yaml": b"two",
    "a/c/three.yaml": b"three",
    "a/four.yaml": b"four",
    "d/e/f/five.yaml": b"five",
    "top.yaml": b"top",
}
PATHS = [
    *FILES,
    "a/linked/one.yaml",  # a link to the directory a/b
    "a/b/link.yaml",  # a link to one.yaml
    "a/fifo.yaml",
    "a/b",  # a directory
    "a/b/missing.yaml",
    "a/missing/one.yaml",
    "a/four.yaml/inner.yaml",  # a file on the way
    "d/e/f/../f/five.yaml",
    "/etc/passwd",
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("held")
    for relative, data in FILES.items():
        (top / relative).parent.mkdir(parents=True, exist_ok=True)
        (top / relative).write_bytes(data)
    (top / "a/linked").symlink_to("b")
    (top / "a/b/link.yaml").symlink_to("one.yaml")
    os.mkfifo(top / "a/fifo.yaml")
    return top


def _answer(root: Path, relative: str) -> object:
    try:
        return repofs.read_bytes(root, relative)
    except repofs.Refused as refused:
        return ("refused", refused.reason, refused.symlink, refused.missing)


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@settings(max_examples=150, deadline=None)
@given(order=st.lists(st.sampled_from(PATHS), max_size=12))
def test_every_read_answers_as_it_does_outside_the_block(root: Path, order: list[str]) -> None:
    alone = [_answer(root, relative) for relative in order]
    before = _open_descriptors()
    with repofs.held_open():
        held = [_answer(root, relative) for relative in order]
    assert held == alone
    assert _open_descriptors() == before


def test_a_link_is_refused_after_its_sibling_directory_was_held(root: Path) -> None:
    with repofs.held_open():
        assert repofs.read_bytes(root, "a/b/one.yaml") == b"one"
        with pytest.raises(repofs.Refused, match="`linked` is a symbolic link") as refused:
            repofs.read_bytes(root, "a/linked/one.yaml")
        assert refused.value.symlink
        assert repofs.read_bytes(root, "a/b/two.yaml") == b"two"


def test_the_block_keeps_one_way_open_and_closes_it_at_the_end(root: Path) -> None:
    before = _open_descriptors()
    with repofs.held_open():
        repofs.read_bytes(root, "d/e/f/five.yaml")
        assert _open_descriptors() == before + 4  # the root, d, e and f
        repofs.read_bytes(root, "a/b/one.yaml")
        assert _open_descriptors() == before + 3  # the root, a and b: d, e and f were closed
        with repofs.held_open():  # a nested block shares the outer one's
            repofs.read_bytes(root, "a/b/two.yaml")
        assert _open_descriptors() == before + 3
    assert _open_descriptors() == before


def test_a_directory_replaced_after_the_block_is_read_anew(root: Path, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x/spec.yaml").write_bytes(b"old")
    with repofs.held_open():
        assert repofs.read_bytes(tmp_path, "x/spec.yaml") == b"old"
    (tmp_path / "x").rename(tmp_path / "gone")
    (tmp_path / "x").mkdir()
    (tmp_path / "x/spec.yaml").write_bytes(b"new")
    with repofs.held_open():
        assert repofs.read_bytes(tmp_path, "x/spec.yaml") == b"new"


def test_a_forked_child_opens_its_own_way(root: Path) -> None:
    with repofs.held_open():
        repofs.read_bytes(root, "a/b/one.yaml")
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            os.close(reader)
            try:
                with repofs.held_open():
                    data = repofs.read_bytes(root, "a/c/three.yaml") + repofs.read_bytes(root, "a/b/two.yaml")
                os.write(writer, data)
            finally:
                os._exit(0)
        os.close(writer)
        with os.fdopen(reader, "rb") as pipe:
            assert pipe.read() == b"threetwo"
        os.waitpid(child, 0)
        assert repofs.read_bytes(root, "a/b/two.yaml") == b"two"
