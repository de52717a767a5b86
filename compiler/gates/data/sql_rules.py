"""ODCS `sql` quality rules: the contract's own queries, run so that they cannot escape.

A rule is one SELECT that returns one number, judged by the rule's `mustBe`,
`mustBeLessThan`, ... `${object}` (or `{object}`) stands for the table and
`${property}` (`{property}`) for the column. Two fences, each enough alone
for what it covers:
- Before running, sqlglot parses the query: one SELECT, reading only the
  contract's table (by `name` or `physicalName`); no table functions, no
  function sqlglot does not know (`pg_read_file`, `dblink`, `read_csv`...).
- Files and object storage: a DuckDB of its own that sees the data as a
  registered view, with `enable_external_access = false`, Python replacement
  scans off and `lock_configuration = true`, so the query cannot read a file,
  the network or change a setting. A database: a read-only transaction with a
  statement timeout.
A rule that is refused, or errors, fails (closed) with a finding naming it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from compiler.core import quality as odcs_rules
from compiler.core.gate_report import Check, Status, check
from compiler.gates.data import contract_rules as rules
from compiler.gates.errors import UnusableInput
from compiler.gates.io.engine_errors import engine_error
from compiler.gates.io.inputs import Source, quote, sql_string

RULE_TIMEOUT_SECONDS = 60.0
_PLACEHOLDERS = ("${object}", "{object}", "${table}", "{table}")
_COLUMN_PLACEHOLDERS = ("${property}", "{property}", "${column}", "{column}")


@dataclass(frozen=True)
class SqlRule:
    check_id: str
    title: str
    target: str
    rule: dict[str, Any]
    column: str | None


class Refused(Exception):
    """The query could escape its table: it is not run."""


def judge_all(
    pending: list[SqlRule], source: Source, table: rules.TableRules, like: duckdb.DuckDBPyConnection | None = None
) -> list[Check]:
    """Run every pending rule against the source; one check per rule.

    `like`: the gate's own connection, whose memory limit, threads and spill directory the rules' DuckDB takes,
    so that `--memory-limit` bounds the rules as it bounds the scan."""
    if not pending:
        return []
    names = {n for n in (table.name, table.physical_name) if n}
    runner = _runner(source, table, _limits(like))
    try:
        return [_judge(item, names, runner, source) for item in pending]
    finally:
        runner.close()


def _judge(item: SqlRule, names: set[str], runner: _Runner, source: Source) -> Check:
    query = item.rule.get("query")
    threshold = odcs_rules.threshold(item.rule, boolean=True)
    if not isinstance(query, str) or not query.strip():
        return _failed(item, "needs a `query`")
    if isinstance(threshold, str):  # a rule that cannot be judged fails closed, as a refused one does
        return _failed(item, f"cannot be judged: {threshold}")
    sql = _substitute(query, runner.table_sql, item.column)
    try:
        check_query(sql, names | runner.tables, runner.dialect)
        value = _result(runner.scalar(sql), threshold)
    except Refused as refused:
        return _failed(item, f"refused, not run: {refused}")
    except UnusableInput as error:
        return _failed(item, f"cannot be evaluated: {error.message}", error.code or "CH706")
    ok = threshold.holds(value)
    status: Status = "pass" if ok else ("warn" if odcs_rules.rule_is_warning(item.rule) else "fail")
    shown: int | float | bool = value if isinstance(value, bool) or not value.is_integer() else int(value)
    message = "the query returned " + (str(shown).lower() if isinstance(shown, bool) else f"{shown:,}")
    if not ok and isinstance(item.rule.get("description"), str):
        message += f". {item.rule['description'].strip()}"
    return check(
        "CH706",
        item.check_id,
        item.title,
        status,
        target=item.target,
        value=shown,
        expected=threshold.text(""),
        message=message,
        details={"engine": runner.dialect, "query": sql.strip()},
    )


def _result(value: Any, threshold: odcs_rules.Threshold) -> float | bool:
    """The query's one value as the threshold compares it: a boolean for `mustBe: true|false`, else a number.

    The value itself is never quoted: a query can return any cell of the table."""
    if threshold.boolean:
        if not isinstance(value, bool):
            raise UnusableInput(
                f"`{threshold.operator}: {str(threshold.bound).lower()}` needs the query to return "
                f"one boolean, and it returned {_kind(value)}"
            )
        return value
    if value is None or isinstance(value, bool) or (not isinstance(value, int | float) and not _is_decimal(value)):
        raise UnusableInput(f"the query must return one number, and it returned {_kind(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise UnusableInput("the query returned a value that is not a finite number")
    return number


def _kind(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float) or _is_decimal(value):
        return "a number"
    if isinstance(value, tuple):
        return f"{len(value)} columns"
    if isinstance(value, str):
        return "text"  # the type, never the value: a query can return aggregated data (`string_agg(email, ',')`)
    return f"a value of type {type(value).__name__}"


def _failed(item: SqlRule, why: str, code: str = "CH706") -> Check:
    label = rules.rule_label(item.rule, "sql rule")
    return check(code, item.check_id, item.title, "fail", target=item.target, message=f"sql rule `{label}` {why}")


def _is_decimal(value: Any) -> bool:
    import decimal

    return isinstance(value, decimal.Decimal)


def _substitute(query: str, table_sql: str, column: str | None) -> str:
    for placeholder in _PLACEHOLDERS:
        query = query.replace(placeholder, table_sql)
    if column is not None:
        for placeholder in _COLUMN_PLACEHOLDERS:
            query = query.replace(placeholder, quote(column))
    return query


def check_query(sql: str, tables: set[str], dialect: str) -> None:
    """Refuse anything but one SELECT over the contract's table."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as error:
        why = error.errors[0].get("description") if error.errors else "parse error"
        raise Refused(f"not valid {dialect} SQL ({why})") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise Refused("a rule is one SELECT statement")
    statement = statements[0]
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    allowed = {t.lower() for t in tables}
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise Refused(f"reads `{table.sql(dialect=dialect)}`, not the contract's table")
        name = ".".join(part.name for part in table.parts).lower()
        if name not in allowed and table.name.lower() not in ctes:
            raise Refused(f"reads `{name}`; a rule may read only {', '.join(sorted(tables))}")
    for function in statement.find_all(exp.Anonymous):
        raise Refused(f"calls `{function.name}`, which is not a standard SQL function")
    for node in statement.find_all(exp.Command, exp.Pragma, exp.Into):
        raise Refused(f"`{node.sql(dialect=dialect)[:60]}` is not a query")


class _Runner:
    dialect: str
    table_sql: str
    tables: frozenset[str] = frozenset()

    def scalar(self, sql: str) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        return None


class _DuckRunner(_Runner):
    """A DuckDB that sees only the data, as views named after the table; locked before any rule runs."""

    def __init__(self, dataset: Any, table: rules.TableRules, limits: dict[str, str] | None = None):
        self.dialect = "duckdb"
        self.con = duckdb.connect(":memory:")
        for name, value in (limits or {}).items():
            self.con.execute(f"SET {name} = {sql_string(value)}")
        self.con.execute("SET preserve_insertion_order = false")  # one number per rule: row order never matters
        self.con.execute("SET python_enable_replacements = false")
        self.con.register("charter_rule_data", dataset)
        names = [n for n in (table.physical_name, table.name) if n]
        for name in dict.fromkeys(names):
            parts = name.split(".")
            if len(parts) == 2:
                self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(parts[0])}")
            self.con.execute(f"CREATE VIEW {'.'.join(quote(p) for p in parts)} AS SELECT * FROM charter_rule_data")
        self.table_sql = ".".join(quote(p) for p in names[0].split("."))
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def scalar(self, sql: str) -> Any:
        timer = threading.Timer(RULE_TIMEOUT_SECONDS, self.con.interrupt)
        timer.start()
        try:
            row = self.con.execute(sql).fetchone()
        except duckdb.InterruptException:
            raise UnusableInput(f"took longer than {RULE_TIMEOUT_SECONDS:g} s") from None
        except duckdb.Error as error:
            raise engine_error(None, error) from None
        finally:
            timer.cancel()
        return row[0] if row is not None and len(row) == 1 else row

    def close(self) -> None:
        self.con.close()


class _DatabaseRunner(_Runner):
    """In the database: a read-only transaction with a statement timeout, rolled back."""

    def __init__(self, execute: Callable[[str], Any], dialect: str, schema: str, table: str):
        from compiler.gates.io.database import quoted

        self.execute = execute
        self.dialect = dialect
        self.table_sql = quoted(schema, table)
        self.tables = frozenset((f"{schema}.{table}", table))

    def scalar(self, sql: str) -> Any:
        return self.execute(sql)


_LIMITS = ("memory_limit", "threads", "temp_directory")


def _limits(con: duckdb.DuckDBPyConnection | None) -> dict[str, str]:
    """The settings that bound a DuckDB, as the gate's connection has them."""
    if con is None:
        return {}
    found = {}
    for name in _LIMITS:
        row = con.execute("SELECT current_setting(?)", [name]).fetchone()
        if row is not None and row[0] not in (None, ""):
            found[name] = str(row[0])
    return found


def _runner(source: Source, table: rules.TableRules, limits: dict[str, str]) -> _Runner:
    from compiler.gates.io.servers import ObjectStore, Table

    backend = source.backend
    if isinstance(backend, Table):
        session = backend.session

        def execute(sql: str) -> Any:
            return session.read_only_scalar(sql, int(RULE_TIMEOUT_SECONDS * 1000))

        return _DatabaseRunner(execute, session.dialect.sqlglot, backend.schema, backend.table)
    if isinstance(backend, ObjectStore):
        return _DuckRunner(backend.dataset(), table, limits)
    import pyarrow.dataset as ds

    files = list(source.files)
    return _DuckRunner(ds.dataset(files, format="csv" if source.format == "csv" else "parquet"), table, limits)
