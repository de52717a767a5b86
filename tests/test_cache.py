"""The check cache (`.charter/cache/`) never changes a verdict, and reads again only what a change touches.

Each case below edits a copy of the credit-scoring example after a cached check has filled the cache, then
checks again with the cache and without it: the findings must be equal, field for field. A generated
repository of 60 specs shows that a one-file change reads only that file and what it depends on.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.core import sources
from compiler.core.cache import CACHE_FILE, DirectoryStore, MemoryStore
from compiler.stages import Checked, build, check_path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit-scoring"
TODAY = datetime.date(2026, 12, 3)
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


def _edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    return change


def _delete(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).unlink()


def _copy(relative: str, to: str, old: str = "", new: str = "") -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / to).write_text((root / relative).read_text().replace(old, new, 1))

    return change


MODEL = "models/credit-default.yaml"
CONTRACT = "contracts/credit-applications.odcs.yaml"
SUITE = "suites/credit-default-eval.yaml"
WAIVER = "waivers/credit-default-validation-data.yaml"
POLICY = "policies/acme-lending-models.yaml"
DVC_FILE = "data/credit-holdout-predictions.parquet.dvc"

CHANGES: dict[str, Callable[[Path], None]] = {
    "a contract column renamed": _edit(CONTRACT, "- name: age_band", "- name: age_bracket"),
    "a suite bound moved": _edit(SUITE, "min: 0.80", "min: 0.40"),
    "an organisation policy edited": lambda root: (root / POLICY).write_text(
        (root / POLICY).read_text().replace("severity: error", "severity: warning")
    ),
    "a pack switched off": _edit("charter.yaml", "      - fairness\n", ""),
    "a severity override added": _edit(
        "charter.yaml", "    paths:\n", "    severityOverrides:\n      eu-ai-act: warning\n    paths:\n"
    ),
    "a contract deleted": _delete(CONTRACT),
    "the waiver deleted": _delete(WAIVER),
    "the model's label changed": _edit(MODEL, "domain: lending", "domain: retail"),
    "the model renamed": _edit(MODEL, "name: credit-default\n", "name: credit-default-v4\n"),
    "a contract defined twice": _copy(CONTRACT, "contracts/copy.odcs.yaml"),
    "an environment on the same namespace": _copy(
        "environments/staging.yaml", "environments/staging-2.yaml", "name: staging", "name: staging-2"
    ),
    "the model's evidence deleted": lambda root: shutil.rmtree(root / "evidence"),
    "an evidence record edited": _edit("evidence/credit-default/3.2.0/eval.json", '"pass"', '"fail"'),
    "a spec broken": _edit(SUITE, "metrics:", "metrics: [\n"),
    "a new file with a typo": lambda root: (root / "models/typo.yaml").write_text(
        "apiVersion: charter/v1alpha1\nkind: Modle\nmetadata:\n  name: x\n"
    ),
    "the waiver re-targeted": _edit(WAIVER, "name: credit-default\n", "name: credit-defualt\n"),
    "a comment only": _edit(MODEL, "# The Model spec", "# The model spec"),
    # The suite's findings read the task and label of the models that use it (CH403, CH409).
    "the model's task changed": _edit(MODEL, "task: binary-classification", "task: regression"),
    "the model's label is a column the holdout lacks": _edit(MODEL, "label: defaulted", "label: application_date"),
    # A contract's findings read the DVC files its servers name (CH484), which are not spec files.
    "the DVC file deleted": _delete(DVC_FILE),
    "the DVC file tracks another path": _edit(DVC_FILE, "path: credit-holdout-predictions", "path: other"),
    "the DVC file made too large": lambda root: (root / DVC_FILE).write_bytes(b"#" * (11 << 20)),
}

# An Environment policy reading `related.models`: the environments' findings read the models' content.
ENVIRONMENT_POLICY = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: high-risk-environments
  owner: team-ml-platform
spec:
  match:
    kinds: [Environment]
  validations:
    - name: only-high-risk-models
      expression: related.models.all(m, m.spec.riskTier == 'high')
      message: this environment serves only high-risk models
      severity: error
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "credit-scoring"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", "cache"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _same(cached: Checked, cold: Checked) -> None:
    def shown(checked: Checked) -> set[tuple[str, str, int, str]]:
        return {(d.code, Path(d.file).name, d.line, d.message) for d in checked.diagnostics}

    assert shown(cached) - shown(cold) == shown(cold) - shown(cached) == set()
    assert cached.diagnostics == cold.diagnostics
    assert cached.files == cold.files
    assert cached.spec_count == cold.spec_count


@pytest.fixture(params=["read every file", "trust signatures"])
def settled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of a fresh copy are too new for their signatures to be trusted; a second pass trusts them at once."""
    if request.param == "trust signatures":
        monkeypatch.setattr(sources, "SETTLED_SECONDS", 0)


@pytest.mark.usefixtures("settled")
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_cached_check_finds_what_a_cold_one_finds(tmp_path: Path, change: str) -> None:
    root = _project(tmp_path)
    store = DirectoryStore(root)
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))
    CHANGES[change](root)
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))
    # And once more, all of it from the cache.
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))


@pytest.mark.usefixtures("settled")
def test_a_dvc_file_appearing_is_seen_by_a_cached_check(tmp_path: Path) -> None:
    root = _project(tmp_path)
    store = DirectoryStore(root)
    tracked = (root / DVC_FILE).read_bytes()
    (root / DVC_FILE).unlink()
    missing = check_path(root, today=TODAY, cache=store)
    assert [d.code for d in missing.diagnostics if d.code == "CH484"] == ["CH484"]
    (root / DVC_FILE).write_bytes(tracked)
    found = check_path(root, today=TODAY, cache=store)
    _same(found, check_path(root, today=TODAY))
    assert "CH484" not in {d.code for d in found.diagnostics}


@pytest.mark.usefixtures("settled")
def test_an_environment_whose_policy_reads_its_models_is_checked_again_when_one_changes(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "policies" / "environments.yaml").write_text(ENVIRONMENT_POLICY)
    store = MemoryStore()
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))
    _edit(MODEL, "riskTier: high", "riskTier: limited")(root)
    cached, cold = check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY)
    _same(cached, cold)
    found = sorted((Path(d.file).name, d.rule) for d in cold.diagnostics if d.policy == "high-risk-environments")
    # The environment the model trains in is one of its environments too (issue 28).
    assert found == [
        ("production.yaml", "only-high-risk-models"),
        ("staging.yaml", "only-high-risk-models"),
        ("training.yaml", "only-high-risk-models"),
    ]


@pytest.mark.parametrize(("before", "after"), [("2027-12-31", "2028-01-01"), ("2028-01-01", "2027-12-31")])
def test_a_waiver_expires_at_midnight_in_the_cache_too(tmp_path: Path, before: str, after: str) -> None:
    root = _project(tmp_path)
    store = MemoryStore()
    day, next_day = datetime.date.fromisoformat(before), datetime.date.fromisoformat(after)
    check_path(root, today=day, cache=store)
    cached, cold = check_path(root, today=next_day, cache=store), check_path(root, today=next_day)
    _same(cached, cold)
    expired = [d.code for d in cold.diagnostics if d.code == "CH503"]
    assert expired == (["CH503"] if next_day.year == 2028 else [])


def test_a_file_is_read_again_unless_its_signature_is_old_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    store = MemoryStore()
    check_path(root, today=TODAY, cache=store)
    assert store.document["signatures"] == {}  # every file was written a moment ago
    monkeypatch.setattr(sources, "SETTLED_SECONDS", 0)
    check_path(root, today=TODAY, cache=store)
    remembered = store.document["signatures"]
    assert len(remembered) == 14  # ten spec files, two evidence records, the registration record, the DVC file
    read: list[str] = []
    original = sources.DirectoryTree.read
    monkeypatch.setattr(
        sources.DirectoryTree, "read", lambda tree, path, cap: read.append(path) or original(tree, path, cap)
    )
    checked = check_path(root, today=TODAY, cache=store)
    # Nothing changed: only the project file and the policies, which every key depends on, are read, and the
    # one spec with findings, whose lines the report quotes. No other spec, no evidence record, is read.
    with_findings = {Path(d.file).relative_to(root).as_posix() for d in checked.diagnostics}
    assert with_findings == {MODEL}
    assert sorted(read) == sorted(["charter.yaml", POLICY, MODEL])


def test_a_change_reverted_is_answered_from_the_cache(tmp_path: Path) -> None:
    root = _project(tmp_path)
    store = MemoryStore()
    original = (root / SUITE).read_text()
    check_path(root, today=TODAY, cache=store)
    CHANGES["a suite bound moved"](root)
    check_path(root, today=TODAY, cache=store)
    (root / SUITE).write_text(original)
    again = check_path(root, today=TODAY, cache=store)
    _same(again, check_path(root, today=TODAY))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "repo"
    generate.generate(root, 60)
    return root


def test_a_one_file_change_reads_only_what_depends_on_it(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(generated, root)
    store = MemoryStore()
    first = check_path(root, today=TODAY, cache=store)
    assert len(first.specs) == first.spec_count == 61  # a cold run reads everything
    unchanged = check_path(root, today=TODAY, cache=store)
    read_again = {spec.file for spec in unchanged.specs}
    assert {Path(file).name for file in read_again} == {"charter.yaml"}
    model = sorted(root.glob("teams/*/models/*.yaml"))[0]
    model.write_text(model.read_text().replace("owner:", "owner: ", 1))
    edited = check_path(root, today=TODAY, cache=store)
    kinds = sorted(spec.kind for spec in edited.specs)
    # The model, its contract, its suite (whose findings read the model's task and label), its environment and
    # the two it promotes from, and the project. Not the other two models deployed there: no policy reads an
    # environment's `related.models`, so the environment's findings do not depend on the model's content.
    expected = ["DataContract", "Environment", "Environment", "Environment", "EvaluationSuite", "Model", "Project"]
    assert kinds == expected, kinds
    _same(edited, check_path(root, today=TODAY))


def test_an_edit_of_one_of_many_models_sharing_an_environment_reads_none_of_the_others(tmp_path: Path) -> None:
    """Issue 26: 170 models sharing two Environments, one edited; every sibling was read and checked again."""
    root = tmp_path / "repo"
    generate.generate(root, 60, shape="shared")
    store = MemoryStore()
    check_path(root, today=TODAY, cache=store)
    models = sorted(root.glob("teams/*/models/*.yaml"))
    assert len(models) == 17
    model = next(path for path in models if path.name == "lending-00000-0-model.yaml")  # deployed to staging
    model.write_text(model.read_text().replace("owner:", "owner: ", 1))
    edited = check_path(root, today=TODAY, cache=store)
    read = sorted((spec.kind, Path(spec.file).name) for spec in edited.specs if spec.kind != "DataContract")
    stem = model.name.removesuffix("-model.yaml")
    # The model, its suite, the shared environment it deploys to, the project and the organisation's policy
    # (read on every run); none of the 16 other models.
    assert read == [
        ("Environment", "shared-staging.yaml"),
        ("EvaluationSuite", f"{stem}-eval.yaml"),
        ("Model", model.name),
        ("Policy", "deployments.yaml"),
        ("Project", "charter.yaml"),
    ], read
    _same(edited, check_path(root, today=TODAY))
    # A change to what the model refers to is a change to the environment's users: read again, and the same.
    model.write_text(model.read_text().replace("environment: shared-staging", "environment: shared-production"))
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))


def test_a_corrupt_or_foreign_cache_is_ignored(tmp_path: Path) -> None:
    root = _project(tmp_path)
    cold = check_path(root, today=TODAY)
    store = DirectoryStore(root)
    check_path(root, today=TODAY, cache=store)
    cache_file = root / CACHE_FILE
    signature, _, body = cache_file.read_bytes().partition(b"\n")
    document = json.loads(body)
    # A pull request that ships a cache saying every file is clean: signed with another key, so ignored.
    document["findings"] = {key: [] for key in document["findings"]}
    CHANGES["a contract column renamed"](root)
    forged = json.dumps(document).encode()
    cache_file.write_bytes(signature + b"\n" + forged)
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))
    DirectoryStore(root, key=b"someone else").write(document)
    _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))
    for garbage in (b"", b"\n", b"not json at all", signature + b"\n{", b"\xff" * 100):
        cache_file.write_bytes(garbage)
        _same(check_path(root, today=TODAY, cache=store), check_path(root, today=TODAY))
    assert cold.diagnostics != check_path(root, today=TODAY).diagnostics  # the change did change findings


def test_the_cache_is_never_written_through_a_link(tmp_path: Path) -> None:
    root = _project(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(root / ".charter" / "cache", ignore_errors=True)
    (root / ".charter" / "cache").symlink_to(outside)
    checked = check_path(root, today=TODAY, cache=DirectoryStore(root))
    _same(checked, check_path(root, today=TODAY))
    assert list(outside.iterdir()) == []


def test_a_build_refuses_a_partial_check(tmp_path: Path) -> None:
    root = _project(tmp_path)
    store = MemoryStore()
    check_path(root, today=TODAY, cache=store)
    with pytest.raises(ValueError, match="complete check"):
        build(check_path(root, today=TODAY, cache=store), TODAY)


def _charter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_check_writes_the_cache_and_no_cache_leaves_it_alone(tmp_path: Path) -> None:
    root = _project(tmp_path)
    env_today = {"CHARTER_TODAY": TODAY.isoformat()}
    os.environ.update(env_today)
    try:
        bypassed = _charter("check", "--no-cache", "--format", "json", ".", cwd=root)
        assert not (root / CACHE_FILE).exists()
        first = _charter("check", "--format", "json", ".", cwd=root)
        assert (root / CACHE_FILE).is_file()
        second = _charter("check", "--format", "json", ".", cwd=root)
    finally:
        os.environ.pop("CHARTER_TODAY")
    assert bypassed.returncode == first.returncode == second.returncode
    assert bypassed.stdout == first.stdout == second.stdout
    assert sorted(os.listdir(root / ".charter" / "cache")) == [".gitignore", "check.json"]
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=root, capture_output=True, text=True, check=True
    )
    assert ".charter/cache" not in status.stdout


def test_two_concurrent_runs_leave_a_cache_that_verifies(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runs = [
        subprocess.Popen([sys.executable, "-m", "compiler", "check", "--format", "json", "."], cwd=root)
        for _ in range(4)
    ]
    assert all(run.wait(timeout=120) in (0, 1) for run in runs)
    assert DirectoryStore(root).read() != {}
    assert sorted(os.listdir(root / ".charter" / "cache")) == [".gitignore", "check.json"]
