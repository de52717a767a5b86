"""Snowflake: the data gate's checks pushed down through the real Snowflake connector, to fakesnow's server.

fakesnow runs Snowflake SQL on DuckDB, so this proves the driver (login from the environment, session
parameters, the SQL Charter renders in Snowflake's dialect, results back), not Snowflake's own engine.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fakesnow_server import Snowflake, fakesnow
from ruamel.yaml import YAML
from test_gates_support import CREDIT, counted_suite, run_gate, seeded_rows

pytest.importorskip("snowflake.connector", reason="snowflake-connector-python is in the snowflake extra")

NOW = "2024-07-01T06:00:00Z"
ROWS = 2_000
BREAKAGE = (
    "UPDATE t SET gender = 'robot' WHERE rowid < 7",
    "UPDATE t SET national_id = 'NID000000000001' WHERE rowid BETWEEN 10 AND 14",
    "UPDATE t SET defaulted = NULL WHERE rowid BETWEEN 20 AND 22",
    "UPDATE t SET loan_amount = 100 WHERE rowid = 30",
    "UPDATE t SET delinquencies_24m = 30 WHERE rowid BETWEEN 50 AND 52",
)
_TYPES = {"string": "TEXT", "double": "FLOAT", "int32": "NUMBER(38,0)", "bool": "BOOLEAN", "date32[day]": "DATE"}


def _load_table(server: Snowflake, table: pa.Table, name: str, create_schema: bool = False) -> None:
    """`table` written to fakesnow's `name` through the real connector, as a Snowflake user would load it."""
    import snowflake.connector

    env = server.environment
    con = snowflake.connector.connect(
        user=env["SNOWFLAKE_USER"], password=env["SNOWFLAKE_PASSWORD"], account=env["SNOWFLAKE_ACCOUNT"],
        host=env["SNOWFLAKE_HOST"], port=server.port, protocol="http", network_timeout=30,
    )  # fmt: skip
    cursor = con.cursor()
    if create_schema:
        cursor.execute("CREATE DATABASE analytics")
        cursor.execute("CREATE SCHEMA analytics.lending")
    columns = ", ".join(f'"{f.name}" {_TYPES[str(f.type)]}' for f in table.schema)
    cursor.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    names = ", ".join(f'"{n}"' for n in table.schema.names)
    marks = ", ".join(["%s"] * len(table.schema))
    cursor.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", [tuple(r.values()) for r in table.to_pylist()])
    con.close()


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return seeded_rows(ROWS, BREAKAGE)


@pytest.fixture(scope="module")
def snowflake(rows: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snowflake]:
    with fakesnow(tmp_path_factory.mktemp("fakesnow") / "server.log") as server:
        _load_table(server, rows, "analytics.lending.credit_applications_v2", create_schema=True)
        yield server


@pytest.fixture
def project(tmp_path: Path, rows: pa.Table, snowflake: Snowflake, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
    pq.write_table(rows, root / "applications.parquet")
    path = root / "contracts" / "credit-applications.odcs.yaml"
    yaml = YAML()
    contract = yaml.load(path.read_text("utf-8"))
    contract["servers"].append(
        {"server": "snowflake", "type": "snowflake", "account": "acme-lending", "database": "analytics",
         "schema": "lending", "warehouse": "gates"}
    )  # fmt: skip
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    for key, value in snowflake.environment.items():
        monkeypatch.setenv(key, value)
    return root


def data_gate(project: Path, report: Path, *source: str) -> tuple[int, dict[str, Any]]:
    return run_gate(["data", str(project), "--contract", "credit-applications", *source, "--now", NOW], report)


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check; Snowflake stores integers as NUMBER(38,0), so a type check's stored type is left out."""
    return [
        {k: v for k, v in c.items() if (k != "details" or "query" not in v) and (k != "value" or c["code"] != "CH701")}
        for c in report["checks"]
    ]


def test_snowflake_gives_the_findings_of_the_local_file(project: Path, tmp_path: Path) -> None:
    local_code, local = data_gate(project, tmp_path / "local.json", "--data", str(project / "applications.parquet"))
    snow_code, snow = data_gate(project, tmp_path / "snow.json", "--server", "snowflake")
    assert local_code == snow_code == 1
    assert findings(snow) == findings(local)
    assert snow["inputs"][0]["rows"] == ROWS
    assert snow["inputs"][0]["digest"].startswith("sha256:")
    assert all(c["status"] == "pass" for c in snow["checks"] if c["code"] == "CH701")
    failed = {c["id"] for c in snow["checks"] if c["status"] == "fail"}
    assert {"gender.quality[0]", "national_id.unique", "defaulted.required", "loan_amount.minimum"} <= failed


def test_another_account_than_the_credentials_is_not_contacted(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "acme-other")
    code, report = data_gate(project, tmp_path / "r.json", "--server", "snowflake")
    assert code == 2
    assert report["error"].startswith(
        "CH788 server `snowflake` (snowflake): account `acme-lending` is not the account SNOWFLAKE_ACCOUNT names"
    )


def test_snowflake_counts_the_eval_gates_confusion_matrices(
    project: Path, snowflake: Snowflake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The eval gate's counts pushed down through the connector: the local file's report, only counts back."""
    from compiler.gates.data import synthetic
    from compiler.gates.io import snowflake_engine

    local = synthetic.write(synthetic.predictions(3_000, seed=3, bias=0.8), tmp_path / "predictions.parquet")
    table = pq.read_table(local)
    _load_table(snowflake, table, "analytics.lending.credit_default_predictions")
    holdout = project / "contracts" / "credit-holdout.odcs.yaml"
    yaml = YAML()
    contract = yaml.load(holdout.read_text("utf-8"))
    contract["servers"].append(
        {"server": "snowflake", "type": "snowflake", "account": "acme-lending", "database": "analytics",
         "schema": "lending", "warehouse": "gates"}
    )  # fmt: skip
    with holdout.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    counted_suite(project)
    returned: list[int] = []
    execute = snowflake_engine.SnowflakeDatabase.execute

    def counting(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        rows = execute(self, sql, *args, **kwargs)
        returned.append(len(rows.fetchall()))
        return rows

    monkeypatch.setattr(snowflake_engine.SnowflakeDatabase, "execute", counting)
    base = ["eval", str(project), "--model", "credit-default"]
    local_code, local_report = run_gate([*base, "--predictions", str(local)], tmp_path / "local.json")
    snow_code, snow = run_gate(
        [*base, "--server", "snowflake", "--table", "credit_default_predictions"], tmp_path / "s"
    )
    assert local_code == snow_code == 1
    same = ("headline", "inputs")
    assert {k: v for k, v in snow.items() if k not in same} == {k: v for k, v in local_report.items() if k not in same}
    assert snow["inputs"][0]["pushdown"] == "counts pushed down"
    assert max(returned) <= 2 * 2 * 2 * 6 * 4 * 5
