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


# What generated pipelines install (setup/install.sh): one hashed lock per set of extras a job can need.
RUNTIME = ROOT / "requirements" / "runtime"
RUNTIME_EXTRAS = {
    "core": (),
    "gates": ("gates",),
    "gates-objectstore": ("gates", "objectstore"),
    "gates-postgres": ("gates", "postgres"),
    "gates-objectstore-postgres": ("gates", "objectstore", "postgres"),
    "gates-spark": ("gates", "spark"),
    "gates-objectstore-spark": ("gates", "objectstore", "spark"),
    "gates-snowflake": ("gates", "snowflake"),
    "gates-snowflake-spark": ("gates", "snowflake", "spark"),
    "gates-bigquery": ("gates", "bigquery"),
    "gates-databricks": ("gates", "databricks"),
}


def runtime_locked(name: str) -> dict[str, list[str]]:
    versions: dict[str, list[str]] = {}
    for match in _ENTRY.finditer((RUNTIME / f"{name}.txt").read_text("utf-8")):
        versions.setdefault(canonicalize_name(match.group(1)), []).append(match.group(2))
    return versions


def runtime_declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    optional = project["optional-dependencies"]
    texts = list(project["dependencies"]) + [text for extra in extras for text in optional[extra]]
    return [Requirement(text) for text in texts]


def test_a_runtime_lock_for_every_set_of_extras_a_job_installs() -> None:
    from compiler.stages.render import data_access

    assert sorted(path.stem for path in RUNTIME.glob("*.txt")) == sorted(RUNTIME_EXTRAS)
    types = ["s3", "postgres", "delta", "s3"]
    produced = {
        data_access.extras([data_access.ServerChoice("x", kind) for kind in chosen])
        for chosen in ([], types[:1], types[1:2], types[:2], types[2:3], ["bigquery"], ["databricks"])
    }
    assert {"gates,bigquery", "gates,databricks"} <= produced
    assert {extras.replace(",", "-") for extras in produced} <= set(RUNTIME_EXTRAS)
    script = (ROOT / "setup" / "install.sh").read_text("utf-8")
    for name in RUNTIME_EXTRAS:
        if name != "core":
            assert name.replace("-", ",") in script


@pytest.mark.parametrize("name", sorted(RUNTIME_EXTRAS))
def test_a_runtime_lock_pins_with_hashes_what_the_tests_ran(name: str) -> None:
    text = (RUNTIME / f"{name}.txt").read_text("utf-8")
    pins = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
    runtime = runtime_locked(name)
    assert pins
    assert len(pins) == sum(len(versions) for versions in runtime.values())
    tested = locked()
    for package, versions in runtime.items():
        assert set(versions) <= set(tested.get(package, [])), f"{package} {versions}: run `make lock`"
    for requirement in runtime_declared(RUNTIME_EXTRAS[name]):
        versions = runtime.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in runtime/{name}.txt: run `make lock`"
        assert any(requirement.specifier.contains(version, prereleases=True) for version in versions)
    # Charter's build backend is there too: the setup action builds Charter without build isolation.
    assert {"setuptools", "wheel"} <= set(runtime)
