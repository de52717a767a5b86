"""`charter evidence record REPORT...`: gate reports filed as evidence of a model version.

A report says what it judged (`judged`: model, version, digests, commit; see
compiler/gates/judged.py). Its record keeps what people who sign a model off ask for: the
data measured on, every check with its value, bound and verdict, per-group fairness numbers
and group sizes, the digests of the specs and the waivers in force, and drops what depends on
the run (headline, exit code). The same report gives the same bytes: sorted keys, two-space
indentation, a final newline.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compiler.core import repofs
from compiler.core.canonical import sha256
from compiler.core.fsutil import write_atomic
from compiler.core.models.evidence import Evidence, Origin
from compiler.core.models.suite import EvaluationSuite
from compiler.core.models.waiver import Waiver
from compiler.core.resolved import Resolved
from compiler.core.safe_names import escape_for_people, path_segment_problem
from compiler.evidence import GATES
from compiler.evidence.store import ModelEvidence, evidence_path

# A gate report holds aggregates (checks, metrics, per-group numbers): a few thousand values, a few levels.
# Bounds far above that keep a hostile one from reaching the validator and the writer, which recurse and copy.
MAX_REPORT_BYTES = 10 * 1024 * 1024
MAX_REPORT_DEPTH = 64
MAX_REPORT_VALUES = 100_000
# Report fields that describe the run rather than what was measured.
_RUN_ONLY = {"exitCode", "headline", "charterVersion", "gate", "verdict", "judged", "subject", "inputs", "summary"}
_TYPED = {"checks", "metrics", "fairness"}


class Unusable(Exception):
    """A report that cannot be filed: the message says why, naming the file."""


@dataclass(frozen=True)
class Filed:
    path: str
    record: Evidence


def read_report(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as error:
        raise Unusable(f"{path}: cannot read: {error.strerror}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise Unusable(f"{path}: larger than {MAX_REPORT_BYTES:,} bytes; not a gate report")
    try:
        report = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unusable(f"{path}: not JSON: {escape_for_people(str(error))[:200]}") from None
    if not isinstance(report, dict) or report.get("gate") not in GATES:
        raise Unusable(f"{path}: not a report of `charter gate data|eval|drift` or `charter deploy shadow`")
    _check_shape(report, path)
    return report


def _check_shape(report: dict[str, Any], path: Path) -> None:
    """Unusable when the report nests deeper than `MAX_REPORT_DEPTH` or holds more than `MAX_REPORT_VALUES`
    values; walked with a stack of its own, so a deep report cannot exhaust the interpreter's."""
    pending: list[tuple[object, int]] = [(report, 1)]
    values = 0
    while pending:
        value, depth = pending.pop()
        values += 1
        if depth > MAX_REPORT_DEPTH:
            raise Unusable(f"{path}: nested deeper than {MAX_REPORT_DEPTH} levels; not a gate report")
        if values > MAX_REPORT_VALUES:
            raise Unusable(f"{path}: more than {MAX_REPORT_VALUES:,} values; not a gate report")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def origin_in_actions(environ: Mapping[str, str], artifact: str, digest: str) -> Origin:
    """The run recording the report, as GitHub Actions names it, and the artifact that holds the report.

    `GITHUB_WORKFLOW_REF` is `owner/repo/.github/workflows/<file>@<ref>`; the digest is upload-artifact's
    `artifact-digest` output (hex, or `sha256:` and hex).
    """
    run_id, workflow_ref = environ.get("GITHUB_RUN_ID", ""), environ.get("GITHUB_WORKFLOW_REF", "")
    if not run_id.isdigit() or workflow_ref.count("/") < 2:
        raise Unusable("--artifact-digest: GITHUB_RUN_ID and GITHUB_WORKFLOW_REF are not set; not in GitHub Actions")
    workflow, _, ref = workflow_ref.split("/", 2)[2].rpartition("@")
    data = {
        "runId": int(run_id),
        "workflow": workflow,
        "ref": ref,
        "artifact": artifact,
        "artifactDigest": digest if digest.startswith("sha256:") else f"sha256:{digest}",
    }
    try:
        return Origin.model_validate(data)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        shown = escape_for_people(str(detail.get("input")))[:120]
        raise Unusable(f"the run's origin cannot be recorded: `{where}` is `{shown}`: {detail['msg']}") from None


def to_record(
    report: dict[str, Any], source: str, resolved: Resolved, today: datetime.date, origin: Origin | None = None
) -> Evidence:
    """The evidence record of one report, made by the run `origin`; Unusable when it names no model or did not run."""
    judged = report.get("judged")
    if not isinstance(judged, dict) or not judged.get("model"):
        hint = " (run the data gate with --model)" if report.get("gate") == "data" else ""
        raise Unusable(f"{source}: the report names no model it judged{hint}; it cannot be evidence of a version")
    if report.get("verdict") == "error":
        raise Unusable(f"{source}: the gate could not run (verdict error); there is nothing measured to record")
    model, version = str(judged["model"]), str(judged.get("version", ""))
    if resolved.get("Model", model) is None:
        raise Unusable(f"{source}: no Model named `{escape_for_people(model)[:80]}` in the project")
    problem = path_segment_problem(version)
    if problem is not None:
        raise Unusable(f"{source}: version `{escape_for_people(version)[:80]}` cannot name a directory: {problem}")
    record = {**measured(report), "waivers": waivers_in_force(resolved, model, today)}
    if origin is not None:
        record["origin"] = origin.model_dump(mode="json", by_alias=True)
    try:
        return Evidence.model_validate(record)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise Unusable(f"{source}: not a gate report Charter can record: `{where}`: {detail['msg']}") from None


def measured(report: dict[str, Any]) -> dict[str, Any]:
    """What a record keeps of its report: everything but the waivers in force (the project's) and the origin."""
    judged = report.get("judged") or {}
    record: dict[str, Any] = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Evidence",
        "model": str(judged.get("model", "")),
        "version": str(judged.get("version", "")),
        "gate": report.get("gate"),
        "verdict": report.get("verdict"),
        "commit": judged.get("commit"),
        "charterVersion": report.get("charterVersion"),
        "judged": {"digest": judged.get("digest"), "parts": judged.get("parts")},
        # The subject's `file` is where the gate's machine saw the contract: the digests identify it instead.
        "subject": {k: v for k, v in (report.get("subject") or {}).items() if k != "file"},
        "inputs": report.get("inputs", []),
        "summary": report.get("summary", {}),
        "details": {k: v for k, v in report.items() if k not in _RUN_ONLY | _TYPED},
    }
    record.update({key: report[key] for key in _TYPED if key in report})
    return record


def differs_from_report(record: Evidence, raw: bytes) -> str | None:
    """The first field of `record` that is not what its report (read from the run's artifact) says; None if none.

    The record is rebuilt from the report as `charter evidence record` builds it, with the record's own waivers
    and origin (which the report does not hold), and compared field by field.
    """
    try:
        report = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "gate"
    if not isinstance(report, dict) or report.get("gate") not in GATES:
        return "gate"
    mine = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    kept = {key: mine[key] for key in ("waivers", "origin") if key in mine}
    try:
        rebuilt = Evidence.model_validate({**measured(report), **kept})
    except ValidationError:
        return "gate"
    theirs = rebuilt.model_dump(mode="json", by_alias=True, exclude_none=True)
    return next((key for key in [*mine, *theirs] if mine.get(key) != theirs.get(key)), None)


def waivers_in_force(resolved: Resolved, model: str, today: datetime.date) -> list[dict[str, Any]]:
    found = []
    for name, spec in sorted(resolved.by_kind.get("Waiver", {}).items()):
        waiver = spec.model
        if not isinstance(waiver, Waiver) or waiver.spec.expires < today:
            continue
        if (waiver.spec.target.kind, waiver.spec.target.name) == ("Model", model):
            found.append(
                {
                    "name": name,
                    "policy": waiver.spec.policy,
                    "rule": waiver.spec.rule,
                    "expires": waiver.spec.expires.isoformat(),
                    "approvers": list(waiver.spec.approvers),
                }
            )
    return found


def stub_record(
    entry: ModelEvidence, *, gate: str = "eval", verdict: str = "pass", version: str | None = None, changed: Any = ()
) -> dict[str, Any]:
    """A record that measured nothing real, judged against today's specs except the `changed` parts.

    For policy test cases and generated benchmark repositories, which need evidence to exist, not values. It is
    consistent, so that it passes verification (compiler/evidence/verify.py): an evaluation record
    measures every bound of today's suite at the bound itself (a pass), the first one just outside it for
    `fail`, or not at all for `no-verdict`; its input names the digest of no bytes.
    """
    parts = dict(entry.today.parts)
    for part in changed or ():
        parts[str(part)] = "sha256:" + "0" * 64
    measured = _stub_measurements(entry.suite, verdict) if gate == "eval" else {"checks": []}
    statuses = [check["status"] for check in measured["checks"]]
    summary = {status: statuses.count(status) for status in sorted(set(statuses))}
    if gate != "eval" and verdict != "pass":  # a data or drift record: one check that says so
        measured["checks"].append({"code": "CH705", "id": "stub", "title": "stub", "status": verdict})
        summary = {verdict: 1}
    return {
        "apiVersion": "charter/v1alpha1",
        "kind": "Evidence",
        "model": entry.model,
        "version": version or entry.version,
        "gate": gate,
        "verdict": verdict,
        "charterVersion": "stub",
        "judged": {"digest": sha256(parts), "parts": parts},
        "inputs": [{"path": "stub", "format": "parquet", "rows": 0, "digest": _EMPTY_DIGEST}],
        "summary": summary,
        **measured,
    }


_EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"").hexdigest()


def _stub_measurements(suite: EvaluationSuite | None, verdict: str) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    fairness: dict[str, dict[str, Any]] = {}
    size = suite.spec.min_group_size if suite is not None else 1
    for index, bound in enumerate(suite.spec.metrics if suite is not None else []):
        value: float | None = bound.min if bound.min is not None else bound.max
        status = "pass"
        if index == 0 and verdict == "fail":
            value = bound.min - 0.01 if bound.min is not None else (bound.max or 0) + 0.01
            status = "fail"
        elif index == 0 and verdict == "no-verdict":
            value, status = None, "no-verdict"
        metrics.append({"metric": bound.metric, "rows": 1, "value": value, "status": status, **_bounds(bound)})
        if bound.slice is not None:
            metrics[-1]["slice"] = bound.slice
        check_id = f"metrics[{index}].{bound.metric}" + (f"@{bound.slice}" if bound.slice else "")
        checks.append({"code": "CH720", "id": check_id, "title": check_id, "status": status, "value": value})
    for index, check in enumerate(suite.spec.fairness if suite is not None else []):
        value = check.min if check.min is not None else check.max
        block = fairness.setdefault(
            check.sensitive_feature,
            {"column": check.sensitive_feature, "groups": [{"group": g, "count": size} for g in "ab"], "checks": []},
        )
        block["checks"].append({"metric": check.metric, "value": value, "status": "pass", **_bounds(check)})
        check_id = f"fairness[{index}].{check.metric}@{check.sensitive_feature}"
        checks.append({"code": "CH721", "id": check_id, "title": check_id, "status": "pass", "value": value})
    details = {"minGroupSize": size} if suite is not None else {}
    return {"metrics": metrics, "checks": checks, "fairness": fairness, "details": details}


def _bounds(bound: Any) -> dict[str, float]:
    return {side: getattr(bound, side) for side in ("min", "max") if getattr(bound, side) is not None}


def render(record: Evidence) -> str:
    data = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def file_records(root: Path, records: Sequence[Evidence]) -> list[Filed]:
    """Write each record under the project root, never through a link; a later report of a gate replaces it."""
    filed = []
    for record in records:
        relative = evidence_path(record.model, record.version, record.gate)
        info = repofs.inspect(root, relative)  # Refused when a link or a file is on the way
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise repofs.Refused(relative, "not a regular file")
        write_atomic(root / relative, render(record))
        filed.append(Filed(relative, record))
    return filed
