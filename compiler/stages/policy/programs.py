"""A policy's compiled programs: its conditions, variables, rules and messages, and the programs that run several
of them at once.

Most specs comply: every rule of a policy holds. So before anything is run one by one, one program computes all of
a policy's variables and every rule turned on (`together`); when that answers `true` for each rule, the policy
holds and nothing else runs. Otherwise, and only then, everything runs one by one as it always did, which names
the variable or the rule that fails, with its message (`compiler.stages.policy.evaluate`). A check of 1,000
generated specs ran 12,206 programs in the engine, one per expression; it now runs 4,634 (issue 26).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from compiler.core.models.policy import Policy
from compiler.stages.policy.expressions import (
    Compiled,
    Definitions,
    ExpressionError,
    compile_expression,
    evaluate,
    evaluates,
    in_policy,
)
from compiler.stages.policy.scope import Scope


@dataclass(frozen=True)
class Programs:
    """A compiled policy's programs, in its order: each sees the variables declared before it.

    `inlined`: each program computes the variables it reads (`in_policy`); otherwise (a chain too deep for
    the engine's parser) each variable's value is kept in the scope, converted out of the engine and back.
    `probe`: one program computing every variable at once; when it succeeds, none fails, so they need not be
    evaluated one by one (the one-by-one run names the first that fails).
    `together`: every variable and the `together_rules` rules turned on, in one program (`holds_together`).
    """

    conditions: list[Compiled]
    variables: list[Compiled]
    rules: list[Compiled]
    messages: list[Compiled | None]
    inlined: bool
    probe: Compiled | None = None
    together: Compiled | None = None
    together_rules: int = 0

    @classmethod
    def of(cls, policy: Policy, turned_on: Sequence[bool] | None = None) -> Programs:
        """`turned_on`: whether each rule runs at all (a severity `off` in the Project); all of them when None."""
        body = policy.spec
        conditions = [compile_expression(condition.expression) for condition in body.match.conditions]
        declared: Definitions = tuple((v.name, v.expression) for v in body.variables)
        on = turned_on if turned_on is not None else [True] * len(body.validations)
        chosen = [rule.expression for rule, runs in zip(body.validations, on, strict=True) if runs]
        try:
            return cls(
                conditions,
                [_inlined(v.expression, declared[:i]) for i, v in enumerate(body.variables)],
                [_inlined(rule.expression, declared) for rule in body.validations],
                [_inlined(r.message_expression, declared) if r.message_expression else None for r in body.validations],
                inlined=True,
                probe=_probe(declared),
                together=_together(declared, chosen),
                together_rules=len(chosen),
            )
        except _TooDeep:
            return cls(
                conditions,
                [compile_expression(v.expression) for v in body.variables],
                [compile_expression(rule.expression) for rule in body.validations],
                [compile_expression(r.message_expression) if r.message_expression else None for r in body.validations],
                inlined=False,
            )

    def every(self) -> Iterator[Compiled]:
        """Every program of the policy."""
        yield from self.conditions
        yield from self.variables
        yield from self.rules
        yield from (program for program in (*self.messages, self.probe, self.together) if program is not None)


class _TooDeep(Exception):
    """A program `in_policy` cannot build: the policy keeps its variables in the scope."""


def _inlined(source: str, declared: Definitions) -> Compiled:
    program = in_policy(source, declared)
    if program is None:
        raise _TooDeep
    return program


def _identifiers(names: list[str]) -> bool:
    """Names join a program's text, so only identifiers (all the schema admits), each declared once: with a
    name declared twice, the first value is replaced before anything reads it."""
    return len(set(names)) == len(names) and all(name.isascii() and name.isidentifier() for name in names)


def _every_variable(names: list[str]) -> str:
    """A list reading each variable by name: computing it computes them all (and fails if one fails)."""
    return "[" + ", ".join(f'variables["{name}"]' for name in names) + "]"


def _probe(declared: Definitions) -> Compiled | None:
    """Every variable at once, when there are several."""
    names = [name for name, _ in declared]
    if len(names) < 2 or not _identifiers(names):
        return None
    return in_policy(_every_variable(names), declared)


def _together(declared: Definitions, expressions: Sequence[str]) -> Compiled | None:
    """Every variable, then each rule `== true`, joined by `&&`: `true` only when every variable is computed
    and every rule is `true` (CEL's `&&` is `true` only when both sides are, whatever the order of an error and
    a `false`), as one boolean rather than a list of them to convert. None when there is only one thing to run,
    or when the program would be deeper than the engine's parser takes. Each rule stands on lines of its own,
    so that a `//` comment ending one does not swallow the rest."""
    names = [name for name, _ in declared]
    if not expressions or len(expressions) + len(names) < 2 or not _identifiers(names):
        return None
    checks = [f"(\n{expression}\n) == true" for expression in expressions]
    if names:
        # Every variable is computed (and may fail) even where no rule reads it, as the probe does.
        checks.insert(0, f"size({_every_variable(names)}) == {len(names)}")
    return in_policy(" && ".join(checks), declared)


def succeeds(program: Compiled, scope: Scope) -> bool:
    try:
        evaluates(program, scope)
    except ExpressionError:
        return False
    return True


def holds_together(programs: Programs, scope: Scope) -> bool:
    """Whether the `together` program computes every variable and finds each rule turned on `true`.
    Anything else (an error, a `false`, a value that is not a boolean) is for the one-by-one run to explain."""
    if programs.together is None:
        return False
    try:
        return evaluate(programs.together, scope) is True
    except ExpressionError:
        return False
