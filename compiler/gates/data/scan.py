"""The data gate's one scan of a table: every column's counts as aggregates of one query, each judged by a
finisher once the values are in; the planners of quality rules (`quality`) and table rules (`table`) add theirs.
"""

from __future__ import annotations

import datetime
from typing import Any

import duckdb

from compiler.core import quality as odcs_rules
from compiler.core.gate_report import GateReport, Status, check, measured
from compiler.gates.data import quality as data_quality
from compiler.gates.data import table as data_table
from compiler.gates.data.contract_rules import ColumnRules, TableRules
from compiler.gates.data.parts import (
    CAST_TYPES,
    QualityRule,
    ScannedColumn,
    compatible_type,
    count_code,
    membership,
    numeric_type,
    parsed_as,
    percent_of,
)
from compiler.gates.data.scanning import Finisher
from compiler.gates.data.sql_rules import SqlRule, judge_all
from compiler.gates.errors import UnusableInput
from compiler.gates.io.database import duckdb_text
from compiler.gates.io.digests import input_digests
from compiler.gates.io.inputs import (
    Source,
    canonical,
    columns,
    query,
    quote,
    sql_literal,
    sql_string,
)

_EXAMPLES = 3
_MAX_EXAMPLE_QUERIES = 12


class Scan:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Source,
        table: TableRules,
        *,
        report: GateReport,
        contract_data: Any,
        single_table: bool,
        now: datetime.datetime | None,
    ):
        self.con = con
        self.source = source
        self.table = table
        self.report = report
        self.contract_data = contract_data
        self.single_table = single_table
        self.now = now or datetime.datetime.now(datetime.UTC)
        self.csv = source.format == "csv"
        self.relation = source.relation(all_varchar=self.csv)
        self.aggregates: list[str] = []
        self.finishers: list[Finisher] = []
        self.rows = 0
        self.example_queries = 0
        self.duplicate_index: dict[tuple[str, ...], int] = {}
        self.values: list[Any] = []
        self.sql_rules: list[SqlRule] = []

    # --- plumbing -------------------------------------------------------------

    def aggregate(self, expression: str) -> int:
        self.aggregates.append(expression)
        return len(self.aggregates) - 1

    def count_where(self, predicate: str) -> int:
        return self.aggregate(f"count(*) FILTER (WHERE {predicate})")

    def later(self, finisher: Finisher) -> None:
        self.finishers.append(finisher)

    def examples(self, column: ScannedColumn, predicate: str) -> list[str]:
        if self.example_queries >= _MAX_EXAMPLE_QUERIES:
            return []
        self.example_queries += 1
        # Sorted, so the same rows give the same examples in every engine; a database sends the
        # value itself, written as DuckDB writes it (PostgreSQL prints 100.0 as `100`).
        pushed = self.source.backend is not None and self.source.backend.database is not None
        sql = (
            f"SELECT DISTINCT CAST({column.raw} AS VARCHAR) AS example{f', {column.raw}' if pushed else ''} "
            f"FROM {self.relation} WHERE {predicate} ORDER BY example LIMIT {_EXAMPLES}"
        )
        rows = query(self.con, sql, self.source).fetchall()
        return [duckdb_text(row[1]) if pushed else str(row[0]) for row in rows]

    def count_duplicates(self, names: tuple[str, ...]) -> None:
        """Plan: rows that repeat an earlier non-null value (or combination) of these columns.

        `count - count(DISTINCT)` in the one scan; DuckDB's distinct aggregate
        spills to disk past the memory limit, like a GROUP BY.
        """
        if names in self.duplicate_index:
            return
        if len(names) == 1:
            expression = f"count({quote(names[0])}) - count(DISTINCT {quote(names[0])})"
        else:
            present = " AND ".join(f"{quote(n)} IS NOT NULL" for n in names)
            key = "(" + ", ".join(quote(n) for n in names) + ")"
            expression = f"count(*) FILTER (WHERE {present}) - count(DISTINCT {key}) FILTER (WHERE {present})"
        self.duplicate_index[names] = self.aggregate(expression)

    def duplicates(self, names: tuple[str, ...]) -> int:
        return int(self.values[self.duplicate_index[names]])

    # --- the run ---------------------------------------------------------------

    def run(self) -> None:
        available = columns(self.con, self.source, all_varchar=self.csv)
        self.report.inputs.append(
            {
                "path": self.source.label,
                "files": list(self.source.files),
                "format": self.source.format,
                **input_digests(self.source),
                **({"dvc": self.source.version} if self.source.version else {}),
            }
        )
        rows_index = self.aggregate("count(*)")
        found: list[ScannedColumn] = []
        for column_rules in self.table.columns:
            column = self.locate(column_rules, available)
            if column is None:
                continue
            found.append(column)
            self.plan_column(column)
        extra = [name for name in available if name not in {c.data_name for c in found}]
        if extra:
            self.report.notes.append(f"{len(extra)} column(s) not in the contract: {', '.join(extra[:20])}")
        data_table.plan_freshness(self, {c.rules.name: c for c in found})
        data_table.plan_table_duplicates(self, {c.rules.name: c for c in found})
        sql = f"SELECT {', '.join(self.aggregates)} FROM {self.relation}"
        row = query(self.con, sql, self.source).fetchone()
        values = self.values = list(row) if row else []
        self.rows = int(values[rows_index])
        self.report.inputs[-1]["rows"] = self.rows
        self.report.headline += f" · {self.rows:,} rows"
        if self.rows == 0:
            raise UnusableInput(f"{self.source.label}: no rows (only a header, or empty parts)")
        for finish in self.finishers:
            finish(values)
        data_table.table_rules(self, {c.rules.name: c for c in found})
        for judged in judge_all(self.sql_rules, self.source, self.table, like=self.con):
            self.report.add(judged)
        self.report.details["columns"] = data_table.column_profile(self, found, values)
        order = {c.name: i for i, c in enumerate(self.table.columns)}
        self.report.checks.sort(key=lambda c: order.get(measured(c).target or "", len(order)))

    def locate(self, column_rules: ColumnRules, available: dict[str, str]) -> ScannedColumn | None:
        name = column_rules.name
        data_name = name if name in available else column_rules.physical_name
        if data_name is None or data_name not in available:
            lowered = {n.lower(): n for n in available}
            hint = f"; `{lowered[name.lower()]}` differs only in case" if name.lower() in lowered else ""
            self.report.add(
                check(
                    "CH700",
                    f"{name}.present",
                    f"`{name}` is present",
                    "fail",
                    target=name,
                    message=f"the data has no column `{name}`{hint}",
                )
            )
            return None
        data_type = available[data_name]
        raw = quote(data_name)
        logical = column_rules.logical_type
        typed, numeric = raw, numeric_type(data_type) and not self.csv
        if logical in CAST_TYPES and (self.csv or not compatible_type(logical, data_type)):
            typed = parsed_as(raw if self.csv else f"CAST({raw} AS VARCHAR)", logical)
        if logical in ("integer", "number"):
            numeric = True
        return ScannedColumn(column_rules, data_name, data_type, raw, typed, numeric)

    # --- per column -------------------------------------------------------------

    def plan_column(self, column: ScannedColumn) -> None:
        name = column.rules.name
        self.report.add(check("CH700", f"{name}.present", f"`{name}` is present", "pass", target=name))
        self.plan_type(column)
        nulls = self.aggregate(f"count(*) - count({column.raw})")
        column.nulls = nulls
        if column.rules.required:
            self.later(lambda v: self.count_check(column, "required", "required: no nulls", v[nulls], None))
        if column.rules.unique:
            self.count_duplicates((column.data_name,))
            self.later(lambda v: self.unique_check(column))
        if column.rules.allowed is not None:
            predicate = f"{column.typed} IS NOT NULL AND NOT ({membership(column, column.rules.allowed)})"
            index = self.count_where(predicate)
            shown = ", ".join(canonical(v) for v in column.rules.allowed[:12])
            title = f"values in {column.rules.allowed_from}: {shown}" + (
                "..." if len(column.rules.allowed) > 12 else ""
            )
            self.later(lambda v: self.count_check(column, "allowed", title, v[index], predicate))
        self.plan_options(column)
        for position, rule in enumerate(column.rules.quality):
            data_quality.plan_rule(self, column, position, rule, nulls)

    def plan_type(self, column: ScannedColumn) -> None:
        logical = column.rules.logical_type
        name = column.rules.name
        check_id, title = f"{name}.type", f"`{name}` is {logical}"
        if logical is None:
            return
        if not self.csv:
            ok = compatible_type(logical, column.data_type)
            self.report.add(
                check(
                    "CH701",
                    check_id,
                    title,
                    "pass" if ok else "fail",
                    target=name,
                    value=column.data_type,
                    expected=logical,
                    message="" if ok else f"the file stores `{name}` as {column.data_type}",
                )
            )
            return
        if logical not in CAST_TYPES:
            if logical != "string":
                self.report.add(
                    check(
                        "CH701", check_id, title, "skipped", target=name, message=f"a CSV cannot hold {logical} values"
                    )
                )
            return
        predicate = f"{column.raw} IS NOT NULL AND {column.typed} IS NULL"
        index = self.count_where(predicate)

        def finish(values: list[Any]) -> None:
            bad = int(values[index])
            if not bad:
                self.report.add(
                    check("CH701", check_id, title, "pass", target=name, value=0, expected="0 unparsable values")
                )
                return
            shown = ", ".join(repr(e) for e in self.examples(column, predicate))
            self.report.add(
                check(
                    "CH701",
                    check_id,
                    title,
                    "fail",
                    target=name,
                    value=bad,
                    expected="0 unparsable values",
                    message=f"{bad:,} value(s) are not {logical}" + (f", e.g. {shown}" if shown else ""),
                )
            )

        self.later(finish)

    def plan_options(self, column: ScannedColumn) -> None:
        options = column.rules.options
        logical = column.rules.logical_type
        name = column.rules.name
        bounds: list[tuple[str, str]] = []
        if logical in ("integer", "number", "date", "timestamp", "time"):
            cast = CAST_TYPES.get(logical or "", "DOUBLE")
            for key, symbol in (
                ("minimum", ">="),
                ("maximum", "<="),
                ("exclusiveMinimum", ">"),
                ("exclusiveMaximum", "<"),
            ):
                if key in options and options[key] is not None and not isinstance(options[key], bool):
                    literal = f"CAST({sql_literal(options[key])} AS {cast})"
                    bounds.append((f"{key} {options[key]}", f"{column.typed} {symbol} {literal}"))
        if logical == "string":
            for key, symbol in (("minLength", ">="), ("maxLength", "<=")):
                if isinstance(options.get(key), int):
                    bounds.append((f"{key} {options[key]}", f"length({column.typed}) {symbol} {options[key]}"))
            pattern = options.get("pattern")
            if isinstance(pattern, str):
                if self.valid_pattern(pattern):
                    bounds.append((f"pattern {pattern}", f"regexp_matches({column.typed}, {sql_string(pattern)})"))
                else:
                    self.report.add(
                        check(
                            "CH704",
                            f"{name}.pattern",
                            f"`{name}` matches {pattern}",
                            "skipped",
                            target=name,
                            message="the pattern is not a valid regular expression",
                        )
                    )
        for label, holds in bounds:
            predicate = f"{column.typed} IS NOT NULL AND NOT ({holds})"
            index = self.count_where(predicate)
            key = label.split(" ", 1)[0]

            def finish(
                values: list[Any], index: int = index, label: str = label, predicate: str = predicate, key: str = key
            ) -> None:
                self.count_check(column, key, label, values[index], predicate)

            self.later(finish)

    def valid_pattern(self, pattern: str) -> bool:
        try:
            self.con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchone()
        except duckdb.Error:
            return False
        return True

    def count_check(self, column: ScannedColumn, key: str, title: str, count: Any, predicate: str | None) -> None:
        name = column.rules.name
        bad = int(count)
        if not bad:
            self.report.add(
                check(count_code(key), f"{name}.{key}", f"`{name}` {title}", "pass", target=name, value=0, expected="0")
            )
            return
        shown = ", ".join(repr(e) for e in self.examples(column, predicate)) if predicate else ""
        self.report.add(
            check(
                count_code(key),
                f"{name}.{key}",
                f"`{name}` {title}",
                "fail",
                target=name,
                value=bad,
                expected="0",
                message=f"{bad:,} of {self.rows:,} rows ({percent_of(bad, self.rows)})"
                + (f", e.g. {shown}" if shown else ""),
            )
        )

    def unique_check(self, column: ScannedColumn) -> None:
        name = column.rules.name
        duplicates = self.duplicates((column.data_name,))
        self.report.add(
            check(
                "CH703",
                f"{name}.unique",
                f"`{name}` unique: no duplicates",
                "fail" if duplicates else "pass",
                target=name,
                value=duplicates,
                expected="0",
                message=f"{duplicates:,} rows repeat an earlier value" if duplicates else "",
            )
        )

    # --- quality rules ------------------------------------------------------------

    def judge_rule(
        self, item: QualityRule, count: int, *, predicate: str | None = None, column: ScannedColumn | None = None
    ) -> None:
        check_id, title, target, rule, threshold = item.check_id, item.title, item.target, item.rule, item.threshold
        metric = odcs_rules.rule_metric(rule)
        percent = threshold.percent
        value: float | int = 100.0 * count / self.rows if percent else count
        ok = threshold.holds(float(value))
        status: Status = "pass" if ok else ("warn" if odcs_rules.rule_is_warning(rule) else "fail")
        message = f"{metric}: {count:,} of {self.rows:,} rows" if metric != "rowCount" else f"{count:,} rows"
        if percent:
            message += f" ({percent_of(count, self.rows)})"
        if not ok and predicate and column is not None:
            shown = ", ".join(repr(e) for e in self.examples(column, predicate) if e is not None)
            if shown and metric != "nullValues":
                message += f", e.g. {shown}"
        if isinstance(rule.get("description"), str) and not ok:
            message += f". {rule['description'].strip()}"
        self.report.add(
            check(
                "CH705",
                check_id,
                title,
                status,
                target=target,
                value=round(value, 6) if percent else value,
                unit="%" if percent else "",
                expected=threshold.text("%" if percent else ""),
                message=message,
                details={"metric": metric, "count": count, "rows": self.rows, "unit": "percent" if percent else "rows"},
            )
        )

    # --- freshness ------------------------------------------------------------------

    # --- profile --------------------------------------------------------------------
