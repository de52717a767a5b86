"""What the generated pipelines install and pass for BigQuery and Databricks SQL warehouse servers.

A BigQuery server is read with Application Default Credentials: the job that reads it authenticates to Google
Cloud through OIDC (google-github-actions/auth, which exports GOOGLE_CLOUD_PROJECT, the project the gate
requires the server to name) and installs the bigquery extra; no stored secret. A Databricks entry naming a
SQL warehouse (`http_path`) installs the databricks extra, not Spark, and gets DATABRICKS_HOST with the token
from the guarded `charter-data` environment, in the jobs that read it only.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Any

import yaml
from scripts_support import train_on_the_runner
from test_spark_pipelines import _extras, _secrets_of

ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_PATH = [{"property": "http_path", "value": "/sql/1.0/warehouses/0123456789abcdef"}]


def _render(tmp_path: Path, training: str, *, on_the_runner: bool = False) -> dict[str, dict[str, Any]]:
    """The model workflow's jobs with these servers; `on_the_runner`: trained by the GitHub job, not on Airflow."""
    from compiler.stages import check_path, render_outputs

    root = tmp_path / "project"
    shutil.copytree(
        ROOT / "examples" / "demand-forecast", root, ignore=shutil.ignore_patterns(".github", "deploy", "docs")
    )
    contract_path = root / "contracts" / "sales-history.odcs.yaml"
    contract = yaml.safe_load(contract_path.read_text("utf-8"))
    contract["servers"] = [
        {"server": "bq", "type": "bigquery", "project": "acme-retail", "dataset": "sales"},
        {"server": "sqlwh", "type": "databricks", "host": "dbc-a1b2c3d4-e5f6.cloud.databricks.com",
         "catalog": "main", "schema": "sales", "customProperties": WAREHOUSE_PATH},
        # The monitor's scoring log, a catalogue table Spark reads (tests/test_spark_pipelines.py).
        {"server": "serving-log", "type": "databricks", "host": "dbc-a1b2c3d4-e5f6.cloud.databricks.com",
         "catalog": "main", "schema": "serving"},
    ]  # fmt: skip
    contract_path.write_text(yaml.safe_dump(contract, sort_keys=False), "utf-8")
    model_path = root / "models" / "demand-forecast.yaml"
    model_path.write_text(model_path.read_text("utf-8").replace("server: warehouse", f"server: {training}"), "utf-8")
    if on_the_runner:
        train_on_the_runner(root)
    result = check_path(root)
    assert result.resolved is not None
    assert [d.message for d in result.diagnostics if d.severity.value == "error"] == []
    files = {o.path: o.text for o in render_outputs(result.resolved, result.project, datetime.date(2026, 1, 1))}
    return yaml.safe_load(files[".github/workflows/model-demand-forecast.yml"])["jobs"]  # type: ignore[no-any-return]


def test_a_bigquery_reader_authenticates_to_google_cloud_and_installs_the_bigquery_extra(tmp_path: Path) -> None:
    gate = _render(tmp_path, "bq")["data-gate"]
    assert _extras(gate) == "gates,bigquery"
    assert _secrets_of(gate) == set()
    auth = [s for s in gate["steps"] if "google-github-actions/auth@" in s.get("uses", "")]
    assert len(auth) == 1
    assert auth[0]["with"]["service_account"] == "demand-forecast-trainer@acme-retail.iam.gserviceaccount.com"
    assert gate["permissions"]["id-token"] == "write"


def test_a_databricks_sql_warehouse_reader_gets_host_and_token_and_the_databricks_extra(tmp_path: Path) -> None:
    jobs = _render(tmp_path / "runner", "sqlwh", on_the_runner=True)
    gate = jobs["data-gate"]
    assert _extras(gate) == "gates,databricks"
    assert gate["environment"] == "charter-data"
    step = next(s for s in gate["steps"] if "charter gate" in s.get("run", ""))
    assert {k: v for k, v in step["env"].items() if k.startswith("DATABRICKS_")} == {
        name: f"${{{{ secrets.{name} }}}}" for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN")
    }
    readers = {name for name, job in jobs.items() if "DATABRICKS_TOKEN" in _secrets_of(job)}
    assert readers == {"data-gate", "train"}  # train: its image reads the training data
    # Trained on Airflow (the example as shipped), the image reads it with the cluster's credentials instead.
    orchestrated = _render(tmp_path / "airflow", "sqlwh")
    assert {name for name, job in orchestrated.items() if "DATABRICKS_TOKEN" in _secrets_of(job)} == {"data-gate"}
