"""`charter gate data`: real data against its ODCS contract, in bounded memory.

One streaming scan computes every count (nulls, values of the wrong type,
values outside the allowed set or range, duplicates, quality-rule counts, the
newest timestamp); DuckDB spills the distinct-value tables of the uniqueness
checks to disk past its memory limit, so memory stays bounded as files grow.
A failed check runs one more small query for example values. CSV is read as text and every
value is parsed as the column's logical type (a value that does not parse
is a type violation); Parquet's own column types are compared with the
contract's logical types.

Decisions:
- A column the contract names but the data lacks fails the gate (exit 1):
  it is exactly the kind of contract violation the gate exists to report,
  and the report lists every other problem with it. Files that cannot be
  read, or hold no rows, are unusable input (exit 2).
- Percent units are of all rows. Duplicates are rows that repeat an earlier
  non-null value (or combination of values): `count - count distinct`.
- Quality rules with `severity: warning` (or info) warn; others fail.
- `sql` rules run their query, fenced (see `sql_rules`); `text` and `custom`
  rules are listed as not checkable.
- `--server`: a database table gets every aggregate computed inside the
  database (one query, rendered in its dialect); object storage is scanned by
  DuckDB like local files.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from compiler.gates import contract_rules as rules
from compiler.gates.contract_rules import ColumnRules, Freshness, TableRules
from compiler.gates.database import duckdb_text
from compiler.gates.errors import UnusableInput
from compiler.gates.io import Source, canonical, columns, connection, open_input, query, quote, sql_literal, sql_string
from compiler.gates.project import ProjectSpecs
from compiler.gates.report import Check, GateReport, Status, check, measured, show
from compiler.gates.sql_rules import SqlRule, judge_all

_INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
)
_FLOAT_TYPES = frozenset(("FLOAT", "DOUBLE", "REAL"))
_CAST = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "time": "TIME",
}
_EXAMPLES = 3
_MAX_EXAMPLE_QUERIES = 12


@dataclass(frozen=True)
class DataOptions:
    contract: str
    data: Sequence[str] = ()
    server: str | None = None
    contract_version: str | None = None
    table: str | None = None
    memory_limit: str | None = None
    threads: int | None = None
    now: datetime.datetime | None = None


def run(project: ProjectSpecs, options: DataOptions) -> GateReport:
    spec = project.contract(options.contract, options.contract_version)
    assert spec.contract is not None
    all_tables = rules.tables(spec.data)
    contract = spec.contract
    if options.server is not None:
        table = _pick_table(all_tables, options.table, ())
        server = (spec.data, contract.id, options.server, table.physical_name or table.name)
        source = open_input(options.data, server, "data")
    else:
        source = open_input(options.data, None, "data")
        table = _pick_table(all_tables, options.table, source.files)
    report = GateReport(
        "data",
        f"contract `{contract.id}` {contract.version or ''} · table `{table.name}` · {source.label}".replace("  ", " "),
        subject={"contract": contract.id, "version": contract.version, "table": table.name, "file": spec.file},
    )
    with connection(options.memory_limit, options.threads, (source,)) as con:
        _Scan(
            con,
            source,
            table,
            report=report,
            contract_data=spec.data,
            single_table=len(all_tables) == 1,
            now=options.now,
        ).run()
    return report


def _pick_table(tables: list[TableRules], wanted: str | None, files: Sequence[str]) -> TableRules:
    if not tables:
        raise UnusableInput("the contract has no `schema` table to check the data against")
    if wanted is not None:
        for table in tables:
            if wanted in (table.name, table.physical_name):
                return table
        raise UnusableInput(
            f"the contract has no table `{wanted}`", hint=f"tables: {', '.join(t.name for t in tables)}"
        )
    if len(tables) == 1:
        return tables[0]
    stems = {f.rsplit("/", 1)[-1].split(".", 1)[0] for f in files}
    named = [t for t in tables if t.name in stems or t.physical_name in stems]
    if len(named) == 1:
        return named[0]
    raise UnusableInput(
        f"the contract has {len(tables)} tables; say which one the data holds",
        hint=f"add --table with one of: {', '.join(t.name for t in tables)}",
    )


@dataclass(frozen=True)
class _Rule:
    check_id: str
    title: str
    target: str | None
    rule: dict[str, Any]
    threshold: rules.Threshold


@dataclass
class _Column:
    rules: ColumnRules
    data_name: str
    data_type: str
    raw: str
    typed: str
    numeric: bool
    nulls: int = -1


Finisher = Callable[[list[Any]], None]


class _Scan:
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

    def examples(self, column: _Column, predicate: str) -> list[str]:
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
            {"path": self.source.label, "files": list(self.source.files), "format": self.source.format}
        )
        rows_index = self.aggregate("count(*)")
        found: list[_Column] = []
        for column_rules in self.table.columns:
            column = self.locate(column_rules, available)
            if column is None:
                continue
            found.append(column)
            self.plan_column(column)
        extra = [name for name in available if name not in {c.data_name for c in found}]
        if extra:
            self.report.notes.append(f"{len(extra)} column(s) not in the contract: {', '.join(extra[:20])}")
        self.plan_freshness({c.rules.name: c for c in found})
        self.plan_table_duplicates({c.rules.name: c for c in found})
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
        self.table_rules({c.rules.name: c for c in found})
        for judged in judge_all(self.sql_rules, self.source, self.table):
            self.report.add(judged)
        self.report.details["columns"] = self.column_profile(found, values)
        order = {c.name: i for i, c in enumerate(self.table.columns)}
        self.report.checks.sort(key=lambda c: order.get(measured(c).target or "", len(order)))

    def locate(self, column_rules: ColumnRules, available: dict[str, str]) -> _Column | None:
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
        typed, numeric = raw, _numeric_type(data_type) and not self.csv
        if logical in _CAST and (self.csv or not _compatible(logical, data_type)):
            typed = _parse(raw if self.csv else f"CAST({raw} AS VARCHAR)", logical)
        if logical in ("integer", "number"):
            numeric = True
        return _Column(column_rules, data_name, data_type, raw, typed, numeric)

    # --- per column -------------------------------------------------------------

    def plan_column(self, column: _Column) -> None:
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
            predicate = f"{column.typed} IS NOT NULL AND NOT ({_membership(column, column.rules.allowed)})"
            index = self.count_where(predicate)
            shown = ", ".join(canonical(v) for v in column.rules.allowed[:12])
            title = f"values in {column.rules.allowed_from}: {shown}" + (
                "..." if len(column.rules.allowed) > 12 else ""
            )
            self.later(lambda v: self.count_check(column, "allowed", title, v[index], predicate))
        self.plan_options(column)
        for position, rule in enumerate(column.rules.quality):
            self.plan_rule(column, position, rule, nulls)

    def plan_type(self, column: _Column) -> None:
        logical = column.rules.logical_type
        name = column.rules.name
        check_id, title = f"{name}.type", f"`{name}` is {logical}"
        if logical is None:
            return
        if not self.csv:
            ok = _compatible(logical, column.data_type)
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
        if logical not in _CAST:
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

    def plan_options(self, column: _Column) -> None:
        options = column.rules.options
        logical = column.rules.logical_type
        name = column.rules.name
        bounds: list[tuple[str, str]] = []
        if logical in ("integer", "number", "date", "timestamp", "time"):
            cast = _CAST.get(logical or "", "DOUBLE")
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

    def count_check(self, column: _Column, key: str, title: str, count: Any, predicate: str | None) -> None:
        name = column.rules.name
        bad = int(count)
        if not bad:
            self.report.add(
                check(
                    _count_code(key), f"{name}.{key}", f"`{name}` {title}", "pass", target=name, value=0, expected="0"
                )
            )
            return
        shown = ", ".join(repr(e) for e in self.examples(column, predicate)) if predicate else ""
        self.report.add(
            check(
                _count_code(key),
                f"{name}.{key}",
                f"`{name}` {title}",
                "fail",
                target=name,
                value=bad,
                expected="0",
                message=f"{bad:,} of {self.rows:,} rows ({_percent(bad, self.rows)})"
                + (f", e.g. {shown}" if shown else ""),
            )
        )

    def unique_check(self, column: _Column) -> None:
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

    def plan_rule(self, column: _Column, position: int, rule: dict[str, Any], nulls: int) -> None:
        name = column.rules.name
        kind = rules.rule_kind(rule)
        metric = rules.rule_metric(rule)
        check_id = f"{name}.quality[{position}]"
        label = rules.rule_label(rule, metric or kind)
        title = f"`{name}` {label}"
        if kind == "sql":
            self.sql_rules.append(SqlRule(check_id, title, name, rule, column.data_name))
            return
        if kind != "library" or metric is None:
            self.report.add(_not_checkable(check_id, title, name, kind, rule))
            return
        threshold = rules.threshold(rule)
        if isinstance(threshold, str):
            self.report.add(check("CH705", check_id, title, "skipped", target=name, message=threshold))
            return
        item = _Rule(check_id, title, name, rule, threshold)
        if metric == "duplicateValues":
            self.count_duplicates((column.data_name,))
            self.later(lambda v: self.judge_rule(item, self.duplicates((column.data_name,)), column=column))
            return
        try:
            index, predicate = self.rule_count(column, metric, rule, nulls)
        except _Skipped as skipped:
            self.report.add(check(skipped.code, check_id, title, "skipped", target=name, message=skipped.message))
            return
        self.later(lambda v: self.judge_rule(item, int(v[index]), predicate=predicate, column=column))

    def rule_count(self, column: _Column, metric: str, rule: dict[str, Any], nulls: int) -> tuple[int, str | None]:
        """Where the scan counts the rows a library quality rule is about, and the predicate that finds them."""
        if metric == "nullValues":
            return nulls, f"{column.raw} IS NULL"
        if metric == "rowCount":
            return 0, None
        arguments = rule.get("arguments") if isinstance(rule.get("arguments"), dict) else {}
        assert isinstance(arguments, dict)
        if metric == "missingValues":
            missing = _list(arguments.get("missingValues"))
            texts = [sql_string(canonical(v)) for v in missing if v is not None]
            parts = [f"{column.raw} IS NULL"] if (None in missing or not missing) else []
            if texts:
                parts.append(f"CAST({column.raw} AS VARCHAR) IN ({', '.join(texts)})")
            predicate = " OR ".join(parts)
            return self.count_where(predicate), predicate
        if metric != "invalidValues":
            raise _Skipped("CH707", f"unknown library metric `{metric}`")
        valid, pattern = arguments.get("validValues"), arguments.get("pattern")
        tests = [_membership(column, tuple(valid))] if isinstance(valid, list) else []
        if isinstance(pattern, str):
            if not self.valid_pattern(pattern):
                raise _Skipped("CH705", "invalid `pattern`")
            tests.append(f"regexp_matches(CAST({column.typed} AS VARCHAR), {sql_string(pattern)})")
        if not tests:
            raise _Skipped("CH705", "invalidValues needs validValues or pattern")
        predicate = f"{column.typed} IS NOT NULL AND NOT ({' AND '.join(tests)})"
        return self.count_where(predicate), predicate

    def judge_rule(
        self, item: _Rule, count: int, *, predicate: str | None = None, column: _Column | None = None
    ) -> None:
        check_id, title, target, rule, threshold = item.check_id, item.title, item.target, item.rule, item.threshold
        metric = rules.rule_metric(rule)
        percent = str(rule.get("unit", "rows")).lower() in ("percent", "%", "pct") and metric != "rowCount"
        value: float | int = 100.0 * count / self.rows if percent else count
        ok = threshold.holds(float(value))
        status: Status = "pass" if ok else ("warn" if rules.rule_is_warning(rule) else "fail")
        message = f"{metric}: {count:,} of {self.rows:,} rows" if metric != "rowCount" else f"{count:,} rows"
        if percent:
            message += f" ({_percent(count, self.rows)})"
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

    def plan_table_duplicates(self, found: dict[str, _Column]) -> None:
        for rule in self.table.quality:
            if rules.rule_kind(rule) != "library" or rules.rule_metric(rule) != "duplicateValues":
                continue
            names = _properties(rule)
            if names and all(n in found for n in names):
                self.count_duplicates(tuple(found[n].data_name for n in names))

    def table_rules(self, found: dict[str, _Column]) -> None:
        for position, rule in enumerate(self.table.quality):
            kind = rules.rule_kind(rule)
            metric = rules.rule_metric(rule)
            check_id = f"{self.table.name}.quality[{position}]"
            title = f"table `{self.table.name}` {rules.rule_label(rule, metric or kind)}"
            if kind == "sql":
                self.sql_rules.append(SqlRule(check_id, title, self.table.name, rule, None))
                continue
            if kind != "library" or metric is None:
                self.report.add(_not_checkable(check_id, title, self.table.name, kind, rule))
                continue
            threshold = rules.threshold(rule)
            if isinstance(threshold, str):
                self.report.add(check("CH705", check_id, title, "skipped", target=self.table.name, message=threshold))
                continue
            if metric == "rowCount":
                self.judge_rule(_Rule(check_id, title, self.table.name, rule, threshold), self.rows)
            elif metric == "duplicateValues":
                names = _properties(rule)
                if not names:
                    self.report.add(
                        check(
                            "CH705",
                            check_id,
                            title,
                            "skipped",
                            target=self.table.name,
                            message="needs arguments.properties",
                        )
                    )
                    continue
                missing = [n for n in names if n not in found]
                if missing:
                    self.report.add(
                        check(
                            "CH705",
                            check_id,
                            title,
                            "fail",
                            target=self.table.name,
                            message=f"column(s) missing: {', '.join(missing)}",
                        )
                    )
                    continue
                count = self.duplicates(tuple(found[n].data_name for n in names))
                self.judge_rule(_Rule(check_id, title, self.table.name, rule, threshold), count)
            else:
                self.report.add(
                    check(
                        "CH707",
                        check_id,
                        title,
                        "skipped",
                        target=self.table.name,
                        message=f"`{metric}` is a column metric; put it under the column's `quality`",
                    )
                )

    # --- freshness ------------------------------------------------------------------

    def plan_freshness(self, found: dict[str, _Column]) -> None:
        for item in rules.freshness_rules(self.contract_data, self.table, self.single_table):
            if isinstance(item, str):
                self.report.add(check("CH708", "freshness", "freshness", "skipped", message=item))
                continue
            column = found.get(item.column)
            if column is None:
                self.report.add(
                    check(
                        "CH708",
                        f"{item.column}.freshness",
                        f"freshness of `{item.column}`",
                        "skipped",
                        target=item.column,
                        message="the column is missing",
                    )
                )
                continue
            logical = column.rules.logical_type
            if logical == "date":
                index = self.aggregate(f"max(CAST({column.typed} AS DATE))")
            else:
                typed = column.typed if logical == "timestamp" else _parse(column.raw, "timestamp")
                index = self.aggregate(f"epoch(max({typed}))")

            def finish(
                values: list[Any], item: Freshness = item, index: int = index, logical: str | None = logical
            ) -> None:
                self.freshness_check(item, values[index], logical == "date")

            self.later(finish)

    def freshness_check(self, item: Freshness, newest: Any, is_date: bool) -> None:
        check_id, title = f"{item.column}.freshness", f"freshness of `{item.column}` ({item.text})"
        limit = datetime.timedelta(seconds=item.seconds)
        if newest is None:
            self.report.add(
                check("CH708", check_id, title, "fail", target=item.column, message="no value to date the data by")
            )
            return
        if is_date:
            newest_time = datetime.datetime.combine(newest, datetime.time(), datetime.UTC)
            age = datetime.timedelta(days=(self.now.date() - newest).days)
            shown = newest.isoformat()
        else:
            newest_time = datetime.datetime.fromtimestamp(float(newest), datetime.UTC)
            age = self.now - newest_time
            shown = newest_time.isoformat()
        ok = age <= limit
        self.report.add(
            check(
                "CH708",
                check_id,
                title,
                "pass" if ok else "fail",
                target=item.column,
                value=_duration(age),
                expected=f"≤ {_duration(limit)}",
                message=f"newest value {shown}, checked at {self.now.isoformat(timespec='seconds')}",
                details={
                    "newest": newest_time.isoformat(),
                    "ageSeconds": age.total_seconds(),
                    "limitSeconds": item.seconds,
                },
            )
        )

    # --- profile --------------------------------------------------------------------

    def column_profile(self, found: list[_Column], values: list[Any]) -> list[dict[str, Any]]:
        by_target: dict[str, list[str]] = {}
        for finding in self.report.checks:
            target = measured(finding).target
            if target is not None:
                by_target.setdefault(target, []).append(measured(finding).status)
        located = {c.rules.name: c for c in found}
        profile = []
        for column_rules in self.table.columns:
            statuses = by_target.get(column_rules.name, [])
            column = located.get(column_rules.name)
            nulls = int(values[column.nulls]) if column is not None else None
            profile.append(
                {
                    "column": column_rules.name,
                    "present": column is not None,
                    "dataColumn": column.data_name if column is not None else None,
                    "logicalType": column_rules.logical_type,
                    "dataType": column.data_type if column is not None else None,
                    "nulls": nulls,
                    "nullPercent": 100.0 * nulls / self.rows if nulls is not None else None,
                    "failed": statuses.count("fail"),
                    "warned": statuses.count("warn"),
                    "passed": statuses.count("pass"),
                }
            )
        return profile


class _Skipped(Exception):
    """A quality rule the gate does not judge, with the code and the reason its skipped check shows."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _count_code(key: str) -> str:
    """A count of offending rows: nulls in a required column (CH702), or values outside what the column allows."""
    return "CH702" if key == "required" else "CH704"


def _not_checkable(check_id: str, title: str, target: str, kind: str, rule: dict[str, Any]) -> Check:
    what = rule.get("description") or rule.get("query") or rule.get("engine") or ""
    return check(
        "CH707",
        check_id,
        title,
        "skipped",
        target=target,
        message=f"not checkable: a `{kind}` rule" + (f" ({str(what).strip()[:120]})" if what else ""),
    )


def _parse(text: str, logical: str) -> str:
    """SQL that parses a text value as the logical type; NULL when it does not parse."""
    if logical == "integer":
        return f"CASE WHEN TRY_CAST({text} AS DOUBLE) = TRY_CAST({text} AS BIGINT) THEN TRY_CAST({text} AS BIGINT) END"
    return f"TRY_CAST({text} AS {_CAST[logical]})"


def _base(data_type: str) -> str:
    return re.sub(r"\(.*$", "", data_type.strip().upper())


def _numeric_type(data_type: str) -> bool:
    base = _base(data_type)
    return base in _INTEGER_TYPES or base in _FLOAT_TYPES or base == "DECIMAL"


def _compatible(logical: str, data_type: str) -> bool:
    """Whether a DuckDB column type holds the contract's logical type."""
    upper = data_type.strip().upper()
    base = _base(upper)
    if upper.endswith("]"):
        if logical == "vector":
            return _numeric_type(upper[: upper.rindex("[")])
        return logical == "array"
    if logical == "string":
        return base in ("VARCHAR", "UUID", "ENUM", "JSON")
    if logical == "integer":
        return base in _INTEGER_TYPES or (base == "DECIMAL" and upper.replace(" ", "").endswith(",0)"))
    if logical == "number":
        return _numeric_type(upper)
    if logical == "boolean":
        return base == "BOOLEAN"
    if logical == "date":
        return base == "DATE"
    if logical == "timestamp":
        return base.startswith("TIMESTAMP") or base == "DATETIME"
    if logical == "time":
        return base.startswith("TIME") and not base.startswith("TIMESTAMP")
    if logical == "object":
        return base in ("STRUCT", "JSON", "MAP")
    if logical == "map":
        return base == "MAP"
    return True


def _membership(column: _Column, values: tuple[Any, ...]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "FALSE"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if column.numeric and numbers:
        return f"{column.typed} IN ({', '.join(sql_literal(v) for v in present)})"
    if column.rules.logical_type == "boolean" and all(isinstance(v, bool) for v in present):
        return f"{column.typed} IN ({', '.join(sql_literal(v) for v in present)})"
    return f"CAST({column.typed} AS VARCHAR) IN ({', '.join(sql_string(canonical(v)) for v in present)})"


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.3g}%" if whole else "n/a"


def _duration(delta: datetime.timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{show(seconds / size)} {unit}"
    return f"{show(seconds)} s"


def _properties(rule: dict[str, Any]) -> list[str]:
    arguments = rule.get("arguments")
    properties = arguments.get("properties") if isinstance(arguments, dict) else None
    return [n for n in _list(properties) if isinstance(n, str)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
