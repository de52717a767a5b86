"""The CEL engine (cel-expr-python, cel-cpp): its known defect guarded, its answers as policies need them.

cel-expr-python 0.1.3 releases Python's None once too often whenever it converts a CEL null to Python; a
few thousand conversions and the interpreter aborts ("Fatal Python error: none_dealloc"). Charter converts
results itself (expressions.plain); the canary below fails if anything on the evaluate path ever lets the
library convert a null again. A crashed policy worker must fail closed (CH502), never pass silently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_policy_engine import POLICY, findings, make_project

from compiler.stages.policy import evaluate as check
from compiler.stages.policy import sandbox
from compiler.stages.policy.expressions import ExpressionError, compile_expression, evaluate
from compiler.stages.policy.scope import Scope

CANARY = textwrap.dedent(
    """
    from compiler.stages.policy.expressions import compile_expression, evaluate
    from compiler.stages.policy.scope import Scope

    scope = Scope({"object": {"spec": {"owner": None, "items": [None, {"a": None}]}}, "related": {"suite": None}})
    scope.enter_policy({"limit": None})
    sources = [
        "null",
        "object.spec.owner",
        "related.suite",
        "object.spec.items",
        "{'a': null, 'b': [null, {'c': null}]}",
        "params.limit",
        "variables.kept",
        "type(null)",
    ]
    programs = [compile_expression(source) for source in sources]
    for index in range(50_000):
        if index % 5_000 == 0:
            scope.set_variable("kept", [None, {"x": None}])  # variables go back into the context
        for program in programs[index % 2 :: 2]:
            evaluate(program, scope)
    print("ok")
    """
)


def test_null_results_never_reach_the_librarys_own_conversion() -> None:
    """50,000 rounds of null-bearing results in a fresh interpreter: it exits 0, not with none_dealloc."""
    done = subprocess.run([sys.executable, "-c", CANARY], capture_output=True, text=True, timeout=300, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-2000:]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("object.spec.items", [None, {"a": None}]),
        ("object.n == 3.0 && object.n < 3.5 && object.n == 3u", True),
        ("string(object.f) + '|' + string(5.0) + '|' + string(0.1)", "2.5|5|0.1"),
        (
            "object.s.matches('^He') && object.s.startsWith('He') && object.s.contains('ll') && size(object.s) == 5",
            True,
        ),
        ("[1, 2, 3].exists_one(x, x == 2) && [1, 2].map(x, x * 2) == [2, 4] && [1, 2].filter(x, x > 1) == [2]", True),
        ("has(object.spec.items) && !has(object.spec.missing) && has(object.spec.owner)", True),
        ("timestamp(today + 'T00:00:00Z') - duration('24h') < timestamp(today + 'T00:00:00Z')", True),
        ("type(object.spec.items) == type([]) && type(object.spec) == map", True),
        ("type(1)", "int"),
        ("b'x'", b"x"),
        ("object.big > 1.0", True),  # beyond 64 bits: a double, as the Rust engine took it
    ],
)
def test_values_the_policies_rely_on(source: str, expected: Any) -> None:
    scope = Scope(
        {
            "object": {
                "spec": {"items": [None, {"a": None}], "owner": None},
                "n": 3,
                "f": 2.5,
                "s": "Hello",
                "big": 1 << 70,
            },
            "today": "2026-01-02",
        }
    )
    scope.enter_policy({})
    assert evaluate(compile_expression(source), scope) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("object.missing == 1", "no such key: missing"),
        ("1 / (object.n - 3) == 0", "division by zero"),
        ("object.n * 9223372036854775807 > 0", "arithmetic overflow"),
        ("object.s + 1 == 2", "type error: no matching overload for _+_(string, int64)"),
        (
            "object.none.x == 1",
            "type error: a field was selected from a value that is not a map (null, a list or a scalar)",
        ),
        ("int('abc') == 1", "evaluation failed: cannot convert string to int"),
        ("[1][3] == 1", "evaluation failed: Index error: index=3 size=1"),
    ],
)
def test_engine_errors_read_as_before(source: str, message: str) -> None:
    scope = Scope({"object": {"n": 3, "s": "Hello", "none": None}})
    scope.enter_policy({})
    with pytest.raises(ExpressionError) as raised:
        evaluate(compile_expression(source), scope)
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("source", "unknown"),
    [
        ("objet.spec", "objet"),
        ("has(objet.x)", "objet"),
        ("object.spec.all(y, y) && y", None),
        ("math.greatest(1)", "math"),
    ],
)
def test_unknown_variables_are_found_by_the_checker(source: str, unknown: str | None) -> None:
    if unknown is None:  # a macro's variable, as the lint before this engine allowed
        compile_expression(source)
        return
    with pytest.raises(ExpressionError, match=f"unknown variable `{unknown}`"):
        compile_expression(source)


@pytest.mark.parametrize("signal_number", [signal.SIGSEGV, signal.SIGABRT, signal.SIGKILL, signal.SIGBUS])
def test_a_worker_killed_by_a_signal_fails_its_item(signal_number: int) -> None:
    """What kills the engine's process (a crash in C++, an abort) stops the item; the others still run."""

    def work(items: list[int], progress: sandbox.Progress) -> Iterator[tuple[int, Any]]:
        for item in items:
            progress.mark(item, 0)
            if item == 1:
                os.kill(os.getpid(), signal_number)
            yield item, item * 10

    results, overruns = sandbox.run_bounded(work, 3)
    assert results == {0: 0, 2: 20}
    assert [(overrun.item, overrun.step) for overrun in overruns] == [(1, 0)]


def test_a_crashed_evaluation_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine dying inside the worker (here, a segfault) is a CH502 on the rule, never a pass."""

    def crash(*args: Any) -> Any:
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(check, "evaluate", crash)
    result = findings(make_project(tmp_path, policy_yaml=POLICY), monkeypatch)
    assert [(d.code, d.file, d.line) for d in result] == [("CH502", "model.yaml", 12)]
    assert "could not be evaluated on Model `scorer`: stopped: " in result[0].message


def test_an_unknown_function_is_refused_at_compile_time_where_it_is_called() -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_expression("true &&\n  object.s.lowerAscii() == 'x' || nosuch(1)")
    assert raised.value.message == (
        "unknown function `lowerAscii`: this CEL engine has no such function; "
        "it has no string extensions (`lowerAscii`, `split`, `join`)"
    )
    assert (raised.value.line, raised.value.column) == (2, 12)
    with pytest.raises(ExpressionError) as raised:
        compile_expression("object.s.startswith('a')")
    assert raised.value.message.endswith("did you mean `startsWith`?")
