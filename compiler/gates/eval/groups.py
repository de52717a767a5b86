"""The groups of a sensitive feature that fairness is judged over: the data's own values, the bins a fairness
check declares for a continuous feature (age, income), or the combinations of the features it crosses. A numeric
feature with many values and no bins is refused: one group per value leaves every group below `minGroupSize`, so
the gate could only fail or be waived."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.core.models.suite import EvaluationSuite
from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import Source
from compiler.reporters.gate import show

MAX_UNBINNED_NUMERIC = 20
_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")
_UNSIGNED = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")


def declared_bins(suite: EvaluationSuite, columns: dict[str, str]) -> dict[str, tuple[float, ...]]:
    """File column -> the bins its fairness checks declare. One feature, one binning: its groups are shared by
    every check and slice on it, so two binnings, or a slice over raw values of a binned feature, are refused."""
    found: dict[str, tuple[float, ...]] = {}
    for check in suite.spec.fairness:
        column = columns.get(check.sensitive_feature)
        if check.bins is None or column is None:
            continue
        edges = tuple(check.bins)
        if found.get(column, edges) != edges:
            raise UnusableInput(
                f"the fairness checks on `{check.sensitive_feature}` declare different bins",
                hint="give every fairness check on one feature the same `bins`",
            )
        found[column] = edges
    for piece in suite.spec.slices:
        if columns.get(piece.feature) in found:
            raise UnusableInput(
                f"slice {piece.name} selects values of `{piece.feature}`, which fairness checks group into bins",
                hint="slice on another column, or derive the binned column in the predictions file",
            )
    return found


def labels(edges: tuple[float, ...]) -> list[str]:
    """`< 25`, `[25, 40)`, ..., `≥ 65`: each group closed on the left, as pandas.cut(right=False)."""
    shown = [show(edge) for edge in edges]
    return [f"< {shown[0]}", *(f"[{a}, {b})" for a, b in itertools.pairwise(shown)), f"≥ {shown[-1]}"]


def expression(column_sql: str, edges: tuple[float, ...], type_name: str, source: Source, column: str) -> str:
    """SQL: the 1-based group of each row (0 for NULL), in the same numbering as `labels`."""
    if not is_number(type_name):
        raise UnusableInput(f"{source.label}: column `{column}` is {type_name}; `bins` group numbers")
    value = f"CAST({column_sql} AS DOUBLE)"
    # The edges are finite floats (the suite model checks them), so their repr is a valid SQL number.
    branches = " ".join(f"WHEN {value} < {edge!r} THEN {i + 1}" for i, edge in enumerate(map(float, edges)))
    return f"CASE WHEN {column_sql} IS NULL THEN 0 {branches} ELSE {len(edges) + 1} END::INTEGER"


def refuse_continuous(source: Source, column: str, type_name: str, distinct: int, feature: str) -> None:
    """A numeric sensitive feature with more values than groups make sense for, and no bins."""
    if is_number(type_name) and distinct > MAX_UNBINNED_NUMERIC:
        raise UnusableInput(
            f"{source.label}: column `{column}` is numeric with {distinct:,} distinct values; as many groups would "
            "each be too small to judge",
            hint=f"declare `bins` on the fairness checks of `{feature}`, for example `bins: [25, 40, 65]`",
        )


def cross(parts: list[tuple[npt.NDArray[np.integer[Any]], list[str]]]) -> tuple[npt.NDArray[np.int32], list[str]]:
    """The groups of several features crossed: codes 0..g-1 over the combinations present, sorted as the parts are,
    and their labels joined by ` × `."""
    combined = np.zeros(parts[0][0].size, dtype=np.int64)
    for codes, labels in parts:
        combined = combined * len(labels) + codes
    present, codes = np.unique(combined, return_inverse=True)
    names = []
    for combination in present.tolist():
        digits, rest = [], combination
        for _, labels in reversed(parts):
            rest, digit = divmod(rest, len(labels))
            digits.append(labels[digit])
        names.append(" × ".join(reversed(digits)))
    return codes.astype(np.int32), names


def is_number(type_name: str) -> bool:
    upper = type_name.upper()
    return upper.startswith(_NUMBERS) or upper.startswith(_UNSIGNED)
