"""What the generated workflows do with data: read it from the contracts' servers, with OIDC credentials
only where data is read, and a monitor that tells drift (exit 1) from a gate that could not run (exit 2).

The monitor's three outcomes are decided by the `if:` conditions GitHub
evaluates; `evaluate` below reads that expression subset (`==`, `!=`, `&&`,
`||`, `!`, parentheses, string literals and `steps.<id>.outputs.<name>`) and
refuses anything else, so a condition it cannot judge fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.pins import PINS

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "examples" / "credit-scoring"
WORKFLOWS = CREDIT / ".github" / "workflows"
_TOKEN = re.compile(r"\s*(?:(==|!=|&&|\|\||!|\(|\))|'([^']*)'|(steps\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+))")


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(expression.rstrip()):
        match = _TOKEN.match(expression, at)
        assert match, f"cannot read the condition at {expression[at:]!r}"
        operator, literal, reference = match.groups()
        tokens.append(("op", operator) if operator else ("str", literal) if literal is not None else ("ref", reference))
        at = match.end()
    return tokens


def evaluate(expression: str, outputs: dict[str, str]) -> bool:
    """GitHub's truthiness for the subset: a missing output is the empty string."""
    tokens = _tokens(expression)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def primary() -> Any:
        kind, text = take()
        if (kind, text) == ("op", "!"):
            return not primary()
        if (kind, text) == ("op", "("):
            value = disjunction()
            assert take() == ("op", ")")
            return value
        if kind == "str":
            return text
        assert kind == "ref", f"unexpected {text!r}"
        return outputs.get(text.rsplit(".", 1)[-1], "")

    def comparison() -> Any:
        left = primary()
        while peek() in (("op", "=="), ("op", "!=")):
            operator = take()[1]
            right = primary()
            left = (left == right) if operator == "==" else (left != right)
        return left

    def conjunction() -> Any:
        value = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            value = value and right
        return value

    def disjunction() -> Any:
        value = conjunction()
        while peek() == ("op", "||"):
            take()
            right = conjunction()
            value = value or right
        return value

    result = disjunction()
    assert position == len(tokens), f"left over in {expression!r}"
    return bool(result)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    return document


def steps_after_the_gate(exit_code: str) -> list[str]:
    """The names of the monitor's steps after the drift gate that run, for one exit code of the gate."""
    steps = load("monitor-credit-default.yml")["jobs"]["drift"]["steps"]
    gate_at = next(i for i, step in enumerate(steps) if step.get("id") == "drift")
    outputs = {"exit_code": exit_code} if exit_code else {}
    ran = []
    for step in steps[gate_at + 1 :]:
        condition = step.get("if")
        assert condition is not None, f"step {step['name']!r} after the gate must say when it runs"
        if evaluate(condition, outputs):
            ran.append(step["name"])
    return ran


def test_the_drift_gate_records_its_exit_code_whatever_it_is() -> None:
    steps = load("monitor-credit-default.yml")["jobs"]["drift"]["steps"]
    gate = next(step for step in steps if step.get("id") == "drift")
    lines = gate["run"].strip().splitlines()
    assert lines[0] == "set +e"
    assert lines[1].startswith("charter gate drift . ")
    assert lines[-1] == 'echo "exit_code=$?" >> "$GITHUB_OUTPUT"'
    assert "continue-on-error" not in gate


@pytest.mark.parametrize(
    ("exit_code", "expected"),
    [
        ("0", ["Upload the report", "Record the report as evidence of the model version", "Upload the evidence"]),
        (
            "1",
            [
                "Dispatch retraining",
                "Tell the owners about the drift",
                "Upload the report",
                "Record the report as evidence of the model version",
                "Upload the evidence",
                "Fail the run unless the gate passed",
            ],
        ),
        ("2", ["Tell the owners that the drift gate could not run", "Fail the run unless the gate passed"]),
        # The step died before writing its output: not drift either.
        ("", ["Tell the owners that the drift gate could not run", "Fail the run unless the gate passed"]),
    ],
)
def test_the_monitor_tells_drift_from_failure(exit_code: str, expected: list[str]) -> None:
    assert steps_after_the_gate(exit_code) == expected


def test_the_two_issues_have_different_titles() -> None:
    steps = {s.get("name"): s for s in load("monitor-credit-default.yml")["jobs"]["drift"]["steps"]}
    assert steps["Tell the owners about the drift"]["env"]["TITLE"] == "Drift detected on model credit-default"
    assert steps["Tell the owners that the drift gate could not run"]["env"]["TITLE"] == (
        "The drift gate could not run for model credit-default"
    )


def test_gates_read_the_servers_the_model_names_never_a_checkout_path() -> None:
    pipeline = load("model-credit-default.yml")["jobs"]
    data_step = next(s for s in pipeline["data-gate"]["steps"] if "charter gate data" in s.get("run", ""))
    assert data_step["run"] == (
        'charter gate data . --contract "$CONTRACT" --server="$SERVER" --model "$MODEL" --report data-gate.json'
    )
    assert data_step["env"] == {"CONTRACT": "credit-applications", "MODEL": "credit-default", "SERVER": "lake"}
    drift = next(s for s in load("monitor-credit-default.yml")["jobs"]["drift"]["steps"] if s.get("id") == "drift")
    assert drift["env"] == {"MODEL": "credit-default", "REFERENCE_SERVER": "lake", "CURRENT_SERVER": "scoring-log"}
    for workflow in ("model-credit-default.yml", "monitor-credit-default.yml"):
        assert "data/" not in (WORKFLOWS / workflow).read_text("utf-8")


def test_only_jobs_that_read_data_get_an_oidc_token() -> None:
    """The gates, and the train job, whose image reads its training data and whose model goes to storageUri."""
    jobs = {**load("model-credit-default.yml")["jobs"], **load("monitor-credit-default.yml")["jobs"]}
    with_token = sorted(name for name, job in jobs.items() if job.get("permissions", {}).get("id-token") == "write")
    assert with_token == ["data-gate", "drift", "train"]
    for name in with_token:
        credentials = [
            s for s in jobs[name]["steps"] if str(s.get("uses", "")).startswith(PINS["aws_credentials"].repository)
        ]
        assert len(credentials) == 1
        assert credentials[0]["uses"] == PINS["aws_credentials"].ref
        assert credentials[0]["with"] == {
            "aws-region": "eu-west-1",
            "role-to-assume": "arn:aws:iam::123456789012:role/credit-scoring-gates",
        }
    text = "\n".join(
        (WORKFLOWS / w).read_text("utf-8") for w in ("model-credit-default.yml", "monitor-credit-default.yml")
    )
    # No stored AWS key anywhere: the train job names the variables it passes into the container, no value.
    assert "secrets.AWS_" not in text
    assert "aws-access-key-id" not in text
    assert "aws-secret-access-key" not in text


def test_a_database_server_needs_no_cloud_token() -> None:
    pipeline = yaml.safe_load(
        (ROOT / "examples" / "demand-forecast" / ".github" / "workflows" / "model-demand-forecast.yml").read_text(
            "utf-8"
        )
    )
    job = pipeline["jobs"]["data-gate"]
    assert job["permissions"] == {"contents": "read"}
    install = next(s for s in job["steps"] if s.get("name") == "Install charter with its runtime gates")
    assert install["with"]["extras"] == "gates,postgres"
    gate = next(s for s in job["steps"] if "charter gate data" in s.get("run", ""))
    assert gate["env"]["SERVER"] == "warehouse"


@pytest.mark.parametrize(
    ("expression", "outputs", "expected"),
    [
        ("steps.drift.outputs.exit_code == '1'", {"exit_code": "1"}, True),
        ("steps.drift.outputs.exit_code == '1'", {}, False),
        ("!(steps.a.outputs.x == '0') && steps.a.outputs.x != ''", {"x": "2"}, True),
        ("steps.a.outputs.x == '0' || steps.a.outputs.x == '2'", {"x": "2"}, True),
    ],
)
def test_the_condition_reader_itself(expression: str, outputs: dict[str, str], expected: bool) -> None:
    assert evaluate(expression, outputs) is expected


def test_the_condition_reader_refuses_what_it_does_not_know() -> None:
    with pytest.raises(AssertionError, match="cannot read the condition"):
        evaluate("failure()", {})


def demand_forecast(tmp_path: Path, servers: list[dict[str, str]], gates_read: dict[str, str]) -> Path:
    """A copy of the demand-forecast example whose sales contract lists `servers`, its model's gates reading,
    for each server `gates_read` names, the server it maps to."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(
        ROOT / "examples" / "demand-forecast", root, ignore=shutil.ignore_patterns(".github", "deploy", "docs")
    )
    contract_path = root / "contracts" / "sales-history.odcs.yaml"
    contract = yaml.safe_load(contract_path.read_text("utf-8"))
    contract["servers"] = servers
    contract_path.write_text(yaml.safe_dump(contract, sort_keys=False), "utf-8")
    model_path = root / "models" / "demand-forecast.yaml"
    model_text = model_path.read_text("utf-8")
    for old, new in gates_read.items():
        model_text = model_text.replace(f"server: {old}", f"server: {new}")
    model_path.write_text(model_text, "utf-8")
    return root


def rendered(root: Path) -> dict[str, str]:
    """What `charter build` writes for the project at `root`, by path; it must check without errors."""
    import datetime

    from compiler.stages import check_path, render_outputs

    result = check_path(root)
    assert result.resolved is not None
    assert [d.message for d in result.diagnostics if d.severity.value == "error"] == []
    return {o.path: o.text for o in render_outputs(result.resolved, result.project, datetime.date(2026, 1, 1))}


def test_gcs_and_azure_servers_get_their_clouds_official_login(tmp_path: Path) -> None:
    servers = [
        {"server": "gcs-lake", "type": "s3", "location": "gs://acme-retail/sales/*.parquet", "format": "parquet"},
        {"server": "azure-log", "type": "azure", "location": "abfss://log@acme.dfs.core.windows.net/", "format": "csv"},
    ]
    root = demand_forecast(tmp_path, servers, {"warehouse": "gcs-lake", "serving-log": "azure-log"})
    charter = root / "charter.yaml"
    project = yaml.safe_load(charter.read_text("utf-8"))
    project["spec"]["cloud"] = {
        "gcp": {
            "workloadIdentityProvider": "projects/123456/locations/global/workloadIdentityPools/github/providers/acme",
            "serviceAccount": "charter-gates@acme-retail.iam.gserviceaccount.com",
        },
        "azure": {
            "clientId": "00000000-0000-0000-0000-000000000001",
            "tenantId": "00000000-0000-0000-0000-000000000002",
            "subscriptionId": "00000000-0000-0000-0000-000000000003",
            "storageAccount": "acme",
        },
    }
    charter.write_text(yaml.safe_dump(project, sort_keys=False), "utf-8")
    files = rendered(root)
    pipeline = yaml.safe_load(files[".github/workflows/model-demand-forecast.yml"])["jobs"]["data-gate"]
    assert pipeline["permissions"] == {"contents": "read", "id-token": "write"}
    login = [s for s in pipeline["steps"] if "uses" in s and "auth@" in s["uses"]]
    assert [s["uses"] for s in login] == [PINS["gcp_auth"].ref]
    assert login[0]["with"] == {
        "service_account": "charter-gates@acme-retail.iam.gserviceaccount.com",
        "workload_identity_provider": "projects/123456/locations/global/workloadIdentityPools/github/providers/acme",
    }
    monitor = yaml.safe_load(files[".github/workflows/monitor-demand-forecast.yml"])["jobs"]["drift"]
    uses = [
        s["uses"]
        for s in monitor["steps"]
        if "uses" in s and not any(skip in s["uses"] for skip in ("checkout", "python", "/setup@", "upload-artifact"))
    ]
    assert uses == [PINS["azure_login"].ref, PINS["gcp_auth"].ref]
    gate = next(s for s in monitor["steps"] if s.get("id") == "drift")
    assert gate["env"]["AZURE_STORAGE_ACCOUNT_NAME"] == "acme"
    assert gate["env"]["CURRENT_SERVER"] == "azure-log"


def _secrets_of(job: dict[str, Any]) -> set[str]:
    return set(re.findall(r"secrets\.([A-Z_]+)", yaml.safe_dump(job)))


@pytest.mark.parametrize(
    ("example", "reads_database"),
    # demand-forecast trains on Airflow (issue 28): its image reads the database in the cluster, with the cluster's
    # credentials, so its train job (which only starts the DAG run) sees none.
    [("demand-forecast",
      {"model-demand-forecast.yml": ["data-gate"], "monitor-demand-forecast.yml": ["drift"]}),
     ("credit-scoring", {"model-credit-default.yml": [], "monitor-credit-default.yml": []})],
)  # fmt: skip
def test_database_credentials_reach_exactly_the_jobs_that_read_a_database(
    example: str, reads_database: dict[str, list[str]]
) -> None:
    """Issue 22: a PostgreSQL data or drift gate had no PG* variable (`fe_sendauth: no password supplied`).

    libpq's variables come from secrets of the GitHub environment `charter-data` (protection rules guard
    them), only in the jobs whose gate reads a database, and in the train job whose image reads one (passed
    into the container by name); no other job sees them.
    """
    for workflow, readers in reads_database.items():
        jobs = yaml.safe_load((ROOT / "examples" / example / ".github" / "workflows" / workflow).read_text("utf-8"))
        for name, job in jobs["jobs"].items():
            pg = _secrets_of(job) & {"PGUSER", "PGPASSWORD"}
            if name in readers:
                assert job["environment"] == "charter-data", name
                gate = next(
                    s
                    for s in job["steps"]
                    if "charter gate" in s.get("run", "") or s.get("name") == "Run the training image"
                )
                assert gate["env"]["PGUSER"] == "${{ secrets.PGUSER }}"
                assert gate["env"]["PGPASSWORD"] == "${{ secrets.PGPASSWORD }}"
                assert pg == {"PGUSER", "PGPASSWORD"}
            else:
                assert not pg, f"{workflow}: {name} sees database credentials"
