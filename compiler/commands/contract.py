"""`charter contract import`: write an ODCS v3 contract from CSV or Parquet files or a PostgreSQL table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compiler.commands.common import emit
from compiler.core import exit_codes


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    contract = commands.add_parser("contract", help="data contracts (ODCS v3)")
    contract.set_defaults(run=run)
    actions = contract.add_subparsers(dest="contract_command", metavar="COMMAND", required=True)
    imported = actions.add_parser(
        "import",
        help="write an ODCS v3 contract from CSV or Parquet files or a PostgreSQL table",
        description="Columns, logical and physical types, and `required` / `unique` where every row shows it, "
        "counted where the data lives (DuckDB for files, the server for a table). Classification, tags, quality "
        "rules and service levels are left for the owner. PostgreSQL credentials come from libpq's environment "
        "(PGUSER, PGPASSWORD, PGSERVICEFILE, ~/.pgpass), never from the command line.",
    )
    imported.add_argument("files", nargs="*", metavar="FILE", help="CSV or Parquet files, or a folder of parts")
    imported.add_argument("--postgres", metavar="HOST[:PORT]/DATABASE", help="read a table of this server instead")
    imported.add_argument("--table", metavar="[SCHEMA.]TABLE", help="with --postgres: the table (schema: public)")
    imported.add_argument("--id", metavar="ID", help="the contract id (default: from the file or table name)")
    imported.add_argument("--output", "-o", metavar="FILE", help="write here (default: standard output)")
    imported.set_defaults(handler=_run_import)


def run(args: argparse.Namespace) -> int:
    """The subcommand the arguments name."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _run_import(args: argparse.Namespace) -> int:
    from compiler.gates.errors import UnusableInput

    if bool(args.files) == bool(args.postgres):
        print("charter contract import: give files, or --postgres with --table", file=sys.stderr)
        return exit_codes.USAGE
    try:
        text = _from_postgres(args) if args.postgres else _from_files(args)
    except UnusableInput as error:
        print(f"charter contract import: {error}", file=sys.stderr)
        return exit_codes.USAGE
    emit(text, args.output)
    if args.output:
        print(f"wrote {Path(args.output).as_posix()}; next: set classification and tags, then `charter check`")
    return exit_codes.OK


def _from_files(args: argparse.Namespace) -> str:
    from compiler.gates import contract_import as imp

    source, found = imp.profile_files(args.files)
    table = imp.table_name(args.files)
    document = imp.contract(args.id or imp.contract_id(table), table, found)
    return imp.to_yaml(document, source.label, found[0].rows if found else 0)


def _from_postgres(args: argparse.Namespace) -> str:
    from compiler.core.endpoints import Allowed
    from compiler.core.odcs import Server
    from compiler.gates import contract_import as imp
    from compiler.gates.errors import UnusableInput
    from compiler.gates.io.database import DIALECTS, Database, table_parts

    if not args.table:
        raise UnusableInput("--postgres needs --table [SCHEMA.]TABLE")
    server = _server(args.postgres)
    schema, table = table_parts(args.table, "public")
    server["schema"] = schema
    # The host is the user's own choice on the command line, not a contract's: it is contacted, but only over
    # verified TLS with SCRAM authentication, the defaults of a trusted endpoint (compiler.core.endpoints).
    database = Database(Server(0, server), DIALECTS["postgres"], f"postgres {args.postgres}", Allowed())
    try:
        found = imp.profile_table(database, schema, table)
    finally:
        database.close()
    document = imp.contract(args.id or imp.contract_id(table), table, found, server=server)
    return imp.to_yaml(document, f"{args.postgres} {schema}.{table}", found[0].rows if found else 0)


def _server(spec: str) -> dict[str, Any]:
    """`host[:port]/database` as an ODCS server entry (no credentials: those stay in libpq's environment)."""
    from compiler.gates.errors import UnusableInput

    where, _, database = spec.partition("/")
    host, _, port = where.partition(":")
    if not host or not database or (port and not port.isdigit()):
        raise UnusableInput(f"--postgres {spec}: expected HOST[:PORT]/DATABASE")
    server: dict[str, Any] = {"server": "warehouse", "type": "postgres", "host": host, "port": int(port or 5432)}
    server["database"] = database
    return server
