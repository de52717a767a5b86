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
- Percent units are of all rows (nulls included). `unit: percent` on
  `rowCount`, or a unit that is neither `rows` nor `percent`, cannot be judged
  and fails the rule.
- Duplicates (`unique`, `duplicateValues`) are rows that repeat an earlier
  non-null value (or combination of values): `count - count distinct`, so a
  value seen three times counts 2 (pandas' `duplicated()`); datacontract-cli
  (Soda's `duplicate_count`) counts 1, the values that occur more than once.
- `missingValues` always counts NULL as missing, with the values its
  `arguments.missingValues` lists (as datacontract-cli does).
- Quality rules with `severity: warning` (or info) warn; others fail.
- `sql` rules run their query, fenced (see `sql_rules`); `text` and `custom`
  rules are listed as not checkable.
- `--server`: a database table gets every aggregate computed inside the
  database (one query, rendered in its dialect); object storage is scanned by
  DuckDB like local files.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from compiler.core.gate_report import GateReport
from compiler.gates.data import contract_rules as rules
from compiler.gates.data.contract_rules import TableRules
from compiler.gates.data.scan import Scan
from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import (
    connection,
    open_input,
)
from compiler.gates.project import ProjectSpecs


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
        source = open_input(options.data, server, "data", reach=project.reach)
    else:
        source = open_input(options.data, None, "data", reach=project.reach)
        table = _pick_table(all_tables, options.table, source.files)
    report = GateReport(
        "data",
        f"contract `{contract.id}` {contract.version or ''} · table `{table.name}` · {source.label}".replace("  ", " "),
        subject={"contract": contract.id, "version": contract.version, "table": table.name, "file": spec.file},
    )
    with connection(options.memory_limit, options.threads, (source,)) as con:
        Scan(
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
