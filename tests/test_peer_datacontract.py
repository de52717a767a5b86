"""Charter's data gate against datacontract-cli 1.2.8 on the same ODCS contract and the same rows (issue 24).

datacontract-cli runs from `.venv-peers` (`make peers`: it pins duckdb below 2, so it cannot share the test venv).
Every quality rule is judged by both; each must give the same verdict and the same number, or differ by a
definition Charter chose and the README documents (DOCUMENTED), in which case each number is checked against
pandas computing that definition. Where datacontract-cli has no verdict (a rule it skips), Charter's stands alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from test_gates_support import column, run_gate, write_project

ROOT = Path(__file__).resolve().parent.parent
PEER = Path(os.environ.get("CHARTER_PEER_DATACONTRACT", ROOT / ".venv-peers" / "bin" / "datacontract"))


@pytest.fixture(scope="module")
def peer() -> Path:
    if not PEER.exists():
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(f"{PEER} is missing: run `make peers`")
        pytest.skip(f"{PEER} is missing: run `make peers`")
    return PEER


def rule(metric: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"metric": metric, **extra}]


COLUMNS = [
    column("x", "number"),
    column("y", "integer"),
    column("id", "integer", quality=rule("duplicateValues", mustBe=0)),
    column("code", "string", quality=rule("nullValues", mustBe=0)),
    # Its own column: two rules of one metric on a column break datacontract-cli 1.2.8 ("Duplicate column name").
    column("note", "string", quality=rule("nullValues", unit="percent", mustBeLessThan=20)),
    column("status", "string", quality=rule("missingValues", arguments={"missingValues": ["N/A"]}, mustBeLessThan=2)),
    column("tier", "string", quality=rule("invalidValues", arguments={"validValues": ["gold", "silver"]}, mustBe=0)),
    column("email", "string", quality=rule("invalidValues", arguments={"pattern": "^[a-z]+@x[.]com$"}, mustBe=0)),
    column("amount", "number", quality=rule("nullValues", mustBeLessOrEqualTo=1)),
]
TABLE_RULES = [
    {"metric": "rowCount", "mustBeGreaterThan": 5},
    {"type": "sql", "query": "SELECT count(*) = 8 FROM rows", "mustBe": True},
    {"type": "sql", "query": "SELECT count(*) = count(DISTINCT id) FROM rows", "mustBe": True},  # issue 24, 1
    {"type": "sql", "query": "SELECT count(*) FROM rows WHERE amount > 100", "mustBeLessThan": 2},
]
# Definitions where Charter and datacontract-cli differ on purpose (README, data gate): rule -> the two numbers.
DOCUMENTED = {
    "duplicateValues": (
        lambda values: int(values.dropna().duplicated().sum()),  # Charter: rows repeating an earlier value
        lambda values: int((values.dropna().value_counts() > 1).sum()),  # datacontract-cli: values seen twice or more
    ),
    "unit: percent": (
        lambda values: 100 * int(values.isna().sum()) / len(values),  # Charter: a percentage of all rows
        lambda values: int(values.isna().sum()),  # datacontract-cli 1.2.8 judges the percentage, reports the count
    ),
}
DATA = {
    "edges": pd.DataFrame(
        {
            "x": [1.0] * 8,
            "y": [0] * 8,
            "id": [1, 2, 2, 2, 3, 4, 4, 5],
            "code": ["a", None, "b", "c", None, "d", "e", "f"],
            "status": ["ok", "N/A", None, "ok", "ok", "ok", "N/A", "ok"],
            "tier": ["gold", "silver", "bronze", "gold", None, "GOLD", "gold", "silver"],
            "email": ["ann@x.com", "bob@y.com", "cy@x.com", None, "Dee@x.com", "ed@x.com", "fi@x.com", "g@x.com"],
            "amount": [10.0, 200.0, 300.0, None, 40.0, 50.0, 60.0, 70.0],
            "note": [None, None, "n", "n", None, "n", "n", "n"],
        }
    ),
    "clean": pd.DataFrame(
        {
            "x": [1.0] * 8,
            "y": [0] * 8,
            "id": list(range(8)),
            "code": list("abcdefgh"),
            "status": ["ok"] * 7 + ["N/A"],
            "tier": ["gold", "silver"] * 4,
            "email": [f"{name}@x.com" for name in "abcdefgh"],
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 200.0],
            "note": ["n"] * 7 + [None],
        }
    ),
}


def contract_rules() -> dict[str, dict[str, Any]]:
    """Charter's check id of every quality rule, by the rule itself (as JSON, keys sorted)."""
    found = {json.dumps(r, sort_keys=True): f"rows.quality[{i}]" for i, r in enumerate(TABLE_RULES)}
    for spec in COLUMNS:
        for i, item in enumerate(spec.get("quality", [])):
            found[json.dumps(item, sort_keys=True)] = f"{spec['name']}.quality[{i}]"
    return found


@pytest.mark.parametrize("name", sorted(DATA))
def test_charter_and_datacontract_cli_agree_on_every_rule(peer: Path, tmp_path: Path, name: str) -> None:
    frame = DATA[name]
    root = write_project(
        tmp_path,
        columns=COLUMNS,
        features=["x"],
        table_quality=TABLE_RULES,
        contract_extra={"servers": [{"server": "local", "type": "local", "path": "./data.csv", "format": "csv"}]},
    )
    frame.to_csv(root / "data.csv", index=False)
    code, charter = run_gate(
        ["data", str(root), "--contract", "data", "--data", str(root / "data.csv")], tmp_path / "c.json"
    )
    ran = subprocess.run(
        [str(peer), "test", "contract.yaml", "--output-format", "json", "--output", "peer.json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert (root / "peer.json").exists(), ran.stdout[-2000:] + ran.stderr[-2000:]
    checks = json.loads((root / "peer.json").read_text("utf-8"))["checks"]
    ids = contract_rules()
    ours = {c["id"]: c for c in charter["checks"]}
    compared = 0
    for check in (c for c in checks if c.get("qualityDefinition")):
        definition = yaml.safe_load(check["qualityDefinition"])
        ours_check = ours[ids[json.dumps(definition, sort_keys=True)]]
        theirs = (check["result"], (check.get("diagnostics") or {}).get("value"))
        assert check["result"] in ("passed", "failed"), check  # the peer judged it
        kind = "unit: percent" if definition.get("unit") == "percent" else definition.get("metric")
        if kind in DOCUMENTED:
            charter_value, peer_value = (way(frame[check["field"]]) for way in DOCUMENTED[kind])
            assert (ours_check["value"], theirs[1]) == (charter_value, peer_value), check["name"]
            if kind == "unit: percent":
                assert {"pass": "passed", "fail": "failed"}[ours_check["status"]] == theirs[0], check["name"]
        else:
            status = {"pass": "passed", "fail": "failed"}[ours_check["status"]]
            assert (status, ours_check["value"]) == theirs, (check["name"], ours_check)
        compared += 1
    assert compared == len(ids)
    assert code == (0 if name == "clean" else 1)
    assert (ran.returncode == 0) == (name == "clean")


# --- datacontract-cli's own ODCS fixtures, with their data (tests/peer-fixtures/datacontract-cli) -----------------

FIXTURES = ROOT / "tests" / "peer-fixtures" / "datacontract-cli"
CONTRACTS = [
    "fixtures/quality-id/datacontract.yaml",
    "fixtures/quality-dimensions/datacontract.yaml",
    "fixtures/row-filter/datacontract.yaml",
    "fixtures/schema-evolution/odcs-datacontract-cities-version-1.yaml",
    "fixtures/schema-evolution/odcs-datacontract-cities-version-2.yaml",
    "fixtures/schema-evolution/odcs-datacontract-cities-version-3.yaml",
    "fixtures/parquet/datacontract_number_no_precision.odcs.yaml",
]
# Contracts the official ODCS JSON Schema rejects; datacontract-cli runs them anyway, Charter refuses them (exit 2).
INVALID = {"fixtures/schema-evolution/odcs-datacontract-cities-version-2.yaml": "unknown field `delimiter`"}
# datacontract-cli's check type -> the suffix of Charter's check on the same field.
SAME_CHECK = {
    "field_required": "required",
    "field_minimum": "minimum",
    "field_maximum": "maximum",
    "field_unique": "unique",
}


def runs() -> list[tuple[str, str]]:
    found = []
    for contract in CONTRACTS:
        document = yaml.safe_load((FIXTURES / contract).read_text("utf-8"))
        found += [(contract, s["server"]) for s in document["servers"] if s.get("format") in ("csv", "parquet")]
    return found


# The Project of the repository a user runs these contracts in. Its `local` servers contact nothing, so it trusts no
# endpoint (`spec.endpoints` stays empty): their paths are read inside the project root, as the gate requires.
CHARTER = """\
apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: peer-fixtures
  owner: team-data
"""


def lay_out(project: Path, contract: str) -> Path:
    """The repository a user has: charter.yaml, the contract, and the fixtures' data at the paths the contract's
    servers name (`./fixtures/...`, relative to the project root, where both tools run). Only this contract is
    a spec: the other fixtures' YAML stays out."""
    project.mkdir()
    (project / "charter.yaml").write_text(CHARTER, "utf-8")
    (project / "contract.yaml").write_text((FIXTURES / contract).read_text("utf-8"), "utf-8")
    shutil.copytree(FIXTURES / "fixtures", project / "fixtures", ignore=shutil.ignore_patterns("*.yaml"))
    return project


@pytest.mark.parametrize(("contract", "server"), runs())
def test_datacontract_cli_fixtures_get_the_same_findings(
    peer: Path, tmp_path: Path, contract: str, server: str
) -> None:
    document = yaml.safe_load((FIXTURES / contract).read_text("utf-8"))
    project = lay_out(tmp_path / "project", contract)
    argv = [
        str(peer),
        "test",
        "contract.yaml",
        "--server",
        server,
        "--output-format",
        "json",
        "--output",
        str(tmp_path / "p.json"),
    ]
    ran = subprocess.run(argv, cwd=project, capture_output=True, text=True, check=False, timeout=300)
    theirs = json.loads((tmp_path / "p.json").read_text("utf-8"))
    # Charter runs from elsewhere: a local path is the project's, whatever the working directory.
    charter = subprocess.run(
        [
            sys.executable,
            "-m",
            "compiler",
            "gate",
            "data",
            str(project),
            "--contract",
            document["id"],
            "--server",
            server,
            "--report",
            str(tmp_path / "c.json"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if contract in INVALID:
        assert charter.returncode == 2
        assert INVALID[contract] in charter.stdout + charter.stderr
        return
    assert charter.returncode in (0, 1), charter.stdout + charter.stderr  # the gate judged the data
    ours = json.loads((tmp_path / "c.json").read_text("utf-8"))
    by_id = {c["id"]: c for c in ours["checks"]}
    assert (ours["verdict"] == "fail") == (theirs["result"] == "failed"), (ours["verdict"], theirs["result"])
    assert (charter.returncode == 1) == (ran.returncode == 1)
    for check in theirs["checks"]:
        if check["result"] == "warning":  # "Checking types in parquet files is not supported yet"
            continue
        value = (check.get("diagnostics") or {}).get("value")
        absent = by_id.get(f"{check['field']}.present", {}).get("status") == "fail"
        if absent and check["type"] != "field_is_present":
            continue  # a column the data lacks fails once in Charter (`present`); the peer also counts it as nulls
        if check["type"] in SAME_CHECK:
            mine = by_id[f"{check['field']}.{SAME_CHECK[check['type']]}"]
            assert (mine["status"], mine["value"]) == ({"passed": "pass", "failed": "fail"}[check["result"]], value)
        elif check["type"] == "field_is_present":
            assert by_id[f"{check['field']}.present"]["status"] == {"passed": "pass", "failed": "fail"}[check["result"]]
        elif check.get("qualityDefinition"):
            table = document["schema"][0]
            position = table["quality"].index(yaml.safe_load(check["qualityDefinition"]))
            mine = by_id[f"{table['name']}.quality[{position}]"]
            assert (mine["status"], mine["value"]) == ({"passed": "pass", "failed": "fail"}[check["result"]], value)
