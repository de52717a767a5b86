"""A policy's expressions read against the spec models when the policy is loaded.

`object.spec.feature` (a field no Model has) and `has(object.spec.monitoring)` (always true: `object`
is the spec with every field present, unset ones null) used to surface late, as a CH502 on every
spec the rule ran on, or never. Each `object.` path is walked through the pydantic models of the
kinds the policy matches, by the names users write (the camelCase aliases); the walk stops where the
model stops knowing (a map, a list, a scalar), so nothing is refused that could be right. DataContract
objects are raw ODCS documents: they are not walked, and `has()` is how they are read.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from compiler.core.models import KINDS
from compiler.core.suggest import did_you_mean

# `object` and the names selected from it; `has(` before it when it is a presence test.
_PATH = re.compile(r"(?<![\w.])(has\(\s*)?object((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)+)")
_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    line: int
    column: int


def field_problems(source: str, kinds: Sequence[str]) -> list[Problem]:
    """Unknown fields and always-true `has()` of `object` in one expression, for a policy matching `kinds`.

    Remembered per expression and kinds: the editor checks every policy again at each edit (issue 26)."""
    return list(_field_problems(source, tuple(kinds)))


@functools.lru_cache(maxsize=4096)
def _field_problems(source: str, kinds: tuple[str, ...]) -> tuple[Problem, ...]:
    models = [KINDS[kind] for kind in kinds if kind in KINDS]
    if not models or len(models) != len(kinds):
        # A policy that also matches contracts sees raw documents there: nothing to hold a path to.
        return ()
    # Text inside string literals is not an expression: blanked, keeping every offset.
    code = _STRING.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], source)
    found = []
    for match in _PATH.finditer(code):
        names = [name.strip() for name in match.group(2).split(".")[1:]]
        problem = _walk(names, models, presence=match.group(1) is not None)
        if problem is not None:
            line = source.count("\n", 0, match.start()) + 1
            column = match.start() - (source.rfind("\n", 0, match.start()) + 1) + 1
            found.append(Problem(problem, line, column))
    return tuple(found)


def _walk(names: list[str], models: Sequence[type[BaseModel]], *, presence: bool) -> str | None:
    """Why the path `object.<names>` is wrong for every one of `models`, or None when one could read it."""
    reasons = []
    for model in models:
        reason = _walk_one(names, model, presence=presence)
        if reason is None:
            return None
        reasons.append(reason)
    return reasons[0]


def _walk_one(names: list[str], model: type[BaseModel], *, presence: bool) -> str | None:
    current: type[BaseModel] | None = model
    walked = "object"
    for name in names:
        if current is None:
            return None
        fields = {(info.alias or field): info for field, info in current.model_fields.items()}
        info = fields.get(name)
        if info is None:
            hint = did_you_mean(name, fields)
            return f"`{walked}` has no field `{name}`" + (
                f"; {hint}" if hint else f" (its fields: {', '.join(fields)})"
            )
        walked += f".{name}"
        current = _model_of(info.annotation)
    if presence:
        return (
            f"`has({walked})` is always true: `object` holds every field of the spec, unset ones as null; "
            f"test `{walked} != null`"
        )
    return None


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The model a field holds when it holds one (optional or not); None for maps, lists and scalars."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        held = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _model_of(held[0]) if len(held) == 1 else None
    return None
