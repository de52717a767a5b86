"""Specs judged in batches (issue 26) find exactly what each spec judged in an activation of its own finds.

A batch converts the distinct views of several specs into the engine once, and its programs bind `object`,
`related`, `kind` and `name` to entries of its lists (compiler/stages/policy/batches.py). The reference here
is the way every spec was judged before: an activation of its own, holding its whole context.
"""

from __future__ import annotations

import datetime
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from compiler.stages import check_path
from compiler.stages.policy import batches, evaluate, sandbox, scope
from compiler.stages.policy.batches import shape_of
from compiler.stages.policy.expressions import Compiled
from compiler.stages.policy.expressions import evaluate as evaluate_expression
from compiler.stages.policy.scope import RUN_ENV, SPECS, VIEWS, Roots, Scope, shaped

ROOT = Path(__file__).resolve().parents[1]
TODAY = datetime.date(2026, 12, 3)
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

# Rules reading every root in every way a program can: whole, by key, through a variable, in a message.
PROBE = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: batch-probe
  owner: team-ml-platform
spec:
  match:
    kinds: [Model, EvaluationSuite, DataContract, Environment]
  variables:
    - name: users
      expression: 'kind == "Model" ? size(related.environments) : size(related.models)'
  validations:
    - name: not-the-first-of-a-group
      expression: '!name.endsWith("0-model") || kind != "Model"'
      messageExpression: >-
        name + " trains on " + related.training.id + " and is judged by " + related.suite.metadata.name
    - name: whole-related
      expression: 'kind != "Model" || size(related) == 6 && related.suite.metadata.name.endsWith("0-eval")'
    - name: no-high-risk-in-staging
      expression: >-
        kind != "Model" || object.spec.riskTier != "high" ||
        related.environments.all(e, e.metadata.name != "shared-staging")
      messageExpression: '"high risk in " + related.environments[0].metadata.name'
    - name: many-users
      expression: 'kind != "Environment" || variables.users > 3'
      messageExpression: 'kind + " " + name + " has " + string(variables.users) + " users"'
    - name: suite-data
      expression: 'kind != "EvaluationSuite" || !related.dataset.id.endsWith("1-data")'
      messageExpression: '"suite " + object.metadata.name + " reads " + related.dataset.id + " on " + today'
    - name: project-and-today
      expression: 'project.metadata.owner == "team-ml-platform" && today == "2026-12-03"'
"""


class Unconvertible:
    """A value the engine cannot take, shown the same in every run (the engine's error quotes it)."""

    def __repr__(self) -> str:
        return "Unconvertible()"


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """240 generated specs sharing environments, with the probe policy, and a few models changed to differ."""
    root = tmp_path_factory.mktemp("batches") / "repo"
    generate.generate(root, 240, shape="shared")
    (root / "teams/platform/policies/batch-probe.yaml").write_text(PROBE)
    for model in sorted(root.glob("teams/*/models/*.yaml"))[::7]:
        model.write_text(model.read_text().replace("riskTier: limited", "riskTier: high", 1))
    return root


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Policies evaluated in this process, so that what the batches did can be counted here."""
    counted: Counter[str] = Counter()
    monkeypatch.setattr(
        evaluate, "run_bounded", lambda work, items, *_: (dict(work(list(range(items)), sandbox.Progress())), [])
    )
    converts = Roots.converts

    def counting(roots: Roots) -> bool:
        counted["batches"] += 1
        counted["specs"] += len(roots.base[SPECS])
        return converts(roots)

    monkeypatch.setattr(Roots, "converts", counting)
    return counted


def test_batches_find_what_each_spec_alone_finds(
    repository: Path, monkeypatch: pytest.MonkeyPatch, in_process: Counter[str]
) -> None:
    batched = check_path(repository, today=TODAY).diagnostics
    assert 1 < in_process["batches"] < in_process["specs"] / 10  # specs really were judged in batches
    probe = Counter(finding.rule for finding in batched if finding.policy == "batch-probe")
    # Every rule fails somewhere and holds somewhere: the roots differ from spec to spec as they should.
    assert set(probe) == {
        "not-the-first-of-a-group",
        "whole-related",
        "no-high-risk-in-staging",
        "many-users",
        "suite-data",
    }
    assert not [finding for finding in batched if finding.code == "CH502"]
    assert all(0 < count < in_process["specs"] / 2 for count in probe.values())
    suite = next(finding for finding in batched if finding.rule == "suite-data")
    assert suite.message.startswith("suite ")
    assert suite.message.endswith("-1-data on 2026-12-03")

    monkeypatch.setattr(Roots, "converts", lambda roots: False)  # every spec in an activation of its own
    assert check_path(repository, today=TODAY).diagnostics == batched
    monkeypatch.undo()
    monkeypatch.setattr(batches, "BATCH_BYTES", 1)  # batches of one spec
    assert check_path(repository, today=TODAY).diagnostics == batched


def test_a_batch_the_engine_refuses_judges_its_specs_one_by_one(
    repository: Path, monkeypatch: pytest.MonkeyPatch, in_process: Counter[str]
) -> None:
    """A value the engine cannot take fails the rules reading it (CH502), not those of the specs batched with it:
    what each spec judged alone finds."""
    poisoned = sorted(repository.glob("teams/team-000/models/*.yaml"))[0]
    build = evaluate.Views.of

    def of(views: evaluate.Views, spec: Any) -> Any:
        view = build(views, spec)
        return {**view, "unconvertible": Unconvertible()} if spec is not None and spec.name == poisoned.stem else view

    monkeypatch.setattr(evaluate.Views, "of", of)
    found = check_path(repository, today=TODAY).diagnostics
    failed = {finding.file for finding in found if finding.code == "CH502"}
    assert str(poisoned) in failed
    assert 1 < len(failed) < 10
    assert not any(file.startswith(str(repository / "teams/team-001")) for file in failed)
    monkeypatch.setattr(Roots, "converts", lambda roots: False)
    assert check_path(repository, today=TODAY).diagnostics == found


def test_a_batch_stopped_while_converting_is_judged_again_spec_by_spec(
    repository: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Converting a batch that overruns a step's time is not blamed on its first spec: its pairs run again,
    each spec in an activation of its own, and find what they always find."""
    expected = check_path(repository, today=TODAY).diagnostics
    monkeypatch.setattr(sandbox, "STEP_SECONDS", 0.5)
    converts, stalls = Roots.converts, tmp_path / "stalls"

    def stalling(roots: Roots) -> bool:
        if len(roots.base[SPECS]) > 1:
            with stalls.open("a") as noted:  # in the worker, which is stopped while it sleeps
                noted.write(f"{len(roots.base[SPECS])}\n")
            time.sleep(2.0)
        return converts(roots)

    monkeypatch.setattr(Roots, "converts", stalling)
    monkeypatch.setattr(batches, "BATCH_BYTES", 12_000)  # a few batches
    assert check_path(repository, today=TODAY).diagnostics == expected
    # The one worker was stopped on its first batch; the one replacing it judged every spec alone.
    assert len(stalls.read_text().split()) == 1


def test_a_program_too_deep_for_a_batch_runs_in_the_specs_own_activation() -> None:
    """Binding the roots costs levels of the parser's 32: a program with none left runs as it always did."""
    text = "object.n"
    for level in range(30):
        text = f"cel.bind(x{level}, {level}, {text})"
    compiled = Compiled("object.n", RUN_ENV.compile(text, disable_check=True), 0, text=text)
    assert shaped(text, shape_of("Model")) is None
    roots = Roots({VIEWS: [None, {"n": 1}], SPECS: [[1, "Model", "m", 0, 0, 0, 0, 0, 0]]})
    assert roots.converts()
    own = {"object": {"n": 2}, "kind": "Model", "name": "m", "related": {}}
    assert evaluate_expression(compiled, Scope(own, roots, shape_of("Model"), 0)) == 2
    shallow = Compiled("object.n", RUN_ENV.compile("object.n", disable_check=True), 0, text="object.n")
    assert evaluate_expression(shallow, Scope(own, roots, shape_of("Model"), 0)) == 1  # from the batch's list


def test_a_program_reading_keys_of_related_binds_only_those() -> None:
    assert scope.related_read("object.spec.x == name") == frozenset()
    assert scope.related_read("related.training.id + related .suite.x") == {"training", "suite"}
    assert scope.related_read('related["training"].id') is None
    assert scope.related_read("size(related) + size(related.environments)") is None
    roots = Roots({VIEWS: [None, {"n": 1}, {"t": 2}], SPECS: [[1, "Model", "m", 2, 0, 0, 0, 0, 0]]})
    for source, value in (("related.training.t", 2), ("size(related)", 6), ("kind + name", "Modelm")):
        compiled = Compiled(source, RUN_ENV.compile(source, disable_check=True), 0, text=source)
        assert evaluate_expression(compiled, Scope({}, roots, shape_of("Model"), 0)) == value
