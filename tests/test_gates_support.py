"""Shared helpers of the gate tests: small projects written to tmp dirs, and a gate runner.

The runner parses argv with a bare argparse that only knows
`compiler.commands.gate.add_parser`, as `charter` does once it is wired in.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from compiler.commands import gate as gate_command

if TYPE_CHECKING:
    import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "examples" / "credit-scoring"
IMAGE = "ghcr.io/acme/train@sha256:" + "0" * 64
# Broken rows: every kind of finding the data gate reports, with example values.
BREAKAGE = (
    "UPDATE t SET gender = 'robot' WHERE rowid < 7",
    "UPDATE t SET national_id = 'NID000000000001' WHERE rowid BETWEEN 10 AND 14",
    "UPDATE t SET defaulted = NULL WHERE rowid BETWEEN 20 AND 22",
    "UPDATE t SET loan_amount = 100 WHERE rowid = 30",
    "UPDATE t SET loan_term_months = 13 WHERE rowid BETWEEN 40 AND 41",
    "UPDATE t SET delinquencies_24m = 30 WHERE rowid BETWEEN 50 AND 52",
    "UPDATE t SET application_date = DATE '2999-01-01' WHERE rowid = 60",
)
# The checks BREAKAGE fails, on the credit-scoring contract, whichever engine runs them.
BREAKAGE_FAILS = {
    "gender.quality[0]",
    "national_id.unique",
    "defaulted.required",
    "defaulted.quality[0]",
    "loan_amount.minimum",
    "loan_term_months.quality[0]",
    "applications.quality[1]",
    "applications.quality[2]",
}


def seeded_rows(count: int, breakage: Sequence[str] = BREAKAGE, seed: int = 1) -> pa.Table:
    """`count` synthetic credit applications (of `seed`) with the `breakage` statements applied, in id order."""
    import duckdb

    from compiler.gates.data import synthetic

    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS {synthetic.credit_applications(count, seed=seed)}")
    for statement in breakage:
        con.execute(statement)
    table = con.sql("SELECT * FROM t ORDER BY application_id").to_arrow_table()
    con.close()
    return table


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="charter")
    gate_command.add_parser(top.add_subparsers(dest="command", metavar="COMMAND"))
    return top


def gate(argv: Sequence[str]) -> int:
    """`charter gate ...` in process; the exit code."""
    args = parser().parse_args(["gate", *argv])
    code: int = args.run(args)
    return code


def run_gate(argv: Sequence[str], report: Path) -> tuple[int, dict[str, Any]]:
    code = gate([*argv, "--report", str(report)])
    return code, json.loads(report.read_text("utf-8"))


def check_of(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found = [c for c in report["checks"] if c["id"] == check_id]
    assert found, f"no check {check_id}: {[c['id'] for c in report['checks']]}"
    return found[0]


def column(name: str, logical: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "logicalType": logical, **extra}


def write_project(
    root: Path,
    *,
    task: str = "binary-classification",
    columns: Sequence[dict[str, Any]],
    features: Sequence[str],
    label: str = "y",
    sensitive: Sequence[str] = (),
    metrics: Sequence[dict[str, Any]] = ({"metric": "accuracy", "min": 0.0},),
    fairness: Sequence[dict[str, Any]] = (),
    min_group_size: int = 1,
    positive_label: Any = None,
    slices: Sequence[dict[str, Any]] = (),
    monitoring: dict[str, Any] | None = None,
    table_quality: Sequence[dict[str, Any]] = (),
    contract_extra: dict[str, Any] | None = None,
    tables: Sequence[dict[str, Any]] = (),
) -> Path:
    """A minimal project (one contract, one model, one suite) that checks clean."""
    root.mkdir(parents=True, exist_ok=True)
    table: dict[str, Any] = {"name": "rows", "properties": list(columns)}
    if table_quality:
        table["quality"] = list(table_quality)
    contract: dict[str, Any] = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "data",
        "version": "1.0.0",
        "status": "active",
        "schema": [table, *tables],
        **(contract_extra or {}),
    }
    spec: dict[str, Any] = {
        "task": task,
        "version": "1.0.0",
        "riskTier": "minimal",
        "data": {"training": {"contract": "data"}},
        "features": list(features),
        "label": label,
        "sensitiveFeatures": list(sensitive),
        "training": {"image": IMAGE, "command": ["python", "-m", "train"]},
        "evaluation": {"suite": "eval"},
    }
    if monitoring is not None:  # a monitored model names the production traffic its drift gate reads (CH441)
        spec["monitoring"] = {"schedule": "0 6 * * *", **monitoring}
        spec["data"] = {**spec["data"], "production": {"contract": "data"}}
    model = {"apiVersion": "charter/v1alpha1", "kind": "Model", "metadata": {"name": "model"}, "spec": spec}
    suite_spec: dict[str, Any] = {
        "dataset": {"contract": "data"},
        "metrics": list(metrics),
        "fairness": list(fairness),
        "minGroupSize": min_group_size,
        "slices": list(slices),
    }
    if positive_label is not None:
        suite_spec["positiveLabel"] = positive_label
    suite = {
        "apiVersion": "charter/v1alpha1",
        "kind": "EvaluationSuite",
        "metadata": {"name": "eval"},
        "spec": suite_spec,
    }
    for name, document in (("contract.yaml", contract), ("model.yaml", model), ("suite.yaml", suite)):
        (root / name).write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    return root


def test_the_helper_project_checks_clean(tmp_path: Path) -> None:
    from compiler.core.diagnostics import exit_code
    from compiler.stages import check_path

    root = write_project(
        tmp_path,
        columns=[column("x", "number"), column("y", "integer"), column("g", "string")],
        features=["x"],
        sensitive=["g"],
        fairness=[{"metric": "demographic_parity_difference", "sensitiveFeature": "g", "max": 0.2}],
        monitoring={"drift": {"method": "psi", "threshold": 0.2}},
    )
    result = check_path(root)
    assert exit_code(result.diagnostics) == 0, [d.message for d in result.diagnostics]


def test_a_gate_refuses_a_project_with_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_project(tmp_path / "p", columns=[column("x", "number"), column("y", "integer")], features=["nope"])
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,0\n", "utf-8")
    code = gate(["data", str(root), "--contract", "data", "--data", str(data)])
    assert code == 2
    err = capsys.readouterr().err
    assert "column `nope` is not in contract" in err
    assert "the project has 1 error(s)" in err


# The credit suite's bounds that counts serve (`compiler.gates.eval.aggregates`): every one derives from per-group
# confusion counts, so a server that computes sends counts only. A slice bound, and fairness with intervals.
COUNTED_METRICS = [
    {"metric": "recall", "min": 0.65},
    {"metric": "precision", "min": 0.40},
    {"metric": "accuracy", "min": 0.7},
    {"metric": "f1", "min": 0.5},
    {"metric": "balanced_accuracy", "min": 0.7},
    {"metric": "recall", "slice": "young-applicants", "min": 0.6},
]


def counted_suite(root: Path) -> None:
    """The project's credit suite judged by counts only, with confidence intervals on its fairness bounds."""
    path = root / "suites" / "credit-default-eval.yaml"
    suite = yaml.safe_load(path.read_text("utf-8"))
    suite["spec"]["metrics"] = COUNTED_METRICS
    suite["spec"]["confidence"] = {"level": 0.9, "resamples": 200, "seed": 7}
    path.write_text(yaml.safe_dump(suite, sort_keys=False), "utf-8")


def add_servers(path: Path, *servers: dict[str, Any]) -> None:
    """Append `servers` to the ODCS contract at `path`, keeping its comments and layout (ruamel round trip)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    contract = yaml.load(path.read_text("utf-8"))
    contract["servers"] += list(servers)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
