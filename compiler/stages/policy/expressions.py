"""CEL expressions for policies: compiled once, evaluated with bounded cost.

The CEL engine (`cel-expr-python`, Google's cel-cpp) cannot be interrupted
once it runs and exposes no syntax tree (THREATS.md), so no bound on cost
can be proven from an expression before it runs. The bound is enforced
where it runs: compiler/stages/policy/evaluate.py evaluates in a worker process with
time and memory limits (compiler/stages/policy/sandbox.py). Here, expressions are
at most 5,000 characters and nest comprehensions at most
`MAX_COMPREHENSION_DEPTH` deep: a lint that names the likely mistake early,
not the bound. Every engine error becomes an ExpressionError with a message
for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cel_expr_python import cel

from compiler.stages.policy.scope import PARAMS, ROOTS, RUN_ENV, VARIABLES, Scope

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
# The functions and macros this engine has (CEL's standard definitions), for a did-you-mean on an unknown one.
FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches", "has", "all", "exists", "exists_one", "map",
        "filter", "int", "uint", "double", "string", "bool", "bytes", "timestamp", "duration", "type", "dyn",
        "getFullYear", "getMonth", "getDayOfMonth", "getDayOfYear", "getDayOfWeek", "getDate", "getHours",
        "getMinutes", "getSeconds", "getMilliseconds",
    }
)  # fmt: skip
MAX_COMPREHENSION_DEPTH = 3
ITERATION_LIMIT = 10_000
"""Iterations of comprehensions in one evaluation: cel-cpp's default, which the Python binding keeps."""
_MACRO = re.compile(r"\.\s*(all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)")
_MACROS = ("all", "exists", "exists_one", "map", "filter")
_PARSE_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")
_UNDECLARED = re.compile(r"<input>:(\d+):(\d+): undeclared reference to '([^']+)'")
_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
# The engine's errors: `STATUS: detail [STATUS]`; the texts below are fixed strings of cel-cpp's runtime.
_STATUS = re.compile(r"^[A-Z_]+: ")
_STATUS_SUFFIX = re.compile(r"\s*\[[A-Z_]+\]$")
_MISSING_KEY = re.compile(r"^Key not found in map : (.*)$")
_NO_OVERLOAD = re.compile(r"^No matching overloads found : (.*)$")
_CALLED = re.compile(r"(?:^|\.)([A-Za-z_][A-Za-z0-9_]*)\(")
_UNCONVERTED = re.compile(r"out of range for '|Non-CEL value type for '")
_TYPE_SPELLING = {"NULL": "null_type", "TIMESTAMP": "google.protobuf.Timestamp", "DURATION": "google.protobuf.Duration"}

# Every root is dynamic: specs are YAML, typed by their schemas, not by CEL declarations. Policies are compiled and
# checked here, where the binding functions and a batch's lists (`compiler.stages.policy.scope`) do not exist.
_ENV = cel.NewEnv(variables=dict.fromkeys(ROOTS, cel.Type.DYN))
_ERROR, _NULL, _BOOL, _LIST, _MAP, _TYPE = (
    cel.Type.ERROR,
    cel.Type.NULL,
    cel.Type.BOOL,
    cel.Type.LIST,
    cel.Type.MAP,
    cel.Type.TYPE,
)


class ExpressionError(Exception):
    """An expression that does not compile or evaluate; line/column are within the expression."""

    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True, slots=True)
class Compiled:
    source: str
    program: Any  # cel.Expression
    depth: int
    functions: frozenset[str] = frozenset()
    """Functions the expression calls that CEL does not have: an error when called, as before."""
    reads: frozenset[str] = frozenset({"params", "variables"})
    """Which of the per-policy roots the expression may read: any mention of the name counts (a string too)."""
    text: str = ""
    """What `program` was compiled from: the expression with its bindings, for an activation of another shape
    (`Scope.runnable`)."""


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Compiled:
    """Parse and statically check one expression; cached, so once per run."""
    try:
        # Parsed here for the syntax error at its position; evaluated unchecked (`_runnable`), as the engine before
        # this one did: what fails at run time fails closed (CH502).
        _ENV.compile(source, disable_check=True)
    except (ValueError, RuntimeError) as error:
        # CEL's implementations (cel-go, cel-cpp, cel-rust) locate an error as `<input>:LINE:COLUMN:`:
        # a machine format, kept for the position; the message after it is only shown.
        text = str(error)
        match = _PARSE_POSITION.search(text)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
            # Past its nesting limit the parser gives a position that is not one (`<input>:4294967295:0:`).
            located = 0 < line <= source.count("\n") + 1 and column > 0
            raise ExpressionError(f"CEL syntax error: {match.group(3)}", *((line, column) if located else ())) from None
        detail = _STATUS.sub("", _STATUS_SUFFIX.sub("", _first_line(text, "the expression does not parse")))
        raise ExpressionError(f"CEL syntax error: {detail}") from None
    variables, functions = _undeclared(source)
    bound = {match.group(2) for match in _MACRO.finditer(source)}
    unknown = sorted(variables - ROOTS - _TYPE_NAMES - bound)
    if unknown:
        from compiler.core.suggest import did_you_mean

        hint = did_you_mean(unknown[0], ROOTS)
        known = ", ".join(sorted(ROOTS))
        raise ExpressionError(
            f"unknown variable `{unknown[0]}`" + (f"; {hint}" if hint else f"; expressions see {known}")
        )
    if functions:
        # Caught here, at the policy's line, not as a CH502 on every spec the rule is evaluated on.
        (line, column), name = min((at, name) for name, at in functions.items())
        from compiler.core.suggest import did_you_mean

        hint = did_you_mean(name, FUNCTIONS)
        raise ExpressionError(
            f"unknown function `{name}`: this CEL engine has no such function"
            + (f"; {hint}" if hint else "; it has no string extensions (`lowerAscii`, `split`, `join`)"),
            line,
            column,
        )
    depth = comprehension_depth(source)
    if depth > MAX_COMPREHENSION_DEPTH:
        raise ExpressionError(
            f"comprehensions nest {depth} deep; at most {MAX_COMPREHENSION_DEPTH} keep evaluation bounded"
        )
    reads = frozenset(_PER_POLICY.findall(source))
    text = _runnable(source, reads)
    return Compiled(source, RUN_ENV.compile(text, disable_check=True), depth, frozenset(), reads, text)


def _runnable(source: str, reads: frozenset[str]) -> str:
    """The program that runs: the expression with `params` and `variables` bound to the scope's current ones
    by `cel.bind`, which costs no iteration of the engine's budget (`in_policy` computes variables instead).
    The expression is parsed on lines of its own, so that a `//` comment ending it does not swallow the
    closing parentheses."""
    wrapped = source
    for root, function in (("variables", VARIABLES), ("params", PARAMS)):
        if root in reads:
            wrapped = f"cel.bind({root}, {function}(), (\n{wrapped}\n))"
    return wrapped


def _undeclared(source: str) -> tuple[set[str], dict[str, tuple[int, int]]]:
    """The variables and the functions (with where each is first called) the expression names that CEL's
    checker does not know.

    The checker reports both as `undeclared reference to 'NAME'`, at the name
    of a variable (`objet` or `objet.spec.x`: a variable and what is selected
    from it) and at the `(` of a function's call.
    """
    try:
        _ENV.compile(source)
    except (ValueError, RuntimeError) as error:
        lines = source.split("\n")
        variables: set[str] = set()
        functions: dict[str, tuple[int, int]] = {}
        for line, column, name in _UNDECLARED.findall(str(error)):
            text = lines[int(line) - 1] if 0 < int(line) <= len(lines) else ""
            if "." not in name and text[int(column) - 1 : int(column)] == "(":
                at = (int(line), _name_start(text, int(column)))
                functions[name] = min(functions.get(name, at), at)
            else:
                variables.add(name.split(".", 1)[0])
        return variables, functions
    return set(), {}


def _name_start(text: str, paren: int) -> int:
    """The 1-based column where the function name before the `(` at column `paren` starts."""
    start = paren - 1
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return start + 1


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


_PER_POLICY = re.compile(r"\b(params|variables)\b")
_VARIABLE = re.compile(r"\bvariables\b")
_VARIABLE_FIELD = re.compile(r"\bvariables\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Definitions = tuple[tuple[str, str], ...]
"""A policy's variables an expression may read: (name, expression), in the order the policy declares them."""


def in_policy(source: str, definitions: Definitions) -> Compiled | None:
    """`source` as it runs in its policy: the variables it reads (and those they read) computed in the program
    itself, each bound by `cel.bind` in the policy's order, from the spec's converted roots. None when the
    chain is deeper than the engine's parser takes (more than 14 variables read), or a name is not an
    identifier (the schema refuses one): the policy then keeps its variables in the `Scope`.

    Before, each variable's value was converted out of the engine and back into it for every expression
    reading it: the most costly part of policy evaluation at 10,000 specs. A variable's expression is
    evaluated on its own first (a failure names the variable), then again inside each expression reading it;
    so an expression's iteration budget covers the variables it reads. `definitions` are the variables
    declared before the expression; a name read that is not among them is a missing key, as it always was.
    """
    compiled = compile_expression(source)
    if "variables" not in compiled.reads:
        return compiled
    return _in_policy(source, definitions)


@lru_cache(maxsize=4096)
def _in_policy(source: str, definitions: Definitions) -> Compiled | None:
    compiled = compile_expression(source)
    if not all(_IDENTIFIER.fullmatch(name) for name, _ in definitions):
        return None  # the schema admits only identifiers; anything else never joins a program's text
    chosen = _read_definitions(source, definitions)
    wrapped = source
    for index in reversed(range(len(chosen))):
        name, expression = chosen[index]
        earlier = [
            f'"{other}": variables["{other}"]'
            for other in dict.fromkeys(other for other, _ in chosen[:index])
            if other != name
        ]
        entries = ", ".join([*earlier, f'"{name}": (\n{expression}\n)'])
        wrapped = f"cel.bind(variables, {{{entries}}}, (\n{wrapped}\n))"
    wrapped = f"cel.bind(variables, {{}}, (\n{wrapped}\n))"
    reads = frozenset(_PER_POLICY.findall(" ".join([source, *(expression for _, expression in chosen)])))
    if "params" in reads:
        wrapped = f"cel.bind(params, {PARAMS}(), (\n{wrapped}\n))"
    try:
        program = RUN_ENV.compile(wrapped, disable_check=True)
    except (ValueError, RuntimeError):  # the parser's nesting limit
        return None
    return Compiled(source, program, compiled.depth, compiled.functions, reads, wrapped)


def _read_definitions(source: str, definitions: Definitions) -> Definitions:
    """The definitions `source` reads, directly or through another variable, in declared order.

    `variables.name` names one; any other mention of `variables` (an index, the map itself, the word in a
    string) counts as reading all of those declared before."""
    needed = _names_read(source, [name for name, _ in definitions])
    for position in reversed(range(len(definitions))):
        name, expression = definitions[position]
        if name in needed:
            needed |= _names_read(expression, [other for other, _ in definitions[:position]])
    return tuple(definition for definition in definitions if definition[0] in needed)


def _names_read(source: str, declared: list[str]) -> set[str]:
    fields = _VARIABLE_FIELD.findall(source)
    if len(fields) == len(_VARIABLE.findall(source)):
        return set(fields) & set(declared)
    return set(declared)


def evaluate(compiled: Compiled, scope: Scope) -> Any:
    """Run a compiled program; callers bound its time and memory (compiler/stages/policy/sandbox.py)."""
    try:
        result = _run(compiled, scope)
        if result.type() == _ERROR:
            raise ExpressionError(engine_reason(str(result.value()), compiled.functions))
        return plain(result)
    except (ValueError, RuntimeError) as error:  # the engine raises some errors (its iteration limit) instead
        raise ExpressionError(engine_reason(str(error), compiled.functions)) from None


def evaluates(compiled: Compiled, scope: Scope) -> None:
    """Raise the expression's error if it has one; its value stays in the engine (a variable's)."""
    try:
        result = _run(compiled, scope)
    except (ValueError, RuntimeError) as error:
        raise ExpressionError(engine_reason(str(error), compiled.functions)) from None
    if result.type() == _ERROR:
        raise ExpressionError(engine_reason(str(result.value()), compiled.functions))


def _run(compiled: Compiled, scope: Scope) -> Any:
    """The engine's value; once more on values it can take if it refused one (an integer beyond 64 bits in a
    root, or in `params` or `variables`, which the engine refuses as it converts a function's answer)."""
    program, roots = scope.runnable(compiled.text, compiled.program)
    try:
        result = program.eval(scope.activation(roots))
        refused = str(result.value()) if result.type() == _ERROR else ""
    except (ValueError, RuntimeError) as error:
        if not (_UNCONVERTED.search(str(error)) and scope.make_portable(roots)):
            raise
        return program.eval(scope.activation(roots))
    if refused and _UNCONVERTED.search(refused) and scope.make_portable(roots):
        return program.eval(scope.activation(roots))
    return result


def engine_reason(text: str, unknown_functions: frozenset[str] = frozenset()) -> str:
    """The engine's error as people read it: keyed on its status code, and on the fixed texts of cel-cpp's
    runtime where one code covers several cases (division by zero, no matching overload)."""
    status, _, detail = _first_line(text, "").partition(": ")
    detail = _STATUS_SUFFIX.sub("", detail) if detail else status
    if status == "NOT_FOUND" and (key := _MISSING_KEY.search(detail)):
        return f"no such key: {key.group(1).strip(chr(34))}"
    if status == "OUT_OF_RANGE":
        return "arithmetic overflow"
    if detail in ("divide by zero", "modulus by zero"):
        return "division by zero"
    if overload := _NO_OVERLOAD.match(detail):
        call = overload.group(1)
        function = _CALLED.search(call)
        if function and function.group(1) in unknown_functions:
            return f"evaluation failed: no function `{function.group(1)}`"
        return f"type error: no matching overload for {call}"
    if detail == "Iteration budget exceeded":
        return f"stopped: comprehensions ran more than the engine's limit of {ITERATION_LIMIT:,} iterations"
    if detail.startswith("Applying SELECT to non-message type"):
        return "type error: a field was selected from a value that is not a map (null, a list or a scalar)"
    return f"evaluation failed: {detail or 'the engine gave no reason'}"


def plain(value: Any) -> Any:
    """A CEL value as Python, walked here so that the library never converts a null itself.

    cel-expr-python 0.1.3 releases Python's None once too often when it converts
    a CEL null (`Value.plain_value()` on anything holding one, `.value()` on a
    null): after a few thousand the interpreter aborts ("none_dealloc").
    `.value()` of a list or map gives containers of unconverted Values, so this
    walks them and answers None for a null without asking the library.
    tests/test_cel_engine.py runs 50,000 null results through this in a subprocess.
    """
    kind = value.type()
    if kind == _BOOL:
        return value.value()
    if kind == _NULL:
        return None
    if kind == _LIST:
        return [plain(item) for item in value.value()]
    if kind == _MAP:
        return {key: plain(item) for key, item in value.value().items()}
    if kind == _TYPE:
        name = value.value().name().split("<", 1)[0]
        return _TYPE_SPELLING.get(name, name.lower())
    result = value.value()
    return bytes(result) if isinstance(result, bytearray) else result


def _first_line(text: str, otherwise: str) -> str:
    """The engine's own words, shown as they are."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else otherwise
