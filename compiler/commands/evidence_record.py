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
import json
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compiler.core import repofs
from compiler.core.fsutil import write_atomic
from compiler.core.models.evidence import Evidence
from compiler.core.models.waiver import Waiver
from compiler.core.safe_names import escape_for_people, path_segment_problem
from compiler.stages.evidence.digest import sha256
from compiler.stages.evidence.store import ModelEvidence, evidence_path
from compiler.stages.resolve import Resolved

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
    if not isinstance(report, dict) or report.get("gate") not in ("data", "eval", "drift"):
        raise Unusable(f"{path}: not a report of `charter gate data|eval|drift`")
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


def to_record(report: dict[str, Any], source: str, resolved: Resolved, today: datetime.date) -> Evidence:
    """The evidence record of one report; Unusable when it names no model or could not run."""
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
    record: dict[str, Any] = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Evidence",
        "model": model,
        "version": version,
        "gate": report["gate"],
        "verdict": report.get("verdict"),
        "commit": judged.get("commit"),
        "charterVersion": report.get("charterVersion"),
        "judged": {"digest": judged.get("digest"), "parts": judged.get("parts")},
        # The subject's `file` is where the gate's machine saw the contract: the digests identify it instead.
        "subject": {k: v for k, v in (report.get("subject") or {}).items() if k != "file"},
        "inputs": report.get("inputs", []),
        "summary": report.get("summary", {}),
        "waivers": waivers_in_force(resolved, model, today),
        "details": {k: v for k, v in report.items() if k not in _RUN_ONLY | _TYPED},
    }
    record.update({key: report[key] for key in _TYPED if key in report})
    try:
        return Evidence.model_validate(record)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise Unusable(f"{source}: not a gate report Charter can record: `{where}`: {detail['msg']}") from None


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
    """A record with no measurement, judged against today's specs except the `changed` parts.

    For policy test cases and generated benchmark repositories, which need evidence to exist, not values.
    """
    parts = dict(entry.today.parts)
    for part in changed or ():
        parts[str(part)] = "sha256:" + "0" * 64
    return {
        "apiVersion": "charter/v1alpha1",
        "kind": "Evidence",
        "model": entry.model,
        "version": version or entry.version,
        "gate": gate,
        "verdict": verdict,
        "charterVersion": "stub",
        "judged": {"digest": sha256(parts), "parts": parts},
    }


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
