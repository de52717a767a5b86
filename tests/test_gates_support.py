"""Shared helpers of the gate tests: small projects written to tmp dirs, and a gate runner.

The runner parses argv with a bare argparse that only knows
`compiler.commands.gate.add_parser`, as `charter` does once it is wired in.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.commands import gate as gate_command

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "examples" / "credit-scoring"
IMAGE = "ghcr.io/acme/train@sha256:" + "0" * 64


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
