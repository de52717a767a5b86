"""The monitor workflow on act (issue 22): no drift, drift, and a server the gate cannot reach.

The credit example's drift gate reads the reference data (`lake`) and the scoring log (`scoring-log`) in
moto's S3; `gh` (tests/act/bin/gh) sends its REST calls to the test's GitHub, which records the retraining
dispatch and the issues.
"""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
from act_support import ROOT, Runner, built_and_committed, lake_at
from live_servers import S3, moto_s3, trust
from test_act_model import BUCKET, REPOSITORY, GitHubWithPulls, github, pytestmark, runner, s3

from compiler.gates.data import synthetic

__all__ = ["github", "pytestmark", "runner", "s3"]  # fixtures shared with the model workflow's tests
MONITOR = ".github/workflows/monitor-credit-default.yml"
YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


def _put(s3: S3, key: str, select: str) -> None:
    buffer = io.BytesIO()
    pq.write_table(duckdb.sql(select).to_arrow_table(), buffer)
    client: Any = s3.client()
    client.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())


def _data(s3: S3, *, shifted: bool) -> None:
    client: Any = s3.client()
    for listed in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=listed["Key"])
    _put(s3, "credit-applications/v2/part-0.parquet", synthetic.credit_applications(20_000, seed=11, newest=YESTERDAY))
    traffic = synthetic.credit_applications(20_000, seed=12, newest=YESTERDAY)
    if shifted:  # a downturn: incomes fall, debt rises
        shift = "annual_income * 0.5 AS annual_income, debt_to_income * 2 AS debt_to_income"
        traffic = f"SELECT * REPLACE ({shift}) FROM ({traffic})"
    _put(s3, "scoring-log/credit-default/2024-06.parquet", traffic)


def _repository(runner: Runner, s3: S3) -> Path:
    repo = runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)
    lake_at(repo, s3.endpoint_url)
    trust(repo, s3=s3)  # the organisation lists the endpoint its credentials may go to
    built_and_committed(repo, "the lake is at moto")
    runner.push(repo, "main")
    return repo


def _schedule(runner: Runner, repo: Path) -> tuple[int, str]:
    event = {"schedule": "0 6 * * *", "repository": {"full_name": f"acme/{REPOSITORY}", "default_branch": "main"}}
    run = runner.run(repo, "schedule", event, MONITOR)
    return run.code, run.log


def _steps_run(log: str) -> list[str]:
    return re.findall(r"^\[monitor credit-default/[^\]]+\]   ✅  Success - Main (.+?) \[", log, re.MULTILINE)


def test_no_drift_is_green(runner: Runner, s3: S3, github: GitHubWithPulls) -> None:
    _data(s3, shifted=False)
    code, log = _schedule(runner, _repository(runner, s3))
    assert code == 0, log
    assert github.issues == []
    assert github.dispatched == []
    assert "Record the report as evidence of the model version" in _steps_run(log)


def test_drift_dispatches_retraining_and_opens_an_issue(runner: Runner, s3: S3, github: GitHubWithPulls) -> None:
    _data(s3, shifted=True)
    code, log = _schedule(runner, _repository(runner, s3))
    assert code != 0  # the run is red: drift is news
    assert github.dispatched == [("model-credit-default.yml", {"ref": "main"})], log
    (issue,) = github.issues
    assert issue["title"] == "Drift detected on model credit-default"
    assert "annual_income" in issue["body"]


def test_an_unreachable_server_says_the_gate_could_not_run(runner: Runner, github: GitHubWithPulls) -> None:
    with moto_s3() as gone:
        pass
    repo = _repository(runner, gone)  # the store is down when the schedule fires
    code, log = _schedule(runner, repo)
    assert code != 0
    assert "Drift gate" in log
    assert github.dispatched == []
    (issue,) = github.issues
    assert issue["title"] == "The drift gate could not run for model credit-default"
    assert "The drift gate exited with 2" in issue["body"]
