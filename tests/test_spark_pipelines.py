"""What the generated pipelines install and pass for servers Spark reads (compiler/core/engines.py).

A Delta table and a Databricks catalogue table are read by Spark: the jobs that read them install the spark
extra; Databricks' token comes from a secret of the `charter-data` environment, in exactly the jobs whose
gate reads that server, and nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from scripts_support import train_on_the_runner
from test_data_access_workflows import demand_forecast, rendered

MODEL_WORKFLOW = ".github/workflows/model-demand-forecast.yml"


def _render(tmp_path: Path, training: str = "lakehouse", *, on_the_runner: bool = False) -> dict[str, str]:
    """The example's outputs with these servers; `on_the_runner`: trained by the GitHub job, not on Airflow."""
    servers = [
        {"server": "lakehouse", "type": "local", "path": "data/sales", "format": "delta"},
        {"server": "serving-log", "type": "databricks", "host": "dbc-a1b2c3d4-e5f6.cloud.databricks.com",
         "catalog": "main", "schema": "serving"},
        {"server": "snow", "type": "snowflake", "account": "acme-retail", "database": "analytics", "schema": "sales"},
    ]  # fmt: skip
    root = demand_forecast(tmp_path, servers, {"warehouse": training})
    if on_the_runner:
        train_on_the_runner(root)
    return rendered(root)


def _secrets_of(job: dict[str, Any]) -> set[str]:
    return set(re.findall(r"secrets\.([A-Z_]+)", yaml.safe_dump(job)))


def _extras(job: dict[str, Any]) -> str | None:
    return next((s["with"]["extras"] for s in job["steps"] if "/setup@" in s.get("uses", "")), None)


def test_spark_servers_install_spark_and_only_databricks_readers_get_its_token(tmp_path: Path) -> None:
    files = _render(tmp_path)
    model = yaml.safe_load(files[MODEL_WORKFLOW])["jobs"]
    monitor = yaml.safe_load(files[".github/workflows/monitor-demand-forecast.yml"])["jobs"]
    # The data gate reads the Delta table: Spark, no stored credential, no environment.
    assert _extras(model["data-gate"]) == "gates,spark"
    assert _secrets_of(model["data-gate"]) == set()
    assert "environment" not in model["data-gate"]
    # The drift gate reads the scoring log in Databricks: its token, from the guarded environment, in that step.
    drift = monitor["drift"]
    assert _extras(drift) == "gates,spark"
    assert drift["environment"] == "charter-data"
    gate = next(s for s in drift["steps"] if s.get("id") == "drift")
    assert gate["env"]["DATABRICKS_TOKEN"] == "${{ secrets.DATABRICKS_TOKEN }}"
    readers = {
        f"{workflow}:{name}"
        for workflow, jobs in (("model", model), ("monitor", monitor))
        for name, job in jobs.items()
        if "DATABRICKS_TOKEN" in _secrets_of(job)
    }
    assert readers == {"monitor:drift"}


def test_snowflake_credentials_reach_only_the_jobs_that_read_snowflake(tmp_path: Path) -> None:
    files = _render(tmp_path / "runner", training="snow", on_the_runner=True)
    model = yaml.safe_load(files[MODEL_WORKFLOW])["jobs"]
    gate_job = model["data-gate"]
    assert _extras(gate_job) == "gates,snowflake"
    assert gate_job["environment"] == "charter-data"
    step = next(s for s in gate_job["steps"] if "charter gate" in s.get("run", ""))
    assert {k: v for k, v in step["env"].items() if k.startswith("SNOWFLAKE_")} == {
        name: f"${{{{ secrets.{name} }}}}" for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_USER")
    }
    monitor = yaml.safe_load(files[".github/workflows/monitor-demand-forecast.yml"])["jobs"]
    # The drift gate's reference is the training data: it reads Snowflake too (and Databricks' scoring log).
    assert _extras(monitor["drift"]) == "gates,snowflake,spark"
    readers = {
        name for jobs in (model, monitor) for name, job in jobs.items() if "SNOWFLAKE_PASSWORD" in _secrets_of(job)
    }
    assert readers == {"data-gate", "train", "drift"}  # train: its image reads the training data
    # Trained on Airflow (the example as shipped), the image reads it in the cluster, with the cluster's
    # credentials: the GitHub job that starts the run never holds the password.
    orchestrated = yaml.safe_load(_render(tmp_path / "airflow", training="snow")[MODEL_WORKFLOW])["jobs"]
    assert "SNOWFLAKE_PASSWORD" not in _secrets_of(orchestrated["train"])
    assert {name for name, job in orchestrated.items() if "SNOWFLAKE_PASSWORD" in _secrets_of(job)} == {"data-gate"}
