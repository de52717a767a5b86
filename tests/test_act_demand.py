"""Issue 22, on act: demand-forecast's workflows, with its sales history in PostgreSQL 15 over TLS.

The example at the root of a user's repository, its warehouse a real PostgreSQL 15 (SCRAM, TLS with the test CA,
`tests/live_servers.py`) holding more than the 100,000 rows of last week its contract asks for. The model workflow
runs data gate (in the warehouse, with the `charter-data` environment's `PGUSER`/`PGPASSWORD`) -> train (the
image's command on the host, reading the warehouse with only the credentials passed into its container) ->
evaluation gate -> evidence pull request. Its model store is moto's S3 (`serving.endpointUrl`, the AWS role of
`spec.cloud.aws`): GCS, where the example stores it, has no stand-in here. The pull-request workflow is green on
a clean change.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from act_support import ROOT, Runner, built_and_committed, git, make_python, shared_actions, training_environment
from live_servers import S3, Postgres, moto_s3, postgres, trust
from ruamel.yaml import YAML
from test_act import PR_WORKFLOW
from test_act_model import SALES_COLUMNS, GitHubWithPulls, github, pytestmark

from compiler.commands.cli import main

__all__ = ["github", "pytestmark"]  # test_act_model's GitHub stand-in (with pull requests) and skips

MODEL_WORKFLOW = ".github/workflows/model-demand-forecast.yml"
IMAGE = (
    "ghcr.io/acme-retail/demand-forecast-train@sha256:481c5ca0c9b91babcb664f13258436cfd607db277cda3a505d950f3e27a28107"
)
MODELS = "acme-retail-models"
ROWS = 100_500
# The training image's code (`python -m demand_forecast.train`), here on the host: it reads last week's sales from
# the warehouse as the user the job passed in (PGUSER/PGPASSWORD by name), and writes its backtest predictions.
TRAINING = """
import os, pathlib, sys
import psycopg
from compiler.gates.data import synthetic
with psycopg.connect(host=HOST, port=PORT, dbname="analytics", sslmode="verify-full", sslrootcert=ROOT_CERT) as con:
    (rows,) = con.execute("SELECT count(*) FROM analytics.weekly_store_sku_sales").fetchone()
sys.exit("no training data") if rows < 100_000 else None
output = pathlib.Path(os.environ["CHARTER_OUTPUT"])
output.mkdir(parents=True, exist_ok=True)
synthetic.write(synthetic.demand_predictions(8_000, seed=7), output / "predictions.parquet")
(output / "model").mkdir()
(output / "model" / "model.txt").write_text("lightgbm booster", "utf-8")
"""


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Postgres]:
    """PostgreSQL 15 holding last week's sales: every store and product once, as the contract describes them. Its
    user is not `charter`: the runner masks a secret's value wherever it appears, `charter build` in the log too."""
    with postgres(user="retail_gates", database="analytics") as server:
        con: Any = server.connect()
        con.execute("CREATE SCHEMA analytics")
        con.execute(f"CREATE TABLE analytics.weekly_store_sku_sales ({SALES_COLUMNS})")
        week = datetime.date.today() - datetime.timedelta(days=1)  # landed yesterday: within the 2-day latency
        con.execute(  # `%` would be a parameter marker: mod() instead
            "INSERT INTO analytics.weekly_store_sku_sales SELECT 'S' || mod(i, 500), 'K' || (i / 500), %s, "
            "(ARRAY['north', 'south', 'east', 'west', 'central'])[1 + mod(i, 5)], 'food', 400 + mod(i, 300), "
            "1.5 + mod(i, 40) / 10.0, mod(i, 7) = 0, mod(i, 13) = 0, 10 + mod(i, 30), 9 + mod(i, 25), mod(i, 3), "
            "11 + mod(i, 35) FROM generate_series(1, %s) AS i",
            (week, ROWS),
        )
        con.commit()
        con.close()
        yield server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with moto_s3() as server:
        client: Any = server.client()
        client.create_bucket(Bucket=MODELS, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield server


@pytest.fixture
def runner(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, github: GitHubWithPulls, s3: S3, warehouse: Postgres
) -> Runner:
    checkout = shared_actions()
    assert checkout is not None
    python = make_python(tmp_path_factory.getbasetemp() / "act-python")
    image = tmp_path / "image" / "demand_forecast"
    image.mkdir(parents=True)
    (image / "__init__.py").write_text("", "utf-8")
    where = f"HOST, PORT, ROOT_CERT = {warehouse.host!r}, {warehouse.port}, {str(warehouse.root_cert)!r}\n"
    (image / "train.py").write_text(where + TRAINING, "utf-8")
    env = {
        **training_environment(tmp_path, github.api_url, s3, IMAGE, image.parent),
        # The runner's machine trusts the organisation's CA, as a self-hosted runner would.
        "PGSSLROOTCERT": str(warehouse.root_cert),
    }
    secrets = {"PGUSER": warehouse.user, "PGPASSWORD": warehouse.password}
    return Runner(tmp_path, python, checkout, env=env, secrets=secrets)


def _edit(path: Path, change: Any) -> None:
    yaml = YAML()
    document = yaml.load(path.read_text("utf-8"))
    change(document)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)


def _repository(runner: Runner, s3: S3, warehouse: Postgres) -> tuple[Path, str]:
    """The example with its warehouse here (listed in spec.endpoints), its evidence proposed in pull requests, its
    model stored at moto."""
    repo = runner.repository(ROOT / "examples" / "demand-forecast", "lending")

    def here(contract: Any) -> None:
        for server in contract["servers"]:
            if server["type"] == "postgres":  # not the DVC-tracked backtest snapshot
                server["host"], server["port"] = warehouse.host, warehouse.port

    def stored_at_moto(model: Any) -> None:
        model["spec"]["serving"]["storageUri"] = f"s3://{MODELS}/demand-forecast/1.4.0"
        model["spec"]["serving"]["endpointUrl"] = s3.endpoint_url

    def proposing(project: Any) -> None:
        project["spec"]["evidence"] = {"propose": "pull-request"}
        project["spec"]["cloud"]["aws"] = {
            "roleArn": "arn:aws:iam::123456789012:role/demand-models",
            "region": "eu-west-1",
        }

    _edit(repo / "contracts" / "sales-history.odcs.yaml", here)
    _edit(repo / "models" / "demand-forecast.yaml", stored_at_moto)
    _edit(repo / "charter.yaml", proposing)
    trust(repo, s3=s3, pg=warehouse)
    before = git(repo, "rev-parse", "HEAD").strip()
    built_and_committed(repo, "the warehouse and the model store are here")
    return repo, before


def _jobs(log: str) -> dict[str, str]:
    found = re.findall(r"^\[model demand-forecast/([^\]]+)\] 🏁  Job (succeeded|failed)", log, re.MULTILINE)
    return {name.strip(): outcome for name, outcome in found}


def test_the_model_workflow_runs_from_the_warehouse_to_an_evidence_pull_request(
    runner: Runner, s3: S3, warehouse: Postgres, github: GitHubWithPulls
) -> None:
    repo, before = _repository(runner, s3, warehouse)
    run = runner.run(repo, "push", runner.push_event(repo, before), MODEL_WORKFLOW, job="evidence", timeout=600)
    assert _jobs(run.log) == {
        "Recorded evidence of demand-forecast 1.4.0": "succeeded",
        "Data gate (sales-history)": "succeeded",
        "Train demand-forecast 1.4.0": "succeeded",
        "Evaluation gate (demand-forecast-eval)": "succeeded",
        "Evidence of demand-forecast 1.4.0": "succeeded",
    }, run.log
    client: Any = s3.client()
    stored = [listed["Key"] for listed in client.list_objects_v2(Bucket=MODELS).get("Contents", [])]
    assert stored == ["demand-forecast/1.4.0/model.txt"]
    (opened,) = github.opened
    assert (opened["base"], opened["title"]) == ("main", "Evidence of demand-forecast 1.4.0")
    git(repo, "fetch", "--quiet", "origin", env={"GIT_CONFIG_GLOBAL": str(runner.work / "gitconfig")})
    branch = opened["head"]
    changed = git(repo, "diff", "--name-only", "main", f"origin/{branch}").split()
    assert changed == [
        ".charter/manifest.json",
        "docs/models/demand-forecast.md",
        "evidence/demand-forecast/1.4.0/data.json",
        "evidence/demand-forecast/1.4.0/eval.json",
    ]
    for gate in ("data", "eval"):
        record = json.loads(git(repo, "show", f"origin/{branch}:evidence/demand-forecast/1.4.0/{gate}.json"))
        assert record["verdict"] == "pass", record
    # The data gate counted the rows in the warehouse (only counts come back), as the secret's user.
    data = json.loads(git(repo, "show", f"origin/{branch}:evidence/demand-forecast/1.4.0/data.json"))
    counted = [check for check in data["checks"] if "rowCount" in check["title"]]
    assert [(check["value"], check["status"]) for check in counted] == [(ROWS, "pass")], counted
    git(repo, "checkout", "--quiet", f"origin/{branch}")
    assert main(["build", str(repo), "--check"]) == 0  # the evidence pull request's own check passes


def test_the_pull_request_workflow_is_green_on_a_clean_change(
    runner: Runner, s3: S3, warehouse: Postgres, github: GitHubWithPulls
) -> None:
    github.environment("staging")
    github.environment("production", ("acme/retail-leads",), branches=("main",))
    github.environment("training")  # where the model trains (issue 28)
    repo, _ = _repository(runner, s3, warehouse)
    runner.push(repo, "main")
    git(repo, "checkout", "--quiet", "-b", "clarify-use")
    model = repo / "models" / "demand-forecast.yaml"
    text = model.read_text("utf-8")
    assert "description: Next-week unit demand per store and product." in text
    model.write_text(text.replace("per store and product.", "per store and product (units).", 1), "utf-8")
    built_and_committed(repo, "clarify the intended use")
    pull = runner.pull_request(repo, "clarify-use", 7)
    github.pulls[7] = {"head": pull.head, "base": pull.base}
    run = runner.run(repo, "pull_request", pull.event, PR_WORKFLOW)
    lines = run.step_lines("charter/charter check")
    assert run.code == 0, run.log
    assert "| charter build --check: 9 generated files are current." in lines
    (check_run,) = github.check_runs.values()
    assert (check_run["head_sha"], check_run["conclusion"]) == (pull.head, "success")
    assert len(github.comments[7]) == 1
