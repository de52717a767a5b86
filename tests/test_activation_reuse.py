"""One activation per spec (issue 26): cel-cpp converts a root (`object`, `related`) into CEL the first time an
activation's expression reads it, which was most of a cold check's policy time while every policy reading
`params` or `variables` needed an activation of its own. They are bound in the program now (`cel.bind`), so a
spec's roots are converted once, and each expression still sees its own policy's params and variables.
"""

from __future__ import annotations

from typing import Any

import pytest

from compiler.stages.policy import scope as run_scope
from compiler.stages.policy.expressions import ExpressionError, compile_expression, evaluate
from compiler.stages.policy.scope import Scope


class _CountingEnv:
    def __init__(self, env: Any) -> None:
        self.env, self.built = env, 0

    def Activation(self, data: Any) -> Any:
        self.built += 1
        return self.env.Activation(data)

    def compile(self, source: str, *, disable_check: bool) -> Any:
        return self.env.compile(source, disable_check=disable_check)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> _CountingEnv:
    env = _CountingEnv(run_scope.RUN_ENV)
    monkeypatch.setattr(run_scope, "RUN_ENV", env)
    return env


def test_policies_params_and_variables_share_one_activation(counted: _CountingEnv) -> None:
    scope = Scope({"object": {"replicas": 3, "name": "m"}})
    answers = []
    for params in ({"least": 2}, {"least": 5}):
        scope.enter_policy(params)
        scope.set_variable("doubled", evaluate(compile_expression("object.replicas * 2"), scope))
        scope.set_variable("more", evaluate(compile_expression("variables.doubled + params.least"), scope))
        answers.append(evaluate(compile_expression("object.replicas >= params.least"), scope))
        answers.append(evaluate(compile_expression("variables.more"), scope))
        answers.append(evaluate(compile_expression("[params, variables]"), scope))
    assert answers == [
        True,
        8,
        [{"least": 2}, {"doubled": 6, "more": 8}],
        False,
        11,
        [{"least": 5}, {"doubled": 6, "more": 11}],
    ]
    assert counted.built == 1  # was one per change of params or variables: five here


def test_a_comment_ending_the_expression_keeps_its_binding() -> None:
    scope = Scope({})
    scope.enter_policy({"n": 1})
    assert evaluate(compile_expression("params.n + 1 // one more"), scope) == 2


def test_an_integer_beyond_64_bits_in_params_is_a_double_as_in_a_root() -> None:
    scope = Scope({"object": {"n": 1}})
    scope.enter_policy({"big": 1 << 70})
    assert evaluate(compile_expression("params.big > 1.0 && object.n == 1"), scope) is True


def test_a_policy_cannot_call_the_binding_functions() -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_expression("_charter_params().n == 1")
    assert "_charter_params" in raised.value.message
    with pytest.raises(ExpressionError):
        compile_expression("cel.bind(x, 1, x == 1)")


def test_the_iteration_budget_is_the_engines_with_or_without_a_binding() -> None:
    scope = Scope({"object": {"items": list(range(9_999))}})
    scope.enter_policy({"floor": 0})
    assert evaluate(compile_expression("object.items.all(i, i >= params.floor)"), scope) is True
    scope = Scope({"object": {"items": list(range(10_000))}})
    scope.enter_policy({"floor": 0})
    with pytest.raises(ExpressionError, match="limit of 10,000 iterations"):
        evaluate(compile_expression("object.items.all(i, i >= params.floor)"), scope)
