"""The `gate` command line: wiring, the pipelines' exact command lines, outputs, lazy imports."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_gates_support import CREDIT, ROOT, gate, parser

from compiler.gates.data import synthetic

TEMPLATES = ROOT / "compiler" / "templates" / "render"


def _gate_lines(template: str) -> list[str]:
    text = (TEMPLATES / template).read_text("utf-8")
    lines = [line.split("run:", 1)[-1].strip() for line in text.splitlines()]
    return [line for line in lines if line.startswith("charter gate ")]


def test_the_generated_pipelines_command_lines_parse(tmp_path: Path) -> None:
    lines = _gate_lines("model-pipeline.yml.j2") + _gate_lines("model-monitor.yml.j2")
    # The pipeline's data and eval gates; the monitor's drift gate and its `performance` job's eval of labelled
    # production predictions.
    assert [line.split()[2] for line in lines] == ["data", "eval", "drift", "eval"]
    productions = []
    values = {"CONTRACT": "c", "SERVER": "lake", "MODEL": "m", "REFERENCE_SERVER": "lake", "CURRENT_SERVER": "log"}
    for line in lines:
        argv = shlex.split(re.sub(r"\$([A-Z_]+)", lambda m: values[m.group(1)], line))[1:]
        args = parser().parse_args(argv)
        assert args.project == "."
        assert callable(args.run)
        assert args.report.endswith(".json")
        assert "--data" not in argv
        assert "--reference" not in argv
        if args.gate_command == "data":
            assert args.server == "lake"
        if args.gate_command == "drift":
            assert (args.reference_server, args.server) == ("lake", "log")
        if args.gate_command == "eval":
            productions.append((args.production, args.predictions, args.report))
    # The pipeline judges the training's predictions; the monitor the production window, from the model's spec.
    assert productions == [
        (False, ["model-output/predictions.parquet"], "eval-gate.json"),
        (True, None, "production-eval.json"),
    ]
    drift = parser().parse_args(["gate", "drift", ".", "--model", "m", "--reference", "r", "--current", "c"])
    assert drift.summary == "drift-summary.md"


def test_gate_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        parser().parse_args(["gate"])
    assert raised.value.code == 2
    with pytest.raises(SystemExit):
        parser().parse_args(["gate", "data", "."])  # --contract is required
    assert "--contract" in capsys.readouterr().err


def test_outputs_report_summary_step_summary_and_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    predictions = synthetic.write(synthetic.predictions(10_000, seed=4), tmp_path / "predictions.parquet")
    step = tmp_path / "step-summary.md"
    step.write_text("earlier step\n", "utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    out = tmp_path / "out"
    code = gate(
        [
            "eval",
            str(CREDIT),
            "--model",
            "credit-default",
            "--predictions",
            str(predictions),
            "--report",
            str(out / "eval.json"),
            "--summary",
            str(out / "eval.md"),
            "--chart",
            str(out / "eval.png"),
        ]
    )
    assert code == 0
    report = json.loads((out / "eval.json").read_text("utf-8"))
    assert report["gate"] == "eval"
    assert report["verdict"] == "pass"
    assert report["exitCode"] == 0
    assert set(report) >= {"subject", "inputs", "summary", "checks", "metrics", "fairness", "positiveLabel"}
    assert report["positiveLabel"] == "true"
    groups = report["fairness"]["gender"]["groups"]
    assert {"group", "count", "positives", "selectionRate", "truePositiveRate", "falsePositiveRate"} <= set(groups[0])
    summary = (out / "eval.md").read_text("utf-8")
    assert summary.startswith("## ✅ Charter eval gate: pass")
    assert "### Groups of `gender`" in summary
    assert step.read_text("utf-8") == "earlier step\n" + summary + "\n"
    assert (out / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_checking_specs_never_imports_the_gates_dependencies() -> None:
    code = (
        "import sys, argparse\n"
        "from compiler.commands.cli import main\n"
        "from compiler.commands.gate import add_parser\n"
        "add_parser(argparse.ArgumentParser().add_subparsers())\n"
        f"main(['check', {str(CREDIT)!r}])\n"
        "print(sorted(m for m in ('duckdb', 'numpy', 'matplotlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def test_without_the_extra_a_gate_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "duckdb" else real(name, *a))
    assert gate(["data", ".", "--contract", "c", "--data", "d.csv"]) == 2
    assert "pip install 'charter[gates]'" in capsys.readouterr().err


def test_bad_options_exit_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = synthetic.write(synthetic.credit_applications(100), tmp_path / "d.parquet")
    argv = ["data", str(CREDIT), "--contract", "credit-applications", "--data", str(data)]
    assert gate([*argv, "--now", "yesterday"]) == 2
    assert "--now 'yesterday': not an ISO 8601 time" in capsys.readouterr().err
    assert gate([*argv, "--memory-limit", "lots"]) == 2
    assert re.search(r"--memory-limit lots: ", capsys.readouterr().err)
    assert gate(["data", str(tmp_path / "nowhere"), "--contract", "c", "--data", str(data)]) == 2
    assert "no such project directory" in capsys.readouterr().err
