"""Engines without a read-only session (Spark, Snowflake): every statement is parsed first, only a query runs;
and the statement timeout every engine's session gets."""

from __future__ import annotations

import os

from compiler.gates.errors import UnusableInput
from compiler.gates.io.database import DEFAULT_STATEMENT_TIMEOUT_MS

NOT_A_QUERY = "CH786"


def only_a_query(sql: str, dialect: str) -> None:
    """Refuse anything but one query (SELECT) before the engine sees it."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.ParseError:
        raise UnusableInput(f"the statement is not valid {dialect} SQL; not run", code=NOT_A_QUERY) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise UnusableInput("a gate runs only one query (SELECT) there; not run", code=NOT_A_QUERY)


def timeout_ms() -> int:
    """CHARTER_GATE_STATEMENT_TIMEOUT_MS, else 30 minutes."""
    timeout = os.environ.get("CHARTER_GATE_STATEMENT_TIMEOUT_MS", str(DEFAULT_STATEMENT_TIMEOUT_MS))
    if not timeout.isdigit():
        raise UnusableInput(f"CHARTER_GATE_STATEMENT_TIMEOUT_MS={timeout!r}: not a number of milliseconds")
    return int(timeout)
