"""A small client of the MLflow registry's REST API: registered models, model versions, their tags and aliases.

Where it connects is the CI's choice, never the repository's: `MLFLOW_TRACKING_URI` (http or https) from the
environment, with MLflow's standard credentials (`MLFLOW_TRACKING_TOKEN` as a bearer token, or
`MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`). Every failure is a RegistryError saying what was asked,
with MLflow's error code when it sent one; a response is never quoted beyond its error code and message.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

API = "/api/2.0/mlflow"
_TIMEOUT_SECONDS = 30
_MAX_RESPONSE_BYTES = 8 * 1024 * 1024


class RegistryError(Exception):
    """The registry could not be reached or refused a request; `code` is MLflow's error code, when it sent one."""

    def __init__(self, message: str, code: str | None = None, *, unregistered: bool = False, missing: bool = False):
        super().__init__(message)
        self.code = code
        self.missing = missing
        """MLflow said what was asked for was not found."""
        self.unregistered = unregistered
        """The registry answered, but holds no version with today's evidence (or there is no evidence yet)."""


@dataclass(frozen=True)
class Version:
    """One registered model version: its number, source and tags."""

    name: str
    version: str
    source: str
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    """The MLflow run that produced it, when it was registered from one."""


@dataclass(frozen=True)
class Registry:
    """The MLflow tracking server at `uri` (no trailing slash), with the headers that authenticate to it."""

    uri: str
    headers: Mapping[str, str]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Registry | None:
        """The registry the environment names; None without MLFLOW_TRACKING_URI."""
        uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
        if not uri:
            return None
        if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
            raise RegistryError("MLFLOW_TRACKING_URI must be an http:// or https:// tracking server")
        headers = {"Content-Type": "application/json"}
        if environ.get("MLFLOW_TRACKING_TOKEN"):
            headers["Authorization"] = f"Bearer {environ['MLFLOW_TRACKING_TOKEN']}"
        elif environ.get("MLFLOW_TRACKING_USERNAME"):
            pair = f"{environ['MLFLOW_TRACKING_USERNAME']}:{environ.get('MLFLOW_TRACKING_PASSWORD', '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return cls(uri.rstrip("/"), headers)

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One REST call; GET takes `body` as query parameters. The JSON answer, or RegistryError."""
        url = f"{self.uri}{API}/{path}"
        data = None
        if method == "GET" and body:
            url += "?" + urllib.parse.urlencode(body)
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers=dict(self.headers))
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
                answer = json.loads(response.read(_MAX_RESPONSE_BYTES) or b"{}")
        except urllib.error.HTTPError as error:
            raise _refusal(error, f"{method} {path}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or type(error).__name__
            raise RegistryError(f"{method} {path}: the registry at {self.uri} did not answer ({reason})") from None
        return answer if isinstance(answer, dict) else {}

    def ensure_model(self, name: str) -> None:
        try:
            self.call("POST", "registered-models/create", {"name": name})
        except RegistryError as error:
            if error.code != "RESOURCE_ALREADY_EXISTS":
                raise

    def versions(self, name: str) -> list[Version]:
        """Every version of the registered model, newest first."""
        found: list[Version] = []
        token: str | None = None
        while True:
            query = {"filter": f"name='{name}'", "max_results": "200", "order_by": "version_number DESC"}
            answer = self.call("GET", "model-versions/search", {**query, **({"page_token": token} if token else {})})
            found.extend(_version(item) for item in answer.get("model_versions", []))
            token = answer.get("next_page_token")
            if not token:
                return found

    def create_version(
        self, name: str, source: str, tags: Mapping[str, str], description: str, run_id: str | None = None
    ) -> Version:
        body: dict[str, Any] = {
            "name": name,
            "source": source,
            "description": description,
            "tags": [{"key": key, "value": value} for key, value in tags.items()],
        }
        if run_id:
            body["run_id"] = run_id
        return _version(self.call("POST", "model-versions/create", body).get("model_version", {}))

    def experiment_of(self, run_id: str) -> str:
        """The experiment id of a run (RegistryError when the server has no such run)."""
        answer = self.call("GET", "runs/get", {"run_id": run_id})
        info = answer.get("run", {}).get("info", {}) if isinstance(answer.get("run"), dict) else {}
        experiment = info.get("experiment_id") if isinstance(info, dict) else None
        if not isinstance(experiment, str) or not experiment:
            raise RegistryError(f"GET runs/get: run {run_id} has no experiment in the registry's answer")
        return experiment

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.call("POST", "registered-models/alias", {"name": name, "alias": alias, "version": version})

    def by_alias(self, name: str, alias: str) -> Version | None:
        """The version an alias points at; None when the alias (or the model) does not exist."""
        try:
            answer = self.call("GET", "registered-models/alias", {"name": name, "alias": alias})
        except RegistryError as error:
            # MLflow answers a missing alias with INVALID_PARAMETER_VALUE ("... alias staging not found").
            if error.code == "RESOURCE_DOES_NOT_EXIST" or (error.code == "INVALID_PARAMETER_VALUE" and error.missing):
                return None
            raise
        return _version(answer.get("model_version", {}))


def _version(item: Mapping[str, Any]) -> Version:
    tags = {str(tag.get("key")): str(tag.get("value", "")) for tag in item.get("tags", []) if isinstance(tag, dict)}
    run = item.get("run_id")
    return Version(
        str(item.get("name", "")),
        str(item.get("version", "")),
        str(item.get("source", "")),
        tags,
        run if isinstance(run, str) else "",
    )


def _refusal(error: urllib.error.HTTPError, what: str) -> RegistryError:
    try:
        body = json.loads(error.read(64 * 1024) or b"{}")
    except (ValueError, OSError):
        body = {}
    code = body.get("error_code") if isinstance(body, dict) else None
    message = str(body.get("message", ""))[:200] if isinstance(body, dict) else ""
    code = code if isinstance(code, str) else None
    text = f"{what}: HTTP {error.code} {code or ''} {message}".rstrip()
    return RegistryError(text, code, missing=message.endswith("not found."))
