"""Pickling for the small frozen dataclasses the load workers send by the tens of thousands.

A dataclass with slots pickles through `dataclasses`' own state functions, which look its fields up again for
each object: at 10,000 specs the 19,000 columns of their contracts cost more to pickle and unpickle than the
rest of a file's result (issue 26). `by_fields` pickles an instance as its class and its fields' values, taken
in C (`operator.attrgetter`), and unpickles it through the class's own `__init__`.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, TypeVar

Class = TypeVar("Class", bound=type)


def by_fields(cls: Class) -> Class:
    """Give a dataclass whose fields are all `__init__` parameters a `__reduce__` of (class, field values)."""
    fields = dataclasses.fields(cls)
    if len(fields) < 2 or not all(field.init for field in fields):
        raise TypeError(f"{cls.__name__}: by_fields needs two or more fields, all of them __init__ parameters")
    values = operator.attrgetter(*(field.name for field in fields))

    def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
        return cls, values(self)

    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 - assigned to the class, after the dataclass made it
    return cls
