"""A policy's variables and rules run in one program first (`Programs.together`); only when that does not hold for
every rule does each run on its own, which names what fails: the findings are those of the one-by-one run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from test_policy_variables import _policy, _policy_findings

from compiler.core.models.policy import Policy
from compiler.stages.policy import evaluate, sandbox
from compiler.stages.policy.programs import Programs, holds_together
from compiler.stages.policy.scope import Scope

RULES = [
    ("enough", "variables.n >= 2", "'only ' + string(variables.n)"),
    ("some", "variables.n >= 1", "'none'"),
    ("typed", "object.spec.task", "'not a boolean'"),
]


def _programs(rules: list[tuple[str, str, str]], on: list[bool] | None = None) -> Programs:
    text = _policy([("n", "size(object.spec.features)")], rules)
    return Programs.of(Policy.model_validate(yaml.safe_load(text)), on)


@pytest.mark.parametrize(
    ("features", "on", "holds"),
    [
        (["a", "b"], [True, True, False], True),
        (["a"], [True, True, False], False),  # `enough` is false: the one-by-one run names it
        (["a"], [False, True, False], True),  # ... unless it is turned off
        (["a", "b"], [True, True, True], False),  # `typed` answers a string, not a boolean
    ],
)
def test_everything_holds_together_only_when_each_rule_turned_on_is_true(
    features: list[str], on: list[bool], holds: bool
) -> None:
    programs = _programs(RULES, on)
    assert programs.together_rules == sum(on)
    scope = Scope({"object": {"spec": {"features": features, "task": "ranking"}}})
    assert holds_together(programs, scope) is holds


def test_one_rule_alone_has_nothing_to_run_together() -> None:
    one = Programs.of(Policy.model_validate(yaml.safe_load(_policy([], [RULES[1]]))))
    assert one.together is None
    assert _programs(RULES[:1]).together is not None  # a variable and a rule


def test_a_variable_no_rule_reads_still_fails_the_run_together() -> None:
    text = _policy([("n", "size(object.spec.features)"), ("unread", "object.spec.missing")], RULES[:2])
    programs = Programs.of(Policy.model_validate(yaml.safe_load(text)))
    assert not holds_together(programs, Scope({"object": {"spec": {"features": ["a", "b"]}}}))


def test_a_pair_stopped_while_everything_ran_together_runs_again_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's clock gives each step 2 s; all of a policy's expressions together may take longer than any of
    them alone. Stopped there, the pair runs again, each expression with its own step: no CH502."""

    def slow(programs: Programs, scope: Scope) -> bool:
        time.sleep(sandbox.STEP_SECONDS + 1.5)
        return True

    monkeypatch.setattr(evaluate, "holds_together", slow)
    found = _policy_findings(tmp_path, monkeypatch, _policy([("n", "size(object.spec.features)")], RULES[:2]))
    assert [(code, message) for code, _, message in found] == [("CH500", "only 1")]
