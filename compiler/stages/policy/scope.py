"""What programs run in: the roots they read about a spec, converted into the engine once for many programs.

cel-cpp converts a root (`object`, `related`, ...) into CEL the first time a program run in an activation reads
it, and keeps it for that activation: that conversion is most of what evaluating a policy costs. So an activation
(`Roots`) is shared as widely as it can be:
- by every policy on a spec: a policy's `params` and `variables` are not in it, but bound in each program that
  reads them (`cel.bind`) to what a function answers from the `Scope` being run;
- by the specs of a batch (`compiler.stages.policy.batches`): its activation holds the distinct views of several
  specs in one list, each converted once though a model, its datasets and its environments are each other's
  `related`, and a program of the batch's `Shape` binds `object`, `related`, `kind` and `name` to entries of it.

Every root is dynamic: specs are YAML, typed by their schemas, not by CEL declarations. Policies are compiled and
checked in an environment without the binding functions and lists (`compiler.stages.policy.expressions`): a
policy cannot name them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext.ext_bindings import ExtBindings

ROOTS = frozenset({"object", "related", "params", "variables", "project", "kind", "name", "today"})
PARAMS, VARIABLES, SPEC = "_charter_params", "_charter_variables", "_charter_spec"
VIEWS, SPECS = "_charter_views", "_charter_specs"
"""A batch's lists: its distinct views (entry 0 is null), and for each spec the entries of its roots."""
_INT_MIN, _UINT_END = -(1 << 63), 1 << 64
_current = threading.local()  # the Scope being evaluated on this thread, read by the binding functions


def _params() -> Any:
    return _current.scope.params


def _variables() -> Any:
    return _current.scope.variables


def _spec() -> Any:
    return _current.scope.at


RUN_ENV = cel.NewEnv(
    variables=dict.fromkeys(ROOTS | {VIEWS, SPECS}, cel.Type.DYN),
    extensions=[ExtBindings()],
    functions=[
        cel.FunctionDecl(name, [cel.Overload(f"{name}_0", cel.Type.DYN, [], impl=impl)])
        for name, impl in ((PARAMS, _params), (VARIABLES, _variables), (SPEC, _spec))
    ],
)
_CONVERT = RUN_ENV.compile(f"size({VIEWS}) + size({SPECS})", disable_check=True)

AT = "_charter_at"
"""Bound, in a program of a `Shape`, to the spec's entries in its batch's lists."""


@dataclass(frozen=True, slots=True)
class Shape:
    """Where a program finds the roots that differ from spec to spec in an activation several specs share.

    `entries`: CEL text giving the spec's entries, bound to `AT` once per program; `roots`: for `object`,
    `kind` and `name`, CEL text reading them from `AT`; `related`: the same for each key of `related`."""

    entries: str
    roots: tuple[tuple[str, str], ...]
    related: tuple[tuple[str, str], ...]


_ROOT_NAMED = re.compile(r"\b(object|related|kind|name)\b")
_RELATED = re.compile(r"\brelated\b")
_RELATED_FIELD = re.compile(r"\brelated\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=8192)
def shaped(text: str, shape: Shape) -> Any | None:
    """The program `text` for an activation of `shape`: each root it may read (any mention of the name counts)
    bound to where the shape has it, and of `related` only the keys it reads when it only selects them.

    None when that is deeper than the engine's parser takes (its limit is 32 levels: each bind costs one,
    parentheses one more, so the text stands on lines of its own instead, and a `//` comment ending it still
    ends at its line); the program then runs in the spec's own activation (`Scope.runnable`)."""
    named = set(_ROOT_NAMED.findall(text))
    binds = [(root, computed) for root, computed in shape.roots if root in named]
    if "related" in named:
        read = related_read(text)
        entries = ", ".join(f'"{key}": {value}' for key, value in shape.related if read is None or key in read)
        binds.append(("related", f"{{{entries}}}"))
    if binds:
        binds.insert(0, (AT, shape.entries))
    for root, computed in reversed(binds):
        text = f"cel.bind({root}, {computed},\n{text}\n)"
    try:
        return RUN_ENV.compile(text, disable_check=True)
    except (ValueError, RuntimeError):
        return None


def related_read(text: str) -> frozenset[str] | None:
    """The keys of `related` a program reads: none when it does not name it (any mention counts, a string's
    too), None (every key) when it does anything with it but select a key."""
    mentions = len(_RELATED.findall(text))
    if not mentions:
        return frozenset()
    fields = _RELATED_FIELD.findall(text)
    return frozenset(fields) if len(fields) == mentions else None


class Roots:
    """An activation, made on first use: a root is converted into the engine when a program first reads it."""

    def __init__(self, base: dict[str, Any]):
        self.base = base
        self._activation: Any = None
        self._portable = False

    def activation(self) -> Any:
        if self._activation is None:
            self._activation = RUN_ENV.Activation(self.base)
        return self._activation

    def make_portable(self) -> bool:
        """Whether the roots changed: values the engine cannot take become ones it can (see `portable`)."""
        if self._portable:
            return False
        self._portable = True
        self.base, self._activation = portable(self.base), None
        return True

    def converts(self) -> bool:
        """Whether a batch's lists convert into the engine, made portable first if they must be. Run before any
        program, so that the time converting takes is not charged to the first expression."""
        for _ in range(2):
            try:
                if _CONVERT.eval(self.activation()).type() != cel.Type.ERROR:
                    return True
            except (ValueError, RuntimeError):
                pass
            if not self.make_portable():
                return False
        return False


Base = dict[str, Any] | Callable[[], dict[str, Any]]
"""A spec's roots, or what makes them when first needed."""


class Scope:
    """What expressions see about one spec: its roots, then each policy's `params` and `variables`.

    `base` holds the spec's roots (or makes them). With `shared`, programs run in that activation, which
    several specs share, and find this spec's roots at entry `at` of its lists, bound by a program of `shape`;
    a program too deep for that runs in an activation of `base` alone. A policy's `variables` are computed in
    the programs reading them (`in_policy`); only a policy too deep for that keeps them here, converted out of
    the engine and back.
    """

    def __init__(self, base: Base, shared: Roots | None = None, shape: Shape | None = None, at: int = 0) -> None:
        self.base, self.shared, self.shape, self.at = base, shared, shape, at
        self.params: dict[str, Any] = {}
        self.variables: dict[str, Any] = {}
        self._own: Roots | None = None
        self._portable: tuple[Any, Any] = (None, None)
        """The `params` and `variables` last made portable (held, so that what is compared is never a new object)."""

    def enter_policy(self, params: dict[str, Any]) -> None:
        self.params, self.variables = params, {}

    def set_variable(self, name: str, value: Any) -> None:
        self.variables = {**self.variables, name: value}

    def runnable(self, text: str, program: Any) -> tuple[Any, Roots]:
        """The program to run (`program`, or `text` compiled for the shared activation), and its roots."""
        if self.shared is not None and self.shape is not None and text:
            batched = shaped(text, self.shape)
            if batched is not None:
                return batched, self.shared
        if self._own is None:
            self._own = Roots(self.base() if callable(self.base) else self.base)
        return program, self._own

    def activation(self, roots: Roots) -> Any:
        """The roots' activation, with `params` and `variables` answered from this scope."""
        _current.scope = self
        return roots.activation()

    def make_portable(self, roots: Roots) -> bool:
        """Whether anything a program reads changed: the roots, or this policy's `params` and `variables`."""
        changed = roots.make_portable()
        last_params, last_variables = self._portable
        if self.params is not last_params or self.variables is not last_variables:
            self.params, self.variables = portable(self.params), portable(self.variables)
            self._portable = (self.params, self.variables)
            changed = True
        return changed


def portable(value: Any) -> Any:
    """Integers beyond 64 bits become doubles and tuples lists, as the engine before this one took them.

    YAML holds integers of any size; CEL's are 64-bit, and the engine refuses a
    whole root for one such integer in it. Only run when the engine refused.
    """
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [portable(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not _INT_MIN <= value < _UINT_END:
        return float(value)
    return value
