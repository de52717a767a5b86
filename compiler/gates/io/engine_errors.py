"""An engine's error as a gate may show it: its kind always, its text only when it cannot hold data (CH751).

DuckDB, PostgreSQL and pyarrow quote the values they choke on: a `sql` quality rule that casts
`string_agg(national_id, ',')` to an integer makes the error message carry every national id, and a CSV
parse error carries the row. Gate reports, summaries and evidence are read by whoever can read the workflow
run, so an error raised while data is read is shown by kind only (DuckDB's exception class, PostgreSQL's
SQLSTATE and condition name). Errors raised before a row is read (parsing, binding, catalogue lookups,
connection and permission failures) keep their first line: they name the query's own words and the schema.
"""

from __future__ import annotations

import re

from compiler.gates.errors import UnusableInput

ENGINE_ERROR = "CH751"
WITHHELD = "its message is withheld, since it may quote the data"

# DuckDB exception classes raised before any row is read, or about files rather than their content.
_DUCKDB_WITHOUT_DATA = frozenset(
    {
        "ParserException",
        "BinderException",
        "CatalogException",
        "SyntaxException",
        "PermissionException",
        "InterruptException",
        "OutOfMemoryException",
        "IOException",
    }
)
# SQLSTATE classes whose messages name the query, the schema or the session, never a value of the data:
# 08 connection, 0A feature not supported, 25 transaction state (read-only), 28 authorisation,
# 3D/3F unknown database or schema, 42 syntax or access rule, 53 resources, 57 cancelled (statement timeout).
_SQLSTATE_WITHOUT_DATA = frozenset({"08", "0A", "25", "28", "3D", "3F", "42", "53", "57"})
_DUCKDB_PREFIXES = re.compile(r"^(Invalid Input|IO|Conversion|Binder|Parser|Catalog|Out of Range) Error: ")


def describe(error: BaseException) -> str:
    """What a report may say about `error`: its kind, and its first line when that cannot quote data."""
    module = type(error).__module__ or ""
    if module.startswith("psycopg"):
        return _postgres(error)
    if module.startswith("duckdb") or module.startswith("_duckdb"):
        return _duckdb(error)
    if isinstance(error, ValueError):  # pyarrow's ArrowInvalid: a parse error quotes the row
        return f"the file could not be parsed ({type(error).__name__}); {WITHHELD}"
    return f"{type(error).__name__}: {first_line(error)}"


def engine_error(label: str | None, error: BaseException) -> UnusableInput:
    """The input error a gate raises for an engine's error: its text withheld when it may quote data (CH751)."""
    text = describe(error)
    code = ENGINE_ERROR if withheld(error) else None
    return UnusableInput(text if label is None else f"{label}: {text}", code=code)


def withheld(error: BaseException) -> bool:
    """Whether `describe` leaves the error's text out."""
    return describe(error).endswith(WITHHELD)


def _duckdb(error: BaseException) -> str:
    kind = type(error).__name__
    if kind in _DUCKDB_WITHOUT_DATA:
        return f"{kind}: {_DUCKDB_PREFIXES.sub('', first_line(error))}"
    return f"{kind}; {WITHHELD}"


def _postgres(error: BaseException) -> str:
    state = getattr(error, "sqlstate", None)
    kind = type(error).__name__
    if not state:
        # No SQLSTATE: libpq's own error (connection, TLS, authentication), never the data's.
        return f"{kind}: {first_line(error)}"
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) or ""
    if state[:2] in _SQLSTATE_WITHOUT_DATA and primary:
        # The primary message only: DETAIL and CONTEXT may still quote a row.
        return f"SQLSTATE {state} {_words(kind)}: {first_line(primary)}"
    return f"SQLSTATE {state} {_words(kind)}; {WITHHELD}"


def _words(kind: str) -> str:
    """psycopg's class name as PostgreSQL's condition name: InvalidTextRepresentation -> invalid_text_representation."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def first_line(error: BaseException | str) -> str:
    text = str(error).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (
        re.sub(r"\s+", " ", lines[0])[:300] if lines else (type(error).__name__ if not isinstance(error, str) else "")
    )
