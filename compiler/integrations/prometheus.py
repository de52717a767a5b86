"""One instant query to Prometheus' HTTP API (`GET /api/v1/query`), with the standard library only.

The answer is the documented JSON envelope (https://prometheus.io/docs/prometheus/latest/querying/api/):
`{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {...}, "value": [t, "0.01"]}]}}`
(or `scalar`: `"result": [t, "0.01"]`). The measurement is the first sample's value, as Argo Rollouts' `result[0]`.
Anything else (no server, an HTTP error, an error envelope, no sample) is a `PrometheusError`: no measurement.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class PrometheusError(Exception):
    """Prometheus gave no measurement; the message says why in a sentence."""


def instant(address: str, promql: str, timeout: float = 10.0) -> float:
    """The first sample of `promql` evaluated now on the Prometheus at `address` (may be NaN: 0/0)."""
    url = f"{address.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(1_000_000)
    except urllib.error.HTTPError as error:
        raise PrometheusError(f"Prometheus at {address} answered HTTP {error.code}{_reason(error)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PrometheusError(f"Prometheus at {address} could not be reached: {reason}") from None
    return _first_sample(body, address)


def _reason(error: urllib.error.HTTPError) -> str:
    """Prometheus' own `error` field, when its error answer carries one."""
    try:
        answer = json.loads(error.read(100_000))
    except (ValueError, OSError):
        return ""
    return f": {answer['error']}" if isinstance(answer, dict) and isinstance(answer.get("error"), str) else ""


def _first_sample(body: bytes, address: str) -> float:
    try:
        answer: Any = json.loads(body)
    except ValueError:
        raise PrometheusError(f"Prometheus at {address} answered something other than JSON") from None
    if not isinstance(answer, dict) or answer.get("status") != "success" or not isinstance(answer.get("data"), dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        raise PrometheusError(f"Prometheus at {address} answered an error: {error or 'no status success'}")
    data = answer["data"]
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list) and len(result) == 2:
        return _number(result[1], address)
    if data.get("resultType") != "vector" or not isinstance(result, list):
        raise PrometheusError(f"Prometheus at {address} answered a {data.get('resultType')!s}, not a vector")
    if not result:
        raise PrometheusError("the query returned no sample (no series matched: is the canary serving?)")
    first = result[0]
    value = first.get("value") if isinstance(first, dict) else None
    if not isinstance(value, list) or len(value) != 2:
        raise PrometheusError(f"Prometheus at {address} answered a sample without a value")
    return _number(value[1], address)


def _number(text: object, address: str) -> float:
    try:
        value = float(str(text))
    except ValueError:
        raise PrometheusError(f"Prometheus at {address} answered a sample that is not a number: {text!r}") from None
    return value
