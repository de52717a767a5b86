"""Reading data files through DuckDB: CSV, Parquet, or a folder of Parquet parts.

DuckDB streams the files, so a file larger than memory is read in bounded
memory: every connection gets a memory limit and a temporary directory to
spill to. Any failure to read becomes an `UnusableInput` that names the file.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from compiler.gates.errors import UnusableInput
from compiler.gates.io.engine_errors import engine_error

if TYPE_CHECKING:
    from compiler.core.odcs import Server
    from compiler.gates.io.servers import Backend
    from compiler.gates.project import Reach

# `table`: a typed table in a database, read like Parquet.
Format = Literal["csv", "parquet", "table"]
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst")
DEFAULT_MEMORY_LIMIT = "2GB"
_SKIPPED_PARTS = re.compile(r"(^[._])|(\.crc$)|(^_SUCCESS$)")


@dataclass(frozen=True)
class Source:
    """One data set: a file, several files, or the parts in a folder, all of one format."""

    label: str
    files: tuple[str, ...]
    format: Format
    backend: Backend | None = field(default=None, compare=False)
    """Where the rows are when they are not local files: a contract's server."""
    version: dict[str, Any] | None = None
    """The DVC data version of a server that names its DVC file (compiler/stages/read/dvc_data.py), for evidence."""
    where: str | None = None
    """SQL that keeps only some rows (the eval gate's production window): built by Charter from quoted names and
    literals, never from spec text as it is."""

    def relation(self, *, all_varchar: bool = False) -> str:
        """A table expression for FROM."""
        if self.where is not None:
            whole = dataclasses.replace(self, where=None).relation(all_varchar=all_varchar)
            return f"(SELECT * FROM {whole} WHERE {self.where})"
        if self.backend is not None:
            return self.backend.relation(all_varchar)
        files = "[" + ", ".join(sql_string(f) for f in self.files) + "]"
        if self.format == "parquet":
            return f"read_parquet({files}, union_by_name = true)"
        options = "header = true, union_by_name = true"
        if all_varchar:
            options += ", all_varchar = true"
        return f"read_csv({files}, {options})"


def open_source(paths: Sequence[str], what: str = "data") -> Source:
    """Check that every path exists and holds data of one known format."""
    if not paths:
        raise UnusableInput(f"no {what} file given")
    files: list[str] = []
    formats: set[Format] = set()
    for raw in paths:
        path = Path(raw)
        if _through_link(path):
            # The repository is the pull request author's: a link may point at a secret or at /dev/zero,
            # and DuckDB's errors quote what they read.
            raise UnusableInput(f"{raw}: a symbolic link; the gates do not follow links", hint="give the file itself")
        if path.is_dir():
            parts, fmt = _folder_parts(path)
            files.extend(parts)
            formats.add(fmt)
            continue
        if not path.exists():
            raise UnusableInput(f"{raw}: no such file or directory")
        if not path.is_file():
            raise UnusableInput(f"{raw}: not a regular file")
        if path.stat().st_size == 0:
            raise UnusableInput(f"{raw}: the file is empty")
        formats.add(file_format(path))
        files.append(str(path))
    if len(formats) > 1:
        raise UnusableInput(f"{', '.join(paths)}: mixes CSV and Parquet; give files of one format")
    label = ", ".join(paths)
    if len(files) > 1 and len(paths) == 1:
        label = f"{paths[0]} ({len(files)} files)"
    return Source(label, tuple(files), formats.pop())


def _through_link(path: Path, base: Path | None = None) -> bool:
    """Whether `path`, or any directory on the way to it (from `base`, else as given), is a symbolic link.

    An absolute path is the operator's choice (the runner's /tmp may itself be a link): only its last part counts.
    """
    if base is None and path.is_absolute():
        return path.is_symlink()
    here = base
    for part in path.parts:
        here = Path(part) if here is None else here / part
        if here.is_symlink():
            return True
    return False


def _folder_parts(folder: Path) -> tuple[list[str], Format]:
    candidates = sorted(
        p
        for p in folder.rglob("*")
        if not _through_link(p.relative_to(folder), folder)
        and p.is_file()
        and not _SKIPPED_PARTS.search(p.name)
        and p.stat().st_size > 0
    )
    parquet = [str(p) for p in candidates if p.name.lower().endswith(PARQUET_SUFFIXES)]
    if parquet:
        return parquet, "parquet"
    csv = [str(p) for p in candidates if p.name.lower().endswith(CSV_SUFFIXES)]
    if csv:
        return csv, "csv"
    raise UnusableInput(f"{folder}: the folder holds no non-empty .parquet or .csv files")


def file_format(path: Path) -> Format:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    with path.open("rb") as handle:
        magic = handle.read(4)
    return "parquet" if magic == b"PAR1" else "csv"


def open_input(
    paths: Sequence[str] | None,
    server: tuple[Any, str, str, str] | None,
    what: str,
    *,
    reach: Reach,
    pushdown: bool | None = None,
) -> Source:
    """Local files (`--data`), or a contract's server (`--server`): (contract, id, server name, table), contacted
    only when the Project trusts it (`reach`). A server table runs the gate's SQL itself when `pushdown` (by
    default the data gate's), else its rows are pulled into DuckDB."""
    if server is None:
        return open_source(paths or (), what)
    if paths:
        raise UnusableInput(f"give the {what} as files or as --server, not both")
    from compiler.gates.io.servers import find_server, open_server

    contract, contract_id, name, physical_name = server
    pushed = what == "data" if pushdown is None else pushdown
    label, backend = open_server(contract, contract_id, name, physical_name, pushdown=pushed, reach=reach)
    source = _opened(label, backend)
    version = dvc_version(find_server(contract, name, contract_id), reach.root)
    return dataclasses.replace(source, version=version) if version else source


def _opened(label: str, backend: Any) -> Source:
    from compiler.gates.io.servers import Table

    if isinstance(backend, Table):
        return Source(label, backend.files, "table", backend)
    fmt: Format = "csv" if backend.format == "csv" else "parquet"
    if _on_this_machine(backend.filesystem):
        # A `local` server is files here (ODCS gives it no delimiter): DuckDB reads them itself, as it does --data,
        # inside its memory limit. Through a pyarrow dataset the read-ahead batches sat outside that limit
        # (650 MB against 351 MB for the same 2 million rows at --memory-limit 300MB).
        return Source(label, tuple(backend.files), fmt)
    return Source(label, tuple(backend.files), fmt, backend)


def _on_this_machine(filesystem: Any) -> bool:
    from pyarrow import fs

    return isinstance(filesystem, fs.LocalFileSystem)


@contextmanager
def connection(
    memory_limit: str | None = None, threads: int | None = None, sources: Sequence[Source] = ()
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a memory limit and a private spill directory, removed afterwards.

    Sources on a server are attached to it first: object storage as views, tables pulled in.
    """
    limit = memory_limit or os.environ.get("CHARTER_GATE_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    with tempfile.TemporaryDirectory(prefix="charter-gate-") as spill:
        con = duckdb.connect(":memory:")
        try:
            try:
                con.execute(f"SET memory_limit = {sql_string(limit)}")
            except duckdb.Error as error:
                raise UnusableInput(
                    f"--memory-limit {limit}: {_first_line(error)}", hint="for example 512MB or 2GB"
                ) from None
            con.execute(f"SET temp_directory = {sql_string(spill)}")
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            # Every gate reads each row's columns in one query, so row order never matters;
            # not keeping it lets DuckDB stream with less memory.
            con.execute("SET preserve_insertion_order = false")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            for source in sources:
                if source.backend is not None:
                    attach(con, source)
            yield con
        finally:
            con.close()
            for source in sources:
                if source.backend is not None:
                    source.backend.close()


def attach(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    assert source.backend is not None
    try:
        source.backend.attach(con)
    except duckdb.Error as error:
        raise engine_error(source.label, error) from None


def query(
    con: duckdb.DuckDBPyConnection, sql: str, source: Source, params: Sequence[Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run `sql`; a DuckDB error becomes an UnusableInput naming the source.

    When the source is a database table read by push-down, the SQL runs there, in its dialect.
    """
    pushed = source.backend.database if source.backend is not None else None
    if pushed is not None:
        return pushed.execute(sql, params)  # type: ignore[return-value]
    try:
        return con.execute(sql, params) if params is not None else con.execute(sql)
    except duckdb.OutOfMemoryException as error:
        raise UnusableInput(
            f"{source.label}: out of memory: {_first_line(error)}",
            hint="raise --memory-limit, or give the runner more memory",
        ) from None
    except duckdb.Error as error:
        raise engine_error(f"{source.label}: cannot read as {source.format.upper()}", error) from None


def pushed(source: Source) -> bool:
    """Whether the source is a server table that runs the gate's SQL itself (only aggregates come back)."""
    return getattr(source.backend, "database", None) is not None


def columns(con: duckdb.DuckDBPyConnection, source: Source, *, all_varchar: bool = False) -> dict[str, str]:
    """Column name -> DuckDB type, in file order."""
    backend = source.backend
    if backend is not None and backend.database is not None:
        return backend.columns()  # type: ignore[union-attr]
    rows = query(con, f"DESCRIBE SELECT * FROM {source.relation(all_varchar=all_varchar)}", source).fetchall()
    if not rows:
        raise UnusableInput(f"{source.label}: no columns")
    return {str(row[0]): str(row[1]) for row in rows}


def require_columns(available: dict[str, str], wanted: dict[str, str], source: Source) -> None:
    """`wanted` maps each column to why it is needed; name every missing one."""
    missing = [name for name in wanted if name not in available]
    if not missing:
        return
    lines = [f"column `{name}` is missing (needed for {wanted[name]})" for name in missing]
    lowered = {name.lower(): name for name in available}
    hints = [f"`{lowered[m.lower()]}` differs from `{m}` only in case" for m in missing if m.lower() in lowered]
    shown = ", ".join(list(available)[:20]) + (", ..." if len(available) > 20 else "")
    raise UnusableInput(
        f"{source.label}: " + "; ".join(lines),
        hint="; ".join(hints) if hints else f"the file has: {shown}",
    )


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_literal(value: Any) -> str:
    """A SQL literal for a YAML scalar (bool, number, string, date)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"CAST({sql_string(repr(value))} AS DOUBLE)"
        return repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return sql_string(value.isoformat())
    return sql_string(str(value))


def canonical(value: Any) -> str:
    """How a label reads, whatever its type: `true`, `1`, `1.5`, `north`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Conversion Error: ", "Binder Error: ", "Parser Error: "):
        text = text.replace(prefix, "")
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(error).__name__


def dvc_version(server: Server, root: Path) -> dict[str, Any] | None:
    """The DVC data version a server names, checked against its local data; UnusableInput (CH778) when it cannot
    be read or the data here is another version."""
    from compiler.core import repofs
    from compiler.stages import dvc_data

    file = server.dvc_file
    if file is None:
        return None
    local = server.local_path
    try:
        version = dvc_data.data_version(lambda relative: repofs.read_bytes(root, relative), file, local)
        if local is not None:
            dvc_data.verify_local(root, version)
    except dvc_data.DvcError as error:
        hint = "the data gate judges the data version the DVC file names"
        raise UnusableInput(str(error), hint=hint, code="CH778") from None
    return version.to_json()
