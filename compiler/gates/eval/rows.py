"""What the task loaders (`ranking`, `generation`, `multiclass`) use of the evaluation loader (`load.Loader`).

`load` imports the task loaders to pick one by the model's task; they see it through this protocol, so no
module of the eval gate imports one that imports it back.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from compiler.core.models.suite import EvaluationSuite
from compiler.gates.io.inputs import Source

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN")
_UNSIGNED = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")


class RowReader(Protocol):
    """The one read of an evaluation file's rows, labels cast alike."""

    @property
    def source(self) -> Source: ...

    def label_expressions(self, available: dict[str, str], names: list[str]) -> dict[str, str]: ...

    def fetch(self, parts: dict[str, str]) -> dict[str, np.ndarray[Any, Any]]: ...


class ClassReader(RowReader, Protocol):
    """What a classifier's rows need beside: the suite, the labels y_true holds, and labels coded by position."""

    suite: EvaluationSuite
    true_labels: set[str]

    def code_expression(self, expression: str, values: list[Any], type_name: str) -> str: ...

    def list_type(self, available: dict[str, str], expression: str, column: str) -> str: ...


def numeric(type_name: str) -> bool:
    """Whether a DuckDB column type holds numbers (booleans count, as scikit-learn reads them)."""
    upper = type_name.upper()
    return upper.startswith(_NUMERIC) or upper.startswith(_UNSIGNED)
