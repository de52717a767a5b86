"""What a model card shows of the evidence: measured values beside bounds and verdicts, groups, data, staleness.

The values come only from a committed record (compiler/evidence/store.py), never from the
suite: a card without evidence says so, and its `model-index` lists no value. Bounds are the
ones the gate judged against; when the suite has changed since, today's bound is shown too,
and the whole section is marked stale.
"""

from __future__ import annotations

import math
from typing import Any

from compiler.core.models.evidence import FairnessBlock, MeasuredMetric
from compiler.core.models.suite import EvaluationSuite
from compiler.evidence.registration import card_view as registered_view
from compiler.evidence.store import ModelEvidence, Record

# The part names of compiler/evidence/digest.py, as a card says them.
PART_WORDS = {
    "model": "the model spec",
    "model-identity": "the model itself (version, data, features, label, training or serving)",
    "suite": "the evaluation suite",
    "training-data": "the training data contract",
    "validation-data": "the validation data contract",
    "evaluation-data": "the evaluation data contract",
    "policies": "the policy set",
}
_VERDICT_WORDS = {"pass": "pass", "fail": "FAIL", "no-verdict": "no verdict", "warn": "warning", "error": "error"}


def number(value: Any) -> str:
    """A measured value as people read it: four decimals at most, `n/a` when undefined."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "n/a"
    if value == 0 or 1e-4 <= abs(value) < 1e7:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


def bound_text(low: float | None, high: float | None) -> str:
    parts = []
    if low is not None:
        parts.append(f">= {number(low)}")
    if high is not None:
        parts.append(f"<= {number(high)}")
    return " and ".join(parts) or "none"


def card_view(entry: ModelEvidence | None, suite: EvaluationSuite | None) -> dict[str, Any]:
    """The evidence block of the card template: `state` is `none`, `current` or `stale`."""
    version = entry.version if entry is not None else None
    record = entry.records.get("eval") if entry is not None else None
    gates = [_gate_line(gate, found) for gate, found in sorted(entry.records.items())] if entry is not None else []
    lineage = lineage_view(entry)
    if record is None:
        empty: dict[str, Any] = {"metrics": [], "fairness": [], "inputs": []}
        return {"state": "none", "version": version, "gates": gates, "lineage": lineage, **empty}
    evidence = record.evidence
    today = _today_bounds(suite)
    return {
        "state": "current" if record.current else "stale",
        "version": version,
        "file": record.path,
        "verdict": _VERDICT_WORDS.get(record.verdict, record.verdict),
        "commit": (evidence.commit or "")[:12] or "not recorded",
        "changed": [PART_WORDS.get(part, part) for part in record.changed],
        "gates": gates,
        "metrics": [_metric(item, today, record) for item in evidence.metrics or []],
        "fairness": [_fairness(name, block, record) for name, block in sorted((evidence.fairness or {}).items())],
        "inputs": [_input(item) for item in evidence.inputs],
        "lineage": lineage,
    }


def lineage_view(entry: ModelEvidence | None) -> dict[str, Any]:
    """The version's lineage as its evidence records it: the data its gates measured (the contract's version, the
    DVC data version), the run that trained it and the version the registry gave it (registration.json)."""
    data: list[dict[str, str]] = []
    for gate, record in sorted(entry.records.items()) if entry is not None else ():
        subject = record.evidence.subject
        for item in record.evidence.inputs:
            found = item.get("dvc")
            dvc: dict[str, Any] = found if isinstance(found, dict) else {}
            line = {
                "gate": gate,
                "path": str(item.get("path", "?")),
                "contract": str(subject.get("contract") or ""),
                "version": str(subject.get("version") or "") if subject.get("contract") else "",
                "md5": _dvc_md5(dvc) or "",
                "dvc_file": str(dvc.get("file", "")),
                "dvc_path": str(dvc.get("path", "")),
            }
            if line not in data:
                data.append(line)
    registration = entry.registration if entry is not None else None
    return {"data": data, "registered": registered_view(registration)}


def _gate_line(gate: str, record: Record) -> dict[str, Any]:
    evidence = record.evidence
    return {
        "gate": gate,
        "verdict": _VERDICT_WORDS.get(record.verdict, record.verdict),
        "commit": (evidence.commit or "")[:12] or "not recorded",
        "stale": not record.current,
        "file": record.path,
        "inputs": [_input(item) for item in evidence.inputs],
    }


def _today_bounds(suite: EvaluationSuite | None) -> dict[tuple[str, str | None], str]:
    if suite is None:
        return {}
    return {(bound.metric, bound.slice): bound_text(bound.min, bound.max) for bound in suite.spec.metrics}


def _metric(item: MeasuredMetric, today: dict[tuple[str, str | None], str], record: Record) -> dict[str, Any]:
    """A measured value; its verdict is the one against today's bound (the record's, when today's suite has none)."""
    judged = bound_text(item.min, item.max)
    now = today.get((item.metric, item.slice))
    verdict = record.verified.metrics.get((item.metric, item.slice), item.status)
    return {
        "metric": item.metric,
        "slice": item.slice,
        "rows": number(item.rows),
        "value": item.value if isinstance(item.value, int | float) and math.isfinite(item.value) else None,
        "shown": number(item.value),
        "bound": judged,
        "bound_today": now if now is not None and now != judged else None,
        "verdict": _VERDICT_WORDS.get(verdict, verdict),
    }


def _fairness(name: str, block: FairnessBlock, record: Record) -> dict[str, Any]:
    today = record.verified.fairness
    return {
        "feature": name,
        "checks": [
            {
                "metric": check.metric,
                "shown": number(check.value),
                "bound": bound_text(check.min, check.max),
                "verdict": _VERDICT_WORDS.get(
                    today.get((name, check.metric), check.status), today.get((name, check.metric), check.status)
                ),
            }
            for check in block.checks
        ],
        "groups": [
            {
                "group": group.group,
                "count": number(group.count),
                "selection_rate": number(group.selection_rate),
                "true_positive_rate": number(group.true_positive_rate),
                "false_positive_rate": number(group.false_positive_rate),
                "mae": number(group.mae),
            }
            for group in block.groups
        ],
        "small": list(block.small_groups),
        "regression": all(group.selection_rate is None for group in block.groups),
    }


def _input(item: dict[str, Any]) -> dict[str, Any]:
    rows = item.get("rows")
    return {
        "path": str(item.get("path", "?")),
        "format": str(item.get("format", "")),
        "rows": number(rows) if isinstance(rows, int) and not isinstance(rows, bool) else "n/a",
        "dvc": _dvc_md5(item.get("dvc")),
        # A shadow window's input is a Prometheus and the window its rates span, not rows of data.
        "window": str(item["window"]) if isinstance(item.get("window"), str) else None,
    }


def _dvc_md5(version: Any) -> str | None:
    """The DVC data version (md5) the gate measured, when the server named its DVC file."""
    md5 = version.get("md5") if isinstance(version, dict) else None
    return md5 if isinstance(md5, str) else None
