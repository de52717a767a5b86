"""Where the generated pipelines read data: a contract's ODCS server, and the cloud access it needs.

A gate job gets `--server NAME` (the model's `server:` for that contract, or
the contract's only server), never a path in the checkout. A job that reads
object storage gets GitHub's OIDC token (`id-token: write`) and the cloud's
official credential action, pinned by SHA, for the role or identity named
in the Project's `spec.cloud`: short-lived credentials, no stored secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from compiler.core.engines import reads_with_spark
from compiler.core.models import patterns
from compiler.core.models.common import DataRef
from compiler.core.models.project import CloudAccess
from compiler.core.odcs import Server, read_odcs
from compiler.core.pins import PINS
from compiler.core.specs import Spec

# Server type -> the `charter` extra that reads it, and the cloud whose credentials it needs.
_EXTRAS = {"s3": "objectstore", "gcs": "objectstore", "azure": "objectstore", "local": "objectstore"}
_EXTRAS.update(dict.fromkeys(("postgres", "postgresql", "redshift"), "postgres"))
# Catalogue tables Spark reads (compiler/gates/io/spark_engine.py); files it reads are marked by their entry.
# A databricks entry naming a SQL warehouse (`http_path`) is not Spark's: databricks-sql-connector reads it.
_EXTRAS.update({"hive": "spark", "databricks": "databricks", "snowflake": "snowflake", "bigquery": "bigquery"})
# BigQuery reads with Application Default Credentials: the job authenticates to Google Cloud (OIDC).
_CLOUDS = {"s3": "aws", "gcs": "gcp", "azure": "azure", "bigquery": "gcp"}
# Server types whose credentials are stored secrets (no cloud exchanges an OIDC token for them): libpq's
# variables, from secrets of the GitHub environment the job is bound to, where protection rules guard them.
_DATABASE_SECRETS: dict[str, tuple[str, ...]] = dict.fromkeys(
    ("postgres", "postgresql", "redshift"), ("PGUSER", "PGPASSWORD")
)
# Databricks: a personal access or service principal token, read by its SDK, CLI and connectors alike.
# DATABRICKS_HOST names the workspace the token is for: the gate refuses a server naming another (CH791).
_DATABASE_SECRETS["databricks"] = ("DATABRICKS_HOST", "DATABRICKS_TOKEN")
# Snowflake: the account the credentials are for (the gate refuses a server naming another), user and password.
_DATABASE_SECRETS["snowflake"] = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD")
DATA_ENVIRONMENT = "charter-data"


def _cloud(entry: Server | None) -> str | None:
    kind = _type(entry)
    location = entry.location if entry is not None else None
    if kind == "s3" and isinstance(location, str) and location.startswith("gs://"):
        return "gcp"  # ODCS has no GCS type: an s3 server with a gs:// location
    return _CLOUDS.get(kind or "")


@dataclass(frozen=True)
class ServerChoice:
    name: str
    """Empty when nothing names a server: the gate then stops and says so."""
    type: str | None
    cloud: str | None = None
    """Whose credentials reading it needs: aws, gcp or azure."""
    spark: bool = False
    """Read by Spark (Delta, or files marked `engine: spark`): the job installs the spark extra too."""


def servers_of(contract: Spec | None) -> tuple[Server, ...]:
    return read_odcs(contract.data if contract is not None else None).servers


def choose(ref: DataRef | None, contract: Spec | None) -> ServerChoice:
    """The server a reference names, or the contract's only one."""
    entries = servers_of(contract)
    if ref is not None and ref.server is not None:
        entry = next((s for s in entries if s.name == ref.server), None)
        return ServerChoice(ref.server, _type(entry), _cloud(entry), _spark(entry))
    only = entries[0].name if len(entries) == 1 else None
    # A name from a contract becomes a command-line value: never one that reads as an option.
    if isinstance(only, str) and re.fullmatch(patterns.SERVER_NAME, only):
        return ServerChoice(only, _type(entries[0]), _cloud(entries[0]), _spark(entries[0]))
    return ServerChoice("", None)


def extras(choices: list[ServerChoice]) -> str:
    """The pip extras a gate job installs: `gates` plus what reads its servers."""
    needed = {"spark" if c.spark else _EXTRAS.get(c.type or "", "") for c in choices} - {""}
    return ",".join(["gates", *sorted(needed)])


def cloud_steps(choices: list[ServerChoice], cloud: CloudAccess) -> list[dict[str, Any]]:
    """Credential steps for the clouds these servers live in, from the Project's `spec.cloud`."""
    steps: list[dict[str, Any]] = []
    for name in sorted({c.cloud for c in choices if c.cloud is not None}):
        if name == "aws" and cloud.aws is not None:
            inputs = {"role-to-assume": cloud.aws.role_arn, "aws-region": cloud.aws.region}
            steps.append(_step("AWS credentials from the OIDC token", "aws_credentials", inputs))
        elif name == "gcp" and cloud.gcp is not None:
            inputs = {
                "workload_identity_provider": cloud.gcp.workload_identity_provider,
                "service_account": cloud.gcp.service_account,
            }
            steps.append(_step("Google Cloud credentials from the OIDC token", "gcp_auth", inputs))
        elif name == "azure" and cloud.azure is not None:
            inputs = {
                "client-id": cloud.azure.client_id,
                "tenant-id": cloud.azure.tenant_id,
                "subscription-id": cloud.azure.subscription_id,
            }
            steps.append(_step("Azure credentials from the OIDC token", "azure_login", inputs))
    return steps


def secret_env(choices: list[ServerChoice]) -> list[tuple[str, str]]:
    """(variable, secret) for the database servers a job reads; empty when it reads none."""
    names = sorted({name for c in choices for name in _DATABASE_SECRETS.get(c.type or "", ())})
    return [(name, f"secrets.{name}") for name in names]


def gate_env(choices: list[ServerChoice], cloud: CloudAccess) -> list[tuple[str, str]]:
    """Environment the gate itself needs besides credentials (pyarrow's Azure filesystem wants the account)."""
    if cloud.azure is not None and any(c.cloud == "azure" for c in choices):
        return [("AZURE_STORAGE_ACCOUNT_NAME", cloud.azure.storage_account)]
    return []


def find_contract(contracts: list[Spec], ref: DataRef) -> Spec | None:
    """The contract a reference names (resolution has already refused ambiguous or missing ones)."""
    found = [
        spec
        for spec in contracts
        if spec.contract is not None
        and ref.contract in (spec.contract.id, spec.contract.name)
        and (ref.version is None or ref.version == spec.contract.version)
    ]
    return found[0] if len(found) == 1 else None


def _step(name: str, pin: str, inputs: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "ref": PINS[pin].ref, "version": PINS[pin].version, "inputs": sorted(inputs.items())}


def _spark(entry: Server | None) -> bool:
    return entry is not None and reads_with_spark(entry)


def _type(entry: Server | None) -> str | None:
    return entry.kind if entry is not None else None
