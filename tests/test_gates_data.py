"""`charter gate data`: real files against ODCS contracts, every rule on every format."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from test_gates_support import CREDIT, check_of, column, gate, run_gate, write_project

from compiler.gates.data import synthetic

NOW = "2024-07-01T06:00:00Z"  # the synthetic applications' newest date is 2024-06-30


@pytest.fixture(scope="module")
def applications(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60,000 applications that meet the credit-applications contract (it asks for more than 50,000)."""
    folder = tmp_path_factory.mktemp("applications")
    return synthetic.write(synthetic.credit_applications(60_000), folder / "applications.parquet")


def mutate(source: Path, target: Path, *statements: str) -> Path:
    """Copy a data set through DuckDB, changed by SQL statements on table `t`."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM '{source}'")
    for statement in statements:
        con.execute(statement)
    fmt = "(FORMAT parquet)" if target.suffix == ".parquet" else "(HEADER)"
    con.execute(f"COPY t TO '{target}' {fmt}")
    con.close()
    return target


def credit(data: Path | str, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    argv = ["data", str(CREDIT), "--contract", "credit-applications", "--data", str(data), "--now", NOW, *extra]
    return run_gate(argv, report)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_clean_data_passes_the_example_contract(applications: Path, tmp_path: Path, fmt: str) -> None:
    data = mutate(applications, tmp_path / f"clean.{fmt}")
    code, report = credit(data, tmp_path / "r.json")
    assert code == 0, [c for c in report["checks"] if c["status"] != "pass"]
    assert report["inputs"][0]["rows"] == 60_000
    ids = {c["id"] for c in report["checks"]}
    assert {"gender.quality[0]", "application_id.unique", "defaulted.required", "applications.quality[0]"} <= ids
    assert check_of(report, "application_date.freshness")["status"] == "pass"
    assert check_of(report, "loan_amount.minimum")["status"] == "pass"
    assert check_of(report, "marital_status.quality[0]")["unit"] == "%"


def test_a_folder_of_parquet_parts_is_one_data_set(applications: Path, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM '{applications}') TO '{folder}' (FORMAT parquet, PER_THREAD_OUTPUT true)")
    con.execute(f"COPY (SELECT * FROM '{applications}' LIMIT 5) TO '{folder / 'extra.parquet'}' (FORMAT parquet)")
    con.close()
    (folder / "_SUCCESS").write_text("", "utf-8")
    code, report = credit(folder, tmp_path / "r.json")
    assert report["inputs"][0]["rows"] == 60_005
    assert len(report["inputs"][0]["files"]) >= 2
    assert code == 1  # the five extra rows repeat ids
    assert check_of(report, "application_id.unique")["value"] == 5


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_broken_rule_is_reported(applications: Path, tmp_path: Path, fmt: str) -> None:
    data = mutate(
        applications,
        tmp_path / f"bad.{fmt}",
        "UPDATE t SET gender = 'robot' WHERE rowid < 7",
        "UPDATE t SET national_id = 'NID000000000001' WHERE rowid BETWEEN 10 AND 14",
        "UPDATE t SET defaulted = NULL WHERE rowid BETWEEN 20 AND 22",
        "UPDATE t SET marital_status = NULL WHERE rowid < 3000",
        "UPDATE t SET loan_amount = 100 WHERE rowid = 30",
        "UPDATE t SET loan_term_months = 13 WHERE rowid IN (40, 41)",
        "ALTER TABLE t DROP COLUMN employment_status",
    )
    code, report = credit(data, tmp_path / "r.json", "--summary", str(tmp_path / "s.md"))
    assert code == 1
    expected = {
        "gender.quality[0]": 7,
        "national_id.unique": 5,
        "defaulted.required": 3,
        "defaulted.quality[0]": 3,
        "loan_amount.minimum": 1,
        "loan_term_months.quality[0]": 2,
    }
    for check_id, value in expected.items():
        check = check_of(report, check_id)
        assert (check["status"], check["value"]) == ("fail", value), check
    assert "'robot'" in check_of(report, "gender.quality[0]")["message"]
    assert check_of(report, "employment_status.present")["status"] == "fail"
    warned = check_of(report, "marital_status.quality[0]")
    assert warned["status"] == "warn"  # severity: warning in the contract
    assert warned["value"] == pytest.approx(100 * (2999 + warned["details"]["count"] - 2999) / 60_000)
    summary = (tmp_path / "s.md").read_text("utf-8")
    assert summary.startswith("## ❌ Charter data gate: fail")
    assert "robot" in summary


def test_csv_values_that_do_not_parse_as_the_logical_type(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        columns=[
            column("x", "number"),
            column("y", "integer"),
            column("flag", "boolean"),
            column("day", "date"),
            column("at", "timestamp"),
        ],
        features=["x"],
    )
    data = tmp_path / "d.csv"
    data.write_text(
        "x,y,flag,day,at\n"
        "1.5,1,true,2024-01-01,2024-01-01T10:00:00Z\n"
        "abc,2.5,maybe,2024-13-01,yesterday\n"
        "2,3,0,2024-02-29,2024-02-29 23:59:59\n",
        "utf-8",
    )
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    assert code == 1
    for name, bad in (
        ("x", "'abc'"),
        ("y", "'2.5'"),
        ("flag", "'maybe'"),
        ("day", "'2024-13-01'"),
        ("at", "'yesterday'"),
    ):
        check = check_of(report, f"{name}.type")
        assert (check["status"], check["value"]) == ("fail", 1), check
        assert bad in check["message"]


def test_parquet_column_types_are_compared_with_logical_types(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        columns=[column("x", "number"), column("y", "integer"), column("s", "string"), column("d", "date")],
        features=["x"],
    )
    data = tmp_path / "d.parquet"
    pd.DataFrame({"x": [1, 2], "y": [1.5, 2.0], "s": ["a", "b"], "d": ["2024-01-01", "2024-01-02"]}).to_parquet(data)
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    assert code == 1
    assert check_of(report, "x.type")["status"] == "pass"  # integers are numbers
    assert check_of(report, "y.type")["status"] == "fail"
    assert check_of(report, "y.type")["value"] == "DOUBLE"
    assert check_of(report, "d.type")["status"] == "fail"


def test_quality_operators_units_and_rule_kinds(tmp_path: Path) -> None:
    def rule(metric: str, **extra: Any) -> dict[str, Any]:
        return {"metric": metric, **extra}

    root = write_project(
        tmp_path / "p",
        columns=[
            column("x", "number"),
            column("y", "integer"),
            column(
                "code",
                "string",
                quality=[
                    rule("nullValues", mustBeLessOrEqualTo=10, unit="percent"),  # 10% nulls: holds
                    rule("nullValues", mustNotBe=1),  # 1 null: fails
                    rule("missingValues", arguments={"missingValues": [None, "", "N/A"]}, mustBeBetween=[2, 3]),
                    rule("invalidValues", arguments={"pattern": "^[A-Z]{2}[0-9]$"}, mustBeLessThan=1),
                    rule("duplicateValues", mustNotBeBetween=[1, 100]),
                    {"type": "text", "description": "codes are assigned by the registry"},
                    {"type": "sql", "query": "SELECT COUNT(*) FROM {object}", "mustBeGreaterThan": 0},
                    {"type": "custom", "engine": "soda", "implementation": "type: duplicate_percent"},
                ],
            ),
            column("tier", "integer", enum=[{"value": 1}, {"value": 2}]),
            column("color", "string", customProperties=[{"property": "enum", "value": ["red", "blue"]}]),
            column("name", "string", logicalTypeOptions={"minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"}),
        ],
        features=["x"],
        table_quality=[
            rule("rowCount", mustBeGreaterOrEqualTo=10),
            rule("rowCount", mustBeLessThan=5),
            rule("duplicateValues", arguments={"properties": ["tier", "color"]}, mustBeGreaterThan=0),
        ],
    )
    rows = ["x,y,code,tier,color,name"] + [f"{i},{i},AB{i},{1 + i % 2},red,abc" for i in range(8)]
    rows += ["8,8,,3,green,a", "9,9,N/A,1,blue,ABCDE"]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n", "utf-8")
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    assert code == 1
    status = {c["id"]: (c["status"], c["value"]) for c in report["checks"]}
    assert status["code.quality[0]"] == ("pass", 10.0)
    assert status["code.quality[1]"] == ("fail", 1)
    assert status["code.quality[2]"] == ("pass", 2)
    assert status["code.quality[3]"] == ("fail", 1)  # N/A does not match
    assert status["code.quality[4]"] == ("pass", 0)
    for index, kind in ((5, "text"), (7, "custom")):
        check = check_of(report, f"code.quality[{index}]")
        assert check["status"] == "skipped"
        assert f"not checkable: a `{kind}` rule" in check["message"]
    # A `sql` rule runs: `{object}` is the table.
    assert status["code.quality[6]"] == ("pass", 10)
    assert check_of(report, "code.quality[6]")["message"] == "the query returned 10"
    assert status["tier.allowed"] == ("fail", 1)  # 3 is not in the ODCS 3.2 enum
    assert status["color.allowed"] == ("fail", 1)  # green, from customProperties
    assert status["name.minLength"] == ("fail", 1)
    assert status["name.maxLength"] == ("fail", 1)
    assert status["name.pattern"] == ("fail", 1)
    assert status["rows.quality[0]"] == ("pass", 10)
    assert status["rows.quality[1]"] == ("fail", 10)
    assert status["rows.quality[2]"][0] == "pass"  # (1, red) and (2, red) repeat


@pytest.mark.parametrize(("now", "status"), [("2024-07-01T00:00:00Z", "pass"), ("2024-07-03T00:00:00Z", "fail")])
def test_freshness_from_the_sla(tmp_path: Path, now: str, status: str) -> None:
    root = write_project(
        tmp_path / "p",
        columns=[column("x", "number"), column("y", "integer"), column("at", "timestamp")],
        features=["x"],
        contract_extra={"slaProperties": [{"property": "latency", "value": 36, "unit": "h", "element": "rows.at"}]},
    )
    data = tmp_path / "d.csv"
    data.write_text("x,y,at\n1,1,2024-06-29T12:00:00Z\n2,2,2024-06-30T12:00:00+00:00\n", "utf-8")
    code, report = run_gate(
        ["data", str(root), "--contract", "data", "--data", str(data), "--now", now], tmp_path / "r.json"
    )
    check = check_of(report, "at.freshness")
    assert check["status"] == status
    assert check["details"]["newest"] == "2024-06-30T12:00:00+00:00"
    assert code == (0 if status == "pass" else 1)


def test_freshness_is_judged_now_by_default(tmp_path: Path) -> None:
    today = datetime.datetime.now(datetime.UTC).date()
    root = write_project(
        tmp_path / "p",
        columns=[column("x", "number"), column("y", "integer"), column("day", "date")],
        features=["x"],
        contract_extra={"slaProperties": [{"property": "latency", "value": 1, "unit": "d"}]},
    )
    data = tmp_path / "d.csv"
    data.write_text(f"x,y,day\n1,1,{today.isoformat()}\n", "utf-8")
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    assert code == 0
    assert check_of(report, "day.freshness")["status"] == "pass"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file or directory"),
        ("", "the file is empty"),
        ("x,y\n", "no rows"),
    ],
)
def test_unusable_data_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    root = write_project(tmp_path / "p", columns=[column("x", "number"), column("y", "integer")], features=["x"])
    data = tmp_path / "d.csv"
    if content is not None:
        data.write_text(content, "utf-8")
    code, report = run_gate(["data", str(root), "--contract", "data", "--data", str(data)], tmp_path / "r.json")
    assert code == 2
    err = capsys.readouterr().err
    assert f"{data}: {message}" in err
    assert report["verdict"] == "error"


def test_contract_and_table_must_be_known(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_project(
        tmp_path / "p",
        columns=[column("x", "number"), column("y", "integer")],
        features=["x"],
        tables=[{"name": "other", "properties": [column("z", "string")]}],
    )
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n", "utf-8")
    assert gate(["data", str(root), "--contract", "nope", "--data", str(data)]) == 2
    assert "no data contract `nope`" in capsys.readouterr().err
    assert gate(["data", str(root), "--contract", "data", "--data", str(data)]) == 2
    assert "add --table with one of: rows, other" in capsys.readouterr().err
    assert gate(["data", str(root), "--contract", "data", "--table", "rows", "--data", str(data)]) == 0
    assert gate(["data", str(root), "--contract", "data", "--table", "nope", "--data", str(data)]) == 2


def test_a_low_memory_limit_still_checks_uniqueness(applications: Path, tmp_path: Path) -> None:
    code, report = credit(applications, tmp_path / "r.json", "--memory-limit", "64MB", "--threads", "1")
    assert code == 0
    assert check_of(report, "national_id.unique")["value"] == 0


@pytest.mark.parametrize("where", ["file", "folder", "inside-folder"])
def test_a_symbolic_link_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """A data path in the checkout that links to a secret: refused, and no byte of the secret is shown."""
    from compiler.gates.errors import UnusableInput
    from compiler.gates.io.inputs import open_source

    secret = tmp_path / "secret.csv"
    secret.write_text("token\nghp_SECRET_VALUE\n")
    monkeypatch.chdir(tmp_path)
    Path("data").mkdir()
    if where == "file":
        Path("data/applications.csv").symlink_to(secret)
        given = "data/applications.csv"
    elif where == "folder":
        Path("data/parts").symlink_to(tmp_path, target_is_directory=True)
        given = "data/parts/secret.csv"
    else:
        Path("data/real.csv").write_text("a\n1\n")
        Path("data/link.csv").symlink_to(secret)
        assert open_source(["data"]).files == ("data/real.csv",)
        return
    with pytest.raises(UnusableInput) as refused:
        open_source([given])
    assert "symbolic link" in refused.value.message
    assert "SECRET" not in str(refused.value)


def test_a_gate_prints_its_report_in_every_format_of_the_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON is the report itself, Markdown the summary; any other format shows the checks as findings."""
    root = write_project(
        tmp_path / "p", columns=[column("x", "number"), column("y", "integer", required=True)], features=["x"]
    )
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,0\n2,\n", "utf-8")
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    base = ["data", str(root), "--contract", "data", "--data", str(data), "--report", str(report)]
    assert gate([*base, "--summary", str(summary), "--format", "json"]) == 1
    assert capsys.readouterr().out == report.read_text("utf-8")
    assert gate([*base, "--summary", str(summary), "--format", "markdown"]) == 1
    assert capsys.readouterr().out == summary.read_text("utf-8")
    assert gate([*base, "--format", "junit"]) == 1
    junit = capsys.readouterr().out
    assert junit.count("<testcase ") == 5
    assert '<failure message="fail: `y` required: no nulls = 1 (expected 0): 1 of 2 rows (50%)" type="CH702">' in junit
    assert gate([*base, "--format", "sarif"]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results if r["level"] != "note"] == [("CH702", "error")]
