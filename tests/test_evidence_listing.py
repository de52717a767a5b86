"""The evidence stage takes what a version folder holds from the run's listing (issue 26): the same records and
findings as looking into the folder, without asking the file system again, and as before wherever the listing
may not hold all of the folder (`exclude` patterns) or does not hold it at all (a link on the way)."""

from __future__ import annotations

import datetime
import shutil
from collections import Counter
from pathlib import Path

import pytest

from compiler.core.sources import DirectoryTree
from compiler.stages import check_path

ROOT = Path(__file__).resolve().parents[1]
TODAY = datetime.date(2026, 12, 3)
FOLDER = "evidence/credit-default/3.2.0"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples/credit-scoring", root)
    return root


@pytest.fixture
def looked_into(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The folders under evidence/ the run asks the file system about."""
    asked: Counter[str] = Counter()
    kind, walk = DirectoryTree.kind, DirectoryTree.walk

    def counted_kind(tree: DirectoryTree, relative: str) -> object:
        asked[relative] += relative.startswith("evidence/")
        return kind(tree, relative)

    def counted_walk(tree: DirectoryTree, folder: str, *, hidden: bool = False) -> object:
        asked[folder] += folder.startswith("evidence/")
        return walk(tree, folder, hidden=hidden)

    monkeypatch.setattr(DirectoryTree, "kind", counted_kind)
    monkeypatch.setattr(DirectoryTree, "walk", counted_walk)
    return asked


def _records(project: Path) -> list[str]:
    return sorted(check_path(project, today=TODAY).evidence["credit-default"].records)


def test_a_listed_folder_is_not_looked_into_again(project: Path, looked_into: Counter[str]) -> None:
    assert _records(project) == ["data", "eval"]
    assert looked_into[FOLDER] == 0
    # What the folder holds decides, not the listing: a record the listing would miss is still read.
    (project / "charter.yaml").write_text((project / "charter.yaml").read_text() + "  exclude: ['**/data.json']\n")
    assert _records(project) == ["data", "eval"]
    assert looked_into[FOLDER] == 2  # its kind, then its entries


def test_a_folder_behind_a_link_is_reported_as_before(project: Path, looked_into: Counter[str]) -> None:
    moved = project.parent / "elsewhere"
    (project / "evidence/credit-default").rename(moved)
    (project / "evidence/credit-default").symlink_to(moved, target_is_directory=True)
    checked = check_path(project, today=TODAY)
    assert checked.evidence["credit-default"].records == {}
    refused = [d for d in checked.diagnostics if d.code == "CH120" and "evidence/credit-default" in d.file]
    assert len(refused) == 1
    assert looked_into[FOLDER] == 1
