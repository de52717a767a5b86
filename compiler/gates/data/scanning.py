"""What the data gate's rule planners (`quality`, `table`) use of a scan.

The scan itself (`compiler.gates.data.scan.Scan`) imports the planners to plan its rules; they see it through
this protocol, so no module of the data gate imports one that imports it back.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, Protocol

from compiler.core.gate_report import GateReport
from compiler.gates.data.contract_rules import TableRules
from compiler.gates.data.parts import QualityRule, ScannedColumn
from compiler.gates.data.sql_rules import SqlRule

# Called with the values of the one aggregate query, once it has run.
Finisher = Callable[[list[Any]], None]


class Scanning(Protocol):
    """One table scanned in one query: the planners add aggregates and finishers that judge their values."""

    table: TableRules
    report: GateReport
    contract_data: Any
    single_table: bool
    now: datetime.datetime
    rows: int
    sql_rules: list[SqlRule]

    def aggregate(self, expression: str) -> int: ...

    def count_where(self, predicate: str) -> int: ...

    def later(self, finisher: Finisher) -> None: ...

    def count_duplicates(self, names: tuple[str, ...]) -> None: ...

    def duplicates(self, names: tuple[str, ...]) -> int: ...

    def valid_pattern(self, pattern: str) -> bool: ...

    def judge_rule(
        self, item: QualityRule, count: int, *, predicate: str | None = None, column: ScannedColumn | None = None
    ) -> None: ...
