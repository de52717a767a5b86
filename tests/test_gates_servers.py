"""`--server`: the gates read data where a contract's ODCS `servers` say it lives.

Real servers, started here on 127.0.0.1 (see live_servers): a PostgreSQL
cluster and moto's S3. The same rows, as a local Parquet file, as Parquet
parts in S3 and as a PostgreSQL table, give exactly the same findings.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from live_servers import S3, Postgres, moto_s3, postgres, trust
from pyarrow import csv
from ruamel.yaml import YAML
from test_gates_support import BREAKAGE_FAILS, CREDIT, check_of, run_gate, seeded_rows

from compiler.gates.data import contract_rules, synthetic
from compiler.gates.data.sql_rules import Refused, _DuckRunner, check_query
from compiler.gates.errors import UnusableInput

NOW = "2024-07-01T06:00:00Z"
BUCKET = "acme-lending-lake"
ROWS = 60_000


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    return seeded_rows(ROWS)


@pytest.fixture(scope="module")
def local_file(rows: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("local") / "applications.parquet"
    pq.write_table(rows, path)
    return path


@pytest.fixture(scope="module")
def s3(rows: pa.Table) -> Iterator[S3]:
    with moto_s3() as server:
        client: Any = server.client()
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        third = rows.num_rows // 3
        for part, start in enumerate((0, third, 2 * third)):
            buffer = io.BytesIO()
            length = third if part < 2 else rows.num_rows - start
            pq.write_table(rows.slice(start, length), buffer)
            client.put_object(Bucket=BUCKET, Key=f"credit-applications/v2/part-{part}.parquet", Body=buffer.getvalue())
            text = io.BytesIO()
            csv.write_csv(rows.slice(start, length), text)
            client.put_object(Bucket=BUCKET, Key=f"credit-applications/csv/part-{part}.csv", Body=text.getvalue())
        # Not matched by the glob: the gate must not read it.
        client.put_object(Bucket=BUCKET, Key="credit-applications/v2/README.txt", Body=b"not data")
        yield server


@pytest.fixture(scope="module")
def pg(rows: pa.Table) -> Iterator[Postgres]:
    with postgres() as server:
        con: Any = server.connect()
        con.execute("CREATE SCHEMA lending")
        con.close()
        load_table(server, "lending.credit_applications_v2", rows)
        yield server


def load_table(server: Postgres, name: str, table: pa.Table) -> None:
    """A PostgreSQL table with the Arrow table's columns and rows (COPY, typed as in Parquet)."""
    con: Any = server.connect()
    columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
    con.execute(f"CREATE TABLE {name} ({columns})")
    names = ", ".join(f'"{n}"' for n in table.schema.names)
    with con.cursor().copy(f"COPY {name} ({names}) FROM STDIN") as copy:
        for row in table.to_pylist():
            copy.write_row(tuple(row.values()))
    con.close()


def _pg_type(kind: pa.DataType) -> str:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_float64(kind):
        return "double precision"
    if pa.types.is_int32(kind):
        return "integer"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_date32(kind):
        return "date"
    raise AssertionError(f"no PostgreSQL type for {kind}")


@pytest.fixture
def project(tmp_path: Path, s3: S3, pg: Postgres, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The credit-scoring example, its contract's servers pointed at the servers started here."""
    root = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
    path = root / "contracts" / "credit-applications.odcs.yaml"
    yaml = YAML()
    contract = yaml.load(path.read_text("utf-8"))
    contract["servers"].append(
        {"server": "lake-csv", "type": "s3", "location": f"s3://{BUCKET}/credit-applications/csv/", "format": "csv"}
    )
    for server in contract["servers"]:
        if server["type"] == "s3":
            server["endpointUrl"] = s3.endpoint_url
        else:
            server["host"], server["port"] = pg.host, pg.port
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    holdout_path = root / "contracts" / "credit-holdout.odcs.yaml"
    holdout = yaml.load(holdout_path.read_text("utf-8"))
    holdout["servers"].append(
        {"server": "warehouse", "type": "postgres", "host": pg.host, "port": pg.port, "database": "lending",
         "schema": "lending"}
    )  # fmt: skip
    with holdout_path.open("w", encoding="utf-8") as out:
        yaml.dump(holdout, out)
    trust(root, s3=s3, pg=pg)
    for key, value in {**s3.environment, **pg.environment}.items():
        monkeypatch.setenv(key, value)
    return root


def data_gate(project: Path, report: Path, *source: str) -> tuple[int, dict[str, Any]]:
    argv = ["data", str(project), "--contract", "credit-applications", *source, "--now", NOW]
    return run_gate(argv, report)


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What a user acts on: every check; the SQL text of a rule differs by engine only in quoting."""
    return [{k: v for k, v in c.items() if k != "details" or "query" not in v} for c in report["checks"]]


def test_s3_and_postgres_give_the_findings_of_the_local_file(project: Path, local_file: Path, tmp_path: Path) -> None:
    local_code, local = data_gate(project, tmp_path / "local.json", "--data", str(local_file))
    s3_code, in_s3 = data_gate(project, tmp_path / "s3.json", "--server", "lake")
    pg_code, in_pg = data_gate(project, tmp_path / "pg.json", "--server", "warehouse")
    assert local_code == s3_code == pg_code == 1
    assert findings(in_s3) == findings(local)
    assert findings(in_pg) == findings(local)
    assert in_s3["inputs"][0]["rows"] == in_pg["inputs"][0]["rows"] == ROWS
    assert len(in_s3["inputs"][0]["files"]) == 3  # the glob left README.txt out
    assert in_pg["inputs"][0]["format"] == "table"
    # Each names the digest of the data it judged: the file's bytes, the parts' digests, the table's rows.
    assert local["inputs"][0]["digest"] == "sha256:" + hashlib.sha256(local_file.read_bytes()).hexdigest()
    parts = in_s3["inputs"][0]["fileDigests"]
    assert len(parts) == 3
    assert (
        in_s3["inputs"][0]["digest"]
        == "sha256:" + hashlib.sha256("".join(f"{part}\n" for part in sorted(parts)).encode()).hexdigest()
    )
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", in_pg["inputs"][0]["digest"])
    assert "fileDigests" not in in_pg["inputs"][0]
    _, again = data_gate(project, tmp_path / "pg-again.json", "--server", "warehouse")
    assert again["inputs"][0]["digest"] == in_pg["inputs"][0]["digest"]
    failed = {c["id"]: c for c in local["checks"] if c["status"] == "fail"}
    assert set(failed) == BREAKAGE_FAILS
    assert failed["gender.quality[0]"]["message"] == "invalidValues: 7 of 60,000 rows, e.g. 'robot'"
    assert failed["national_id.unique"]["value"] == 5
    assert failed["applications.quality[1]"]["value"] == 1  # no-future-applications
    assert failed["applications.quality[2]"]["value"] == 3  # plausible-delinquencies
    assert failed["applications.quality[2]"]["message"] == (
        "the query returned 3. At most one late payment a month can be reported over 24 months."
    )


def test_csv_parts_in_s3_give_the_findings_of_the_local_csv(project: Path, rows: pa.Table, tmp_path: Path) -> None:
    local_csv = tmp_path / "applications.csv"
    csv.write_csv(rows, local_csv)
    local_code, local = data_gate(project, tmp_path / "local.json", "--data", str(local_csv))
    s3_code, in_s3 = data_gate(project, tmp_path / "s3.json", "--server", "lake-csv")
    assert local_code == s3_code == 1
    assert findings(in_s3) == findings(local)
    assert in_s3["inputs"][0]["format"] == "csv"
    assert len(in_s3["inputs"][0]["files"]) == 3


def test_postgres_does_the_work_and_returns_only_aggregates(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.gates.io import database

    returned: list[int] = []
    execute = database.Database.execute

    def counting(self: database.Database, sql: str, *args: Any, **kwargs: Any) -> database.Rows:
        rows = execute(self, sql, *args, **kwargs)
        returned.append(len(rows.fetchall()))
        return rows

    monkeypatch.setattr(database.Database, "execute", counting)
    code, report = data_gate(project, tmp_path / "pg.json", "--server", "warehouse")
    assert code == 1
    assert report["headline"].startswith(
        "contract `credit-applications` 2.3.0 · table `applications` · server `warehouse` (postgres) lending.credit_"
    )
    # The column list, one row of aggregates, then at most three example values per failed check.
    assert returned[0] == 16
    assert returned[1] == 1
    assert max(returned[2:]) <= 3
    assert sum(returned) < 40


def test_a_missing_server_names_the_ones_there(project: Path, tmp_path: Path) -> None:
    code, report = data_gate(project, tmp_path / "r.json", "--server", "lakee")
    assert code == 2
    assert report["error"] == ("contract `credit-applications` has no server `lakee`\n  hint: did you mean `lake`?")


def test_an_unreachable_database_is_unusable_input(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGUSER", "nobody-here")
    code, report = data_gate(project, tmp_path / "r.json", "--server", "warehouse")
    assert code == 2
    assert report["error"].startswith("server `warehouse` (postgres): cannot connect:")


# --- sql rules that try to escape ----------------------------------------------------

ESCAPES = [
    ("SELECT count(*) FROM read_csv('/etc/passwd')", "reads `READ_CSV('/etc/passwd')`, not the contract's table"),
    (
        "SELECT count(*) FROM '/etc/passwd'",
        "reads `/etc/passwd`; a rule may read only applications, lending.credit_applications_v2",
    ),
    ("SELECT length(pg_read_file('/etc/passwd'))", "calls `pg_read_file`, which is not a standard SQL function"),
    (
        "SELECT count(*) FROM pg_catalog.pg_authid",
        "reads `pg_catalog.pg_authid`; a rule may read only applications, lending.credit_applications_v2",
    ),
    ("COPY (SELECT 1) TO '/tmp/x'", "a rule is one SELECT statement"),
    ("SELECT 1; DROP TABLE lending.credit_applications_v2", "a rule is one SELECT statement"),
]


@pytest.mark.parametrize(("query", "why"), ESCAPES)
def test_a_rule_that_reaches_outside_its_table_is_refused(query: str, why: str) -> None:
    with pytest.raises(Refused) as refused:
        check_query(query, {"applications", "lending.credit_applications_v2"}, "duckdb")
    assert str(refused.value) == why


def test_duckdb_itself_refuses_files_and_settings_to_a_rule(local_file: Path) -> None:
    """The second fence: even SQL that got past the parser cannot read a file or unlock the engine."""
    import pyarrow.dataset as ds

    table = contract_rules.TableRules("applications", "lending.credit_applications_v2", ())
    runner = _DuckRunner(ds.dataset([str(local_file)], format="parquet"), table)
    try:
        assert runner.scalar("SELECT count(*) FROM lending.credit_applications_v2") == ROWS
        assert runner.scalar("SELECT count(*) FROM applications") == ROWS
        for escape in ("SELECT count(*) FROM read_csv('/etc/passwd')", f"SELECT count(*) FROM '{local_file}'"):
            with pytest.raises(UnusableInput, match=r"^PermissionException: Permission Error: Cannot access file"):
                runner.scalar(escape)
        # DuckDB's message is withheld (CH751): its kind is what the rule's finding shows.
        with pytest.raises(UnusableInput, match=r"^CH751 InvalidInputException; its message is withheld"):
            runner.scalar("SET enable_external_access = true")
        assert runner.scalar("SELECT current_setting('enable_external_access')") is False
    finally:
        runner.close()


@pytest.mark.parametrize("where", ["local", "warehouse"])
def test_an_escaping_rule_fails_closed_with_a_finding_naming_it(
    project: Path, local_file: Path, tmp_path: Path, where: str
) -> None:
    path = project / "contracts" / "credit-applications.odcs.yaml"
    yaml = YAML()
    contract = yaml.load(path.read_text("utf-8"))
    contract["schema"][0]["quality"].append(
        {"type": "sql", "name": "sneaky", "query": "SELECT length(pg_read_file('/etc/passwd'))", "mustBe": 0}
    )
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    source = ["--data", str(local_file)] if where == "local" else ["--server", "warehouse"]
    code, report = data_gate(project, tmp_path / "r.json", *source)
    assert code == 1
    check = check_of(report, "applications.quality[3]")
    assert check["status"] == "fail"
    assert check["message"] == (
        "sql rule `sneaky` refused, not run: calls `pg_read_file`, which is not a standard SQL function"
    )


# --- the drift gate: reference from the warehouse (rows pulled in batches), traffic from S3 ----------


@pytest.fixture(scope="module")
def traffic(s3: S3, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Production traffic whose incomes moved up by half: a drift the gate must find."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS {synthetic.credit_applications(20_000, seed=2)}")
    con.execute("UPDATE t SET annual_income = annual_income * 1.5")
    table = con.sql("SELECT * FROM t ORDER BY application_id").to_arrow_table()
    con.close()
    path = tmp_path_factory.mktemp("traffic") / "traffic.parquet"
    pq.write_table(table, path)
    client: Any = s3.client()
    client.put_object(Bucket=BUCKET, Key="scoring-log/credit-default/2024-07-01.parquet", Body=path.read_bytes())
    return path


def test_drift_from_servers_equals_drift_from_files(
    project: Path, local_file: Path, traffic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the drift gate writes drift-summary.md to the working directory, not the checkout
    base = ["drift", str(project), "--model", "credit-default"]
    files_code, files = run_gate(
        [*base, "--reference", str(local_file), "--current", str(traffic)], tmp_path / "f.json"
    )
    servers_code, servers = run_gate(
        [*base, "--reference-server", "warehouse", "--server", "scoring-log"], tmp_path / "s.json"
    )
    assert files_code == servers_code == 1
    assert servers["checks"] == files["checks"]
    assert check_of(servers, "drift.annual_income")["status"] == "fail"
    assert [i["rows"] for i in servers["inputs"]] == [ROWS, 20_000]


# --- locations, and what the command line refuses -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "location", "expected"),
    [
        ("s3", "s3://lake/applications/", ("s3", "lake/applications", None, None)),
        ("s3", "s3://lake/applications/*.parquet", ("s3", "lake/applications", "lake/applications/*.parquet", None)),
        ("s3", "gs://lake/a/part-?.csv", ("gcs", "lake/a", "lake/a/part-?.csv", None)),
        ("azure", "abfss://log@acme.dfs.core.windows.net/r/", ("azure", "log/r", None, "acme")),
        ("azure", "az://log/r/*.parquet", ("azure", "log/r", "log/r/*.parquet", None)),
    ],
)
def test_locations_split_into_what_is_listed_and_what_is_kept(
    kind: str, location: str, expected: tuple[str, str, str | None, str | None]
) -> None:
    from compiler.gates.io.objectstore import parse_location

    parsed = parse_location(kind, location)
    assert (parsed.scheme, parsed.base, parsed.pattern, parsed.account) == expected


@pytest.mark.parametrize(
    ("kind", "location", "message"),
    [
        ("s3", "https://lake/a", "server location 'https://lake/a' is not a s3 location"),
        ("local", "/etc/passwd", "local server path '/etc/passwd' leaves the project"),
        ("local", "data/../../secrets", "local server path 'data/../../secrets' leaves the project"),
    ],
)
def test_locations_that_cannot_be_read_are_refused(kind: str, location: str, message: str) -> None:
    from compiler.gates.io.objectstore import parse_location

    with pytest.raises(UnusableInput) as refused:
        parse_location(kind, location)
    assert refused.value.message == message


def test_files_and_a_server_together_are_refused(project: Path, local_file: Path, tmp_path: Path) -> None:
    code, report = data_gate(project, tmp_path / "r.json", "--data", str(local_file), "--server", "lake")
    assert code == 2
    assert report["error"] == "give --data or the server, not both"
    code, report = data_gate(project, tmp_path / "r.json", "--server", "")
    assert code == 2
    assert report["error"] == (
        "the server name is empty: the specs name no server to read\n  hint: set spec.data.training.server"
    )


def test_eval_reads_predictions_from_the_holdouts_server(project: Path, pg: Postgres, tmp_path: Path) -> None:
    """The eval gate pulls the prediction columns it needs from the database, and judges them alike."""
    local = synthetic.write(synthetic.predictions(20_000, seed=3, bias=0.8), tmp_path / "predictions.parquet")
    load_table(pg, "lending.credit_default_predictions", pq.read_table(local))
    base = ["eval", str(project), "--model", "credit-default"]
    files_code, files = run_gate([*base, "--predictions", str(local)], tmp_path / "f.json")
    table = ["--server", "warehouse", "--table", "lending.credit_default_predictions"]
    server_code, server = run_gate([*base, *table], tmp_path / "s.json")
    assert files_code == server_code == 1  # the bias against one group fails a fairness bound
    assert server["checks"] == files["checks"]
    assert server["inputs"][0]["rows"] == 20_000
