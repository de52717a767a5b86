"""The spec models' fields by path: their names as written (camelCase), documentation, types and enums.

Completion and hover read the pydantic models of `compiler.core.models`, so a new field, a new enum value or
a better docstring shows in editors with no change here.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from compiler.core.diagnostics import PathSegment
from compiler.core.models import KINDS


@dataclass(frozen=True, slots=True)
class FieldDoc:
    """One field of a spec model, as a person writes it."""

    name: str
    doc: str
    type: str
    required: bool
    values: tuple[str, ...]  # the allowed values of an enum field, else empty


def field_at(kind: str | None, path: Sequence[PathSegment]) -> FieldDoc | None:
    """The field a path ends at (`spec.deployments[0].replicas`), None when the path names no field."""
    if not path or not isinstance(path[-1], str):
        return None
    parent = shape_at(kind, path[:-1])
    fields = fields_of(parent)
    return next((doc for doc in fields if doc.name == path[-1]), None)


def shape_at(kind: str | None, path: Sequence[PathSegment]) -> Any:
    """The type (a model, a list, a Literal...) of the value at `path`, None when unknown."""
    current: Any = KINDS.get(kind or "")
    for segment in path:
        current = _unwrap(current)
        if current is None:
            return None
        if isinstance(segment, int):
            current = _args(current)[0] if get_origin(current) is list and _args(current) else None
        elif _is_model(current):
            found = next((info for info in current.model_fields.values() if info.alias == segment), None)
            current = _annotated(found) if found is not None else None
        elif get_origin(current) is dict and len(_args(current)) == 2:
            current = _args(current)[1]
        else:
            return None
    return current


def fields_of(shape: Any) -> list[FieldDoc]:
    """The fields of a model type, in declaration order; empty for anything else."""
    model = _unwrap(shape)
    if not _is_model(model):
        return []
    return [_doc(info) for info in model.model_fields.values() if info.alias]


def is_model(shape: Any) -> bool:
    return _is_model(_unwrap(shape))


def enum_values(shape: Any) -> tuple[str, ...]:
    """The values of a Literal (or a bool), as they are written in YAML."""
    unwrapped = _unwrap(shape)
    if get_origin(unwrapped) is Literal:
        return tuple(str(value).lower() if isinstance(value, bool) else str(value) for value in get_args(unwrapped))
    if unwrapped is bool:
        return ("true", "false")
    return ()


def model_doc(shape: Any) -> str:
    model = _unwrap(shape)
    return (model.__doc__ or "").strip() if _is_model(model) else ""


def _doc(info: FieldInfo) -> FieldDoc:
    annotation = _annotated(info)
    doc = info.description or _inner_description(annotation) or model_doc(annotation)
    return FieldDoc(
        name=info.alias or "",
        doc=doc,
        type=describe(annotation),
        required=info.is_required(),
        values=enum_values(annotation),
    )


def describe(shape: Any) -> str:
    """A short type name: `string`, `list of Deployment`, `one of: psi, ks, chi2`."""
    unwrapped = _unwrap(shape)
    origin = get_origin(unwrapped)
    if origin is Literal:
        return "one of: " + ", ".join(enum_values(unwrapped))
    if origin is list:
        return "list of " + describe(_args(unwrapped)[0]) if _args(unwrapped) else "list"
    if origin is dict:
        return "mapping of " + describe(_args(unwrapped)[1]) if len(_args(unwrapped)) == 2 else "mapping"
    if _is_model(unwrapped):
        return str(unwrapped.__name__)
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if isinstance(unwrapped, type):
        return names.get(unwrapped, unwrapped.__name__)
    options = [describe(option) for option in _members(shape)]
    return " or ".join(dict.fromkeys(options)) if options else "value"


def _annotated(info: FieldInfo) -> Any:
    return info.annotation if not info.metadata else Annotated[(info.annotation, *info.metadata)]


def _inner_description(shape: Any) -> str:
    """A description carried by the type itself (`Column`, `Name`), through Optional and list."""
    for option in [shape, *_members(shape)]:
        if get_origin(option) is Annotated:
            for meta in get_args(option)[1:]:
                if isinstance(meta, FieldInfo) and meta.description:
                    return meta.description
            return _inner_description(get_args(option)[0])
        if get_origin(option) is list and _args(option):
            return _inner_description(_args(option)[0])
    return ""


def _members(shape: Any) -> list[Any]:
    if get_origin(shape) is Annotated:
        return _members(get_args(shape)[0])
    if get_origin(shape) in (Union, types.UnionType):
        return [option for option in get_args(shape) if option is not type(None)]
    return []


def _unwrap(shape: Any) -> Any:
    """Without Annotated and Optional; of a union, the model (or list, or mapping) member first."""
    while get_origin(shape) is Annotated:
        shape = get_args(shape)[0]
    options = _members(shape)
    if not options:
        return shape
    if len(options) == 1:
        return _unwrap(options[0])
    for wanted in (_is_model, lambda option: get_origin(_unwrap(option)) in (list, dict)):
        for option in options:
            if wanted(_unwrap(option)):
                return _unwrap(option)
    return shape


def _args(shape: Any) -> tuple[Any, ...]:
    return get_args(shape)


def _is_model(shape: Any) -> bool:
    return isinstance(shape, type) and issubclass(shape, BaseModel)
