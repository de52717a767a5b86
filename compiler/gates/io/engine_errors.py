"""An engine's error as a gate may show it: its kind always, its text only when it cannot hold data (CH751).

DuckDB, PostgreSQL and pyarrow quote the values they choke on: a `sql` quality rule that casts
`string_agg(national_id, ',')` to an integer makes the error message carry every national id, and a CSV
parse error carries the row. Gate reports, summaries and evidence are read by whoever can read the workflow
run, so an error raised while data is read is shown by kind only (DuckDB's exception class, PostgreSQL's
SQLSTATE and condition name; BigQuery's HTTP status and error reason; Databricks' condition and SQLSTATE).
Errors raised before a row is read (parsing, binding, catalogue lookups, connection and permission failures)
keep their first line: they name the query's own words and the schema.
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
    if module.startswith(("pyspark", "py4j")):
        return _spark(error)
    if module.startswith("snowflake"):
        return _snowflake(error)
    if module.startswith("google."):
        return _google(error)
    if module.startswith("databricks"):
        return _databricks(error)
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


def _spark(error: BaseException) -> str:
    """Spark's error class and SQLSTATE; its message only for the classes that name the query, never a value."""
    state = _call(error, "getSqlState")
    condition = _call(error, "getCondition") or _call(error, "getErrorClass")
    kind = type(error).__name__ + (f" [{condition}]" if condition else "")
    if state and state[:2] in _SQLSTATE_WITHOUT_DATA:
        # `[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column ... SQLSTATE: 42703; line 1 pos 7`: the words only.
        text = re.sub(r"\s*SQLSTATE: \w+.*$", "", re.sub(r"^\[[A-Z_.]+\]\s*", "", first_line(error)))
        return f"SQLSTATE {state} {kind}: {text}"
    return f"{kind}{f' SQLSTATE {state}' if state else ''}; {WITHHELD}"


def _snowflake(error: BaseException) -> str:
    """Snowflake's SQLSTATE and error number; its message only for the classes that cannot quote a value
    (`Numeric value 'NID0001' is not recognized` is class 22)."""
    state = getattr(error, "sqlstate", None) or ""
    number = getattr(error, "errno", None)
    kind = type(error).__name__ + (f" {number}" if number else "")
    if state[:2] in _SQLSTATE_WITHOUT_DATA:
        message = getattr(error, "raw_msg", None) or first_line(error)
        return f"SQLSTATE {state} {kind}: {first_line(str(message))}"
    return f"{kind}{f' SQLSTATE {state}' if state else ''}; {WITHHELD}"


# BigQuery's error reasons whose messages name the project, dataset, table or quota, never a value of the data
# (`invalidQuery` does: "Bad int64 value: NID0001"; so do `invalid` and `stopped`).
_GOOGLE_REASONS_WITHOUT_DATA = frozenset(
    {"accessDenied", "notFound", "billingNotEnabled", "billingTierLimitExceeded", "quotaExceeded",
     "rateLimitExceeded", "bytesBilledLimitExceeded", "responseTooLarge", "resourcesExceeded", "timeout",
     "jobRateLimitExceeded", "notImplemented"}
)  # fmt: skip


def _google(error: BaseException) -> str:
    """BigQuery's HTTP status and error reason; its message only for reasons that cannot quote a value."""
    # BigQuery puts its reason in the response's `errors` list; other Google APIs in ErrorInfo (`reason`).
    listed = [e.get("reason") for e in getattr(error, "errors", None) or [] if isinstance(e, dict)]
    reason = str(getattr(error, "reason", None) or next((r for r in listed if r), "") or "")
    code = getattr(error, "code", None)
    kind = type(error).__name__ + (f" {int(code)}" if isinstance(code, int) else "") + (f" {reason}" if reason else "")
    if reason in _GOOGLE_REASONS_WITHOUT_DATA:
        return f"{kind}: {first_line(str(getattr(error, 'message', '') or error))}"
    return f"{kind}; {WITHHELD}"


def _databricks(error: BaseException) -> str:
    """A Databricks SQL error's condition and SQLSTATE, as Spark's: the words only when its class cannot quote
    a value (`[CAST_INVALID_INPUT] The value 'NID0001' ...` is class 22)."""
    text = first_line(str(getattr(error, "message", None) or ""))
    condition = re.match(r"^\[([A-Z_.]+)\]", text)
    state = re.search(r"SQLSTATE: (\w{5})", text)
    kind = type(error).__name__ + (f" [{condition.group(1)}]" if condition else "")
    if state is None and not type(error).__name__.startswith("ServerOperation"):
        # No statement ran (connection, authentication, the session): the connector's own words.
        return f"{kind}: {text}"
    if state is not None and state.group(1)[:2] in _SQLSTATE_WITHOUT_DATA:
        words = re.sub(r"\s*SQLSTATE: \w+.*$", "", re.sub(r"^\[[A-Z_.]+\]\s*", "", text))
        return f"SQLSTATE {state.group(1)} {kind}: {words}"
    return f"{kind}{f' SQLSTATE {state.group(1)}' if state else ''}; {WITHHELD}"


def _call(error: BaseException, method: str) -> str | None:
    from py4j.protocol import Py4JError

    getter = getattr(error, method, None)
    try:
        value = getter() if callable(getter) else None
    except Py4JError:  # the JVM side of the error is gone
        return None
    return str(value) if value else None


def _words(kind: str) -> str:
    """psycopg's class name as PostgreSQL's condition name: InvalidTextRepresentation -> invalid_text_representation."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def first_line(error: BaseException | str) -> str:
    text = str(error).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (
        re.sub(r"\s+", " ", lines[0])[:300] if lines else (type(error).__name__ if not isinstance(error, str) else "")
    )
