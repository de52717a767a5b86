"""The committed lock is what `make test` installs: it must cover pyproject.toml and pin with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "test.txt"
# One pinned distribution: `name==version ; markers`, then its `--hash=sha256:` lines.
_ENTRY = re.compile(
    r"^([A-Za-z0-9_.\-]+)==(\S+?)(?: ;[^\\]*)? \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M
)


def locked() -> dict[str, list[str]]:
    versions: dict[str, list[str]] = {}
    for match in _ENTRY.finditer(LOCK.read_text("utf-8")):
        versions.setdefault(canonicalize_name(match.group(1)), []).append(match.group(2))
    return versions


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    texts = list(project["dependencies"]) + [
        text for extra in project["optional-dependencies"].values() for text in extra
    ]
    build = [line for line in (ROOT / "requirements" / "build.in").read_text("utf-8").splitlines() if line.strip()]
    return [Requirement(text) for text in texts + [line for line in build if not line.startswith("#")]]


def test_every_pinned_line_has_hashes() -> None:
    pins = [line for line in LOCK.read_text("utf-8").splitlines() if "==" in line and not line.startswith("#")]
    assert len(pins) == sum(len(versions) for versions in locked().values())


@pytest.mark.parametrize("requirement", declared(), ids=str)
def test_the_lock_satisfies_pyproject(requirement: Requirement) -> None:
    """A dependency added or raised in pyproject.toml without `make lock` fails here, not on a user's machine."""
    versions = locked().get(canonicalize_name(requirement.name))
    assert versions, f"{requirement.name} is not in {LOCK.name}: run `make lock`"
    assert any(requirement.specifier.contains(version, prereleases=True) for version in versions), (
        f"{requirement} is not met by the locked {versions}: run `make lock`"
    )
