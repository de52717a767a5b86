"""CEL expressions for policies: compiled once, evaluated with bounded cost.

The CEL engine (`common-expression-language`, a Rust core) cannot be
interrupted once it runs and exposes no syntax tree (THREATS.md), so no
bound on cost can be proven from an expression before it runs. The bound
is enforced where it runs: compiler/stages/check.py evaluates in a worker process
with time and memory limits (compiler/stages/sandbox.py). Here, expressions are at
most 5,000 characters and nest comprehensions at most
`MAX_COMPREHENSION_DEPTH` deep: a lint that names the likely mistake early,
not the bound. Every engine error becomes an ExpressionError with a message
for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

ROOTS = frozenset({"object", "related", "params", "variables", "project", "kind", "name", "today"})
# CEL's type names are identifiers too (`type(x) == list`).
_TYPE_NAMES = frozenset(
    {
        "bool",
        "bytes",
        "double",
        "duration",
        "dyn",
        "int",
        "list",
        "map",
        "null_type",
        "string",
        "timestamp",
        "type",
        "uint",
    }
)
MAX_COMPREHENSION_DEPTH = 3
_MACRO = re.compile(r"\.\s*(all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)")
_MACROS = ("all", "exists", "exists_one", "map", "filter")
_PARSE_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")
_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


class ExpressionError(Exception):
    """An expression that does not compile or evaluate; line/column are within the expression."""

    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True, slots=True)
class Compiled:
    source: str
    program: cel.Program
    depth: int


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Compiled:
    """Parse and statically check one expression; cached, so once per run."""
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as error:
        # CEL's implementations (cel-go, cel-cpp, cel-rust) locate an error as `<input>:LINE:COLUMN:`:
        # a machine format, kept for the position; the message after it is only shown.
        text = str(error)
        match = _PARSE_POSITION.search(text)
        if match:
            raise ExpressionError(
                f"CEL syntax error: {match.group(3)}", int(match.group(1)), int(match.group(2))
            ) from None
        raise ExpressionError(f"CEL syntax error: {_first_line(error, 'the expression does not parse')}") from None
    bound = {match.group(2) for match in _MACRO.finditer(source)}
    unknown = sorted(set(program.variables()) - ROOTS - _TYPE_NAMES - bound)
    if unknown:
        from compiler.core.suggest import did_you_mean

        hint = did_you_mean(unknown[0], ROOTS)
        known = ", ".join(sorted(ROOTS))
        raise ExpressionError(
            f"unknown variable `{unknown[0]}`" + (f"; {hint}" if hint else f"; expressions see {known}")
        )
    depth = comprehension_depth(source)
    if depth > MAX_COMPREHENSION_DEPTH:
        raise ExpressionError(
            f"comprehensions nest {depth} deep; at most {MAX_COMPREHENSION_DEPTH} keep evaluation bounded"
        )
    return Compiled(source, program, depth)


def _is_macro_call(before: str) -> bool:
    """Whether the text before a `(` ends with a macro: `.all`, `. all `, `.\nall` alike."""
    before = before.rstrip()
    name = before[-10:].rsplit(".", 1)[-1].strip()
    return name in _MACROS and before[: len(before) - len(name)].rstrip().endswith(".")


def comprehension_depth(source: str) -> int:
    """How deeply `.all(...)`, `.map(...)` and friends nest inside each other."""
    text = _STRING.sub(lambda m: " " * len(m.group(0)), source)
    stack: list[bool] = []
    depth = deepest = 0
    for index, char in enumerate(text):
        if char == "(":
            is_macro = _is_macro_call(text[:index])
            stack.append(is_macro)
            if is_macro:
                depth += 1
                deepest = max(deepest, depth)
        elif char == ")" and stack and stack.pop():
            depth -= 1
    return deepest


class Scope:
    """What expressions see about one spec, converted to CEL once.

    Converting a spec and what it refers to costs milliseconds; executing a
    compiled program on a ready context costs microseconds. So the context
    is built once per spec, and only `params` and `variables` (small) change
    from one policy to the next.
    """

    def __init__(self, base: dict[str, Any]):
        self.context = cel.Context(variables=base)
        self.variables: dict[str, Any] = {}

    def enter_policy(self, params: dict[str, Any]) -> None:
        self.variables = {}
        self.context.update({"params": params, "variables": self.variables})

    def set_variable(self, name: str, value: Any) -> None:
        self.variables[name] = value
        self.context.update({"variables": self.variables})


def evaluate(compiled: Compiled, scope: Scope) -> Any:
    """Run a compiled program; callers bound its time and memory (compiler/stages/sandbox.py)."""
    try:
        return compiled.program.execute(scope.context)
    except KeyError as error:
        raise ExpressionError(f"no such key: {error.args[0] if error.args else error}") from None
    except ZeroDivisionError:
        raise ExpressionError("division by zero") from None
    except OverflowError:
        raise ExpressionError("arithmetic overflow") from None
    except TypeError as error:
        first = _first_line(error, "mismatched types").split(".")[0]
        raise ExpressionError(f"type error: {first}") from None
    except (ValueError, RuntimeError) as error:
        raise ExpressionError(f"evaluation failed: {_first_line(error, 'the engine gave no reason')}") from None


def _first_line(error: Exception, otherwise: str) -> str:
    """The engine's own words, shown as they are: the code never depends on them."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else otherwise
