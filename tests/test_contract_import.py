"""`charter contract import`: an ODCS v3 contract from a Parquet or CSV file or a PostgreSQL table, ready for
`charter check`: types, `required` and `unique` where the data shows it, classification left for the owner."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from live_servers import Postgres, ServerDidNotStart, postgres, trust

from compiler.commands.cli import main
from compiler.gates.contract_import import logical_type
from compiler.stages import check_path

PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata: {name: imported}
spec:
  policies: {packs: []}
"""
# What a user hand-wrote before: name, logicalType, required, unique.
EXPECTED = [
    ("applicant_id", "integer", "BIGINT", True, True),
    ("income", "number", "DOUBLE", False, False),
    ("gender", "string", "VARCHAR", True, False),
    ("applied_on", "date", "DATE", True, False),
    ("defaulted", "boolean", "BOOLEAN", True, False),
    ("scored_at", "timestamp", "TIMESTAMP", True, True),
    ("tags", "array", "VARCHAR[]", True, False),
]


def table() -> pa.Table:
    return pa.table(
        {
            "applicant_id": pa.array([1, 2, 3, 4], pa.int64()),
            "income": pa.array([1000.5, None, 300.0, 12.0]),
            "gender": pa.array(["f", "m", "f", "x"]),
            "applied_on": pa.array([datetime.date(2026, 1, day) for day in (1, 2, 3, 3)]),
            "defaulted": pa.array([True, False, False, True]),
            "scored_at": pa.array([datetime.datetime(2026, 1, 1, 12, 0, s) for s in range(4)], pa.timestamp("us")),
            "tags": pa.array([["a"], ["b"], [], ["c"]]),
        }
    )


def properties(path: Path) -> list[tuple[str, str, str, bool, bool]]:
    (schema,) = yaml.safe_load(path.read_text("utf-8"))["schema"]
    return [
        (p["name"], p["logicalType"], p["physicalType"], p.get("required", False), p.get("unique", False))
        for p in schema["properties"]
    ]


def checked_clean(contract: Path, pg: Postgres | None = None) -> None:
    """The contract in a project of its own (trusting the database it came from, as its organisation would list
    it in `spec.endpoints`): `charter check` finds nothing wrong with it."""
    project = contract.parent.parent
    (project / "charter.yaml").write_text(PROJECT, "utf-8")
    if pg is not None:
        trust(project, pg=pg)
    found = [(d.code, d.message) for d in check_path(project).diagnostics]
    assert found == []


def test_a_parquet_file_becomes_a_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "credit_applications.parquet"
    pq.write_table(table(), data)
    out = tmp_path / "project" / "contracts" / "credit.odcs.yaml"
    out.parent.mkdir(parents=True)
    assert main(["contract", "import", str(data), "--output", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"wrote {out.as_posix()}; next: set classification and tags, then `charter check`\n"
    )
    text = out.read_text("utf-8")
    assert text.startswith(f"# Imported by `charter contract import` from {data} (4 rows)")
    document = yaml.safe_load(text)
    assert {k: document[k] for k in ("apiVersion", "kind", "id", "status")} == {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "credit-applications", "status": "draft",
    }  # fmt: skip
    assert properties(out) == EXPECTED
    assert "classification" not in text.split("\n", 5)[-1]  # only the header names it, for the owner
    checked_clean(out)


def test_a_csv_file_becomes_a_contract(tmp_path: Path) -> None:
    data = tmp_path / "loans.csv"
    data.write_text("loan_id,amount,region\n1,100.5,north\n2,200,south\n3,,north\n", "utf-8")
    out = tmp_path / "project" / "contracts" / "loans.odcs.yaml"
    out.parent.mkdir(parents=True)
    assert main(["contract", "import", str(data), "--id", "loan-book", "--output", str(out)]) == 0
    assert yaml.safe_load(out.read_text("utf-8"))["id"] == "loan-book"
    assert properties(out) == [
        ("loan_id", "integer", "BIGINT", True, True),
        ("amount", "number", "DOUBLE", False, False),
        ("region", "string", "VARCHAR", True, False),
    ]
    checked_clean(out)


def test_unusable_input_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "import", str(tmp_path / "missing.csv")]) == 2
    assert (
        capsys.readouterr().err == f"charter contract import: {tmp_path / 'missing.csv'}: no such file or directory\n"
    )
    assert main(["contract", "import"]) == 2
    assert "give files, or --postgres with --table" in capsys.readouterr().err
    assert main(["contract", "import", "--postgres", "db.example"]) == 2
    assert "--postgres needs --table" in capsys.readouterr().err
    assert main(["contract", "import", "--postgres", "db.example", "--table", "t"]) == 2
    assert "expected HOST[:PORT]/DATABASE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("physical", "logical"),
    [("DECIMAL(12,2)", "number"), ("TIMESTAMP WITH TIME ZONE", "timestamp"), ("TIME", "time"), ("UUID", "string"),
     ("STRUCT(a INTEGER)", "object"), ("INTEGER[]", "array"), ("UBIGINT", "integer"), ("JSON", "object")],
)  # fmt: skip
def test_logical_types(physical: str, logical: str) -> None:
    assert logical_type(physical) == logical


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    try:
        with postgres() as server:
            con: Any = server.connect()
            con.execute("CREATE SCHEMA lending")
            con.execute(
                "CREATE TABLE lending.applications (id bigint PRIMARY KEY, income numeric(12,2), "
                "region text NOT NULL, applied_on date, decided_at timestamptz, approved boolean, notes jsonb)"
            )
            con.execute(
                "INSERT INTO lending.applications VALUES "
                "(1, 100.50, 'north', '2026-01-01', '2026-01-02 10:00+00', true, '{}'), "
                "(2, NULL, 'south', '2026-01-01', '2026-01-03 10:00+00', false, '{}'), "
                "(3, 7.25, 'north', '2026-01-02', '2026-01-04 10:00+00', true, NULL)"
            )
            con.close()
            yield server
    except ServerDidNotStart as error:
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


def test_a_postgres_table_becomes_a_contract(pg: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in pg.environment.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "project" / "contracts" / "applications.odcs.yaml"
    out.parent.mkdir(parents=True)
    where = f"{pg.host}:{pg.port}/{pg.database}"
    assert main(["contract", "import", "--postgres", where, "--table", "lending.applications", "-o", str(out)]) == 0
    document = yaml.safe_load(out.read_text("utf-8"))
    assert document["servers"] == [
        {"server": "warehouse", "type": "postgres", "host": pg.host, "port": pg.port, "database": pg.database,
         "schema": "lending"},
    ]  # fmt: skip
    assert properties(out) == [
        ("id", "integer", "BIGINT", True, True),
        ("income", "number", "DECIMAL(12,2)", False, False),
        ("region", "string", "VARCHAR", True, False),
        ("applied_on", "date", "DATE", True, False),
        ("decided_at", "timestamp", "TIMESTAMP WITH TIME ZONE", True, True),
        ("approved", "boolean", "BOOLEAN", True, False),
        ("notes", "object", "JSON", False, False),
    ]
    assert "PGPASSWORD" not in out.read_text("utf-8")
    checked_clean(out, pg)
