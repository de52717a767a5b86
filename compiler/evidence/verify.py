"""Evidence is verified, not believed: what a committed record claims is recomputed from what it measured.

A record is a file of the pull request like any other, so nothing it says is taken on its word:

- CH820: a verdict that does not follow from the record's own numbers. Each measured value is judged again
  against the bound the record lists beside it, each gate check against the measurement it repeats, and the
  record's verdict and summary against its checks (`roc_auc: 0.55` under `min: 0.8` with `status: pass`).
- CH821: a record that says it judged today's suite (its `suite` digest is today's) but lists other bounds, or
  leaves out a bound of it. A record judged against an older suite may differ; one that claims today's may not.
- CH822 (warning): an evaluation record measured another model than today's (its version, features, label, training or
  serving changed since: the `model-identity` digest differs). It is kept for the card's history, but its
  verdict for today's model is `no-verdict`.
- A data record's counts are judged again against the contract's quality rules as they are today
  (compiler/evidence/verify_data.py).
- A shadow record's checks (`charter deploy shadow`) are judged again against the bounds each lists in its details.
- CH823: no SHA-256 digest of the data or predictions it judged (`inputs[].digest`): a verdict about no
  particular data is not evidence.

A record with an error here is not used: the card, the report and the policies see no evidence from it. The
verdict the policies see (`related.evidence[].verdict`) is recomputed from the measured values against
TODAY's bounds (the suite's metric and fairness bounds and its `minGroupSize` as they are at this revision): a
value that fails today's bound fails, a bound of today's suite that the record does not measure has no verdict.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import Diagnostic, PathSegment, Severity
from compiler.core.documents import Document
from compiler.core.models.evidence import Evidence, FairnessBlock
from compiler.core.models.suite import EvaluationSuite
from compiler.core.positions import locate
from compiler.evidence.digest import Judged
from compiler.evidence.verify_data import clip, verify_data

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHECK_ID = re.compile(r"^(metrics|fairness)\[\d+\]\.([A-Za-z0-9_]+)(?:@(.+))?$")
_HINT = "evidence is written by `charter evidence record` from a gate's report; run the gate again and record it"
Key = tuple[str, str | None]


@dataclass
class Verified:
    """What a record is worth today: its findings, and its verdict against today's bounds."""

    findings: list[Diagnostic] = field(default_factory=list)
    verdict: str = "no-verdict"
    metrics: dict[Key, str] = field(default_factory=dict)
    """(metric, slice) -> the measured value's status against today's bound."""
    fairness: dict[Key, str] = field(default_factory=dict)
    """(feature, metric) -> the status against today's bound and minGroupSize."""

    @property
    def usable(self) -> bool:
        return not any(finding.severity is Severity.ERROR for finding in self.findings)


def status(value: float | int | None, low: float | None, high: float | None) -> str:
    """The gates' judgement of one value against a bound (compiler/gates/eval/gate.py)."""
    if value is None or isinstance(value, bool):
        return "no-verdict"
    if low is not None and value < low:
        return "fail"
    if high is not None and value > high:
        return "fail"
    return "pass"


def verdict_of(statuses: Sequence[str]) -> str:
    if "fail" in statuses:
        return "fail"
    return "no-verdict" if "no-verdict" in statuses else "pass"


def verify(
    document: Document, evidence: Evidence, today: Judged, suite: EvaluationSuite | None, contract: Any = None
) -> Verified:
    """`suite`: the model's evaluation suite today; `contract`: today's data of the contract a data record judged."""
    out = Verified()
    at = _Locator(document, out.findings)
    _digests(evidence, at)
    _verdict_and_summary(evidence, at)
    if evidence.gate == "eval":
        _measurements(evidence, at)
        _checks_repeat_measurements(evidence, at)
    out.verdict = evidence.verdict
    if evidence.gate == "eval" and suite is not None:
        _against_today(evidence, suite, today, at, out)
    if evidence.gate == "data":
        out.verdict = verdict_of(verify_data(evidence, contract, at))
    if evidence.gate == "shadow":
        _shadow_checks(evidence, at)
    # The evaluation gate measured the model's predictions; the data and drift gates measured data.
    identity, recorded = today.parts.get("model-identity"), evidence.judged.parts.get("model-identity")
    if evidence.gate == "eval" and identity is not None and recorded != identity:
        message = (
            f"this record measured another `{evidence.model}` than today's (its version, features, label, "
            "training or serving changed since): it is not evidence of today's model"
            if recorded is not None
            else "this record does not say which model it measured (no `model-identity` digest): it is not "
            "evidence of today's model"
        )
        at.add("CH822", message, ["judged", "parts", "model-identity"])
        out.verdict = "no-verdict"
    return out


def _digests(evidence: Evidence, at: _Locator) -> None:
    if not evidence.inputs:
        at.add("CH823", "the record names no data it judged (`inputs` is empty): it is not evidence", ["inputs"])
    for index, item in enumerate(evidence.inputs):
        digest = item.get("digest")
        if not (isinstance(digest, str) and DIGEST.match(digest)):
            what = "predictions" if evidence.gate == "eval" else "data"
            at.add(
                "CH823",
                f"input {index + 1} has no SHA-256 digest of the {what} it judged (`digest`): it is not evidence",
                ["inputs", index],
            )


def _verdict_and_summary(evidence: Evidence, at: _Locator) -> None:
    statuses = [check.status for check in evidence.checks]
    expected = verdict_of(statuses)
    if evidence.verdict != expected:
        failing = [check.id for check in evidence.checks if check.status in ("fail", "no-verdict")][:3]
        listed = ", ".join(f"`{clip(name)}`" for name in failing)
        why = f"checks {listed} did not pass" if failing else "every check passed"
        at.add("CH820", f"verdict `{evidence.verdict}` does not follow from the record's checks: {why}", ["verdict"])
    counted = dict(Counter(statuses))
    if dict(evidence.summary) != counted:
        shown = ", ".join(f"{name} {count}" for name, count in sorted(counted.items())) or "no checks"
        at.add("CH820", f"the summary does not count the record's checks ({shown})", ["summary"])


def _measurements(evidence: Evidence, at: _Locator) -> None:
    """Each measured value against the bound the record lists beside it."""
    for index, metric in enumerate(evidence.metrics or []):
        expected = "no-verdict" if metric.rows == 0 else status(metric.value, metric.min, metric.max)
        if metric.status != expected:
            label = clip(metric.metric + (f" on slice {metric.slice}" if metric.slice else ""))
            at.add(
                "CH820",
                _mismatch(label, metric.value, metric.min, metric.max, metric.status, expected),
                ["metrics", index, "value" if metric.value is not None else "status"],
            )
    min_group = evidence.details.get("minGroupSize")
    for feature, block in sorted((evidence.fairness or {}).items()):
        small = [group.group for group in block.groups if isinstance(min_group, int) and group.count < min_group]
        if isinstance(min_group, int) and sorted(small) != sorted(block.small_groups):
            at.add(
                "CH820",
                f"the groups of `{clip(feature)}` below minGroupSize {min_group} are {clip(str(small or 'none'))}, "
                f"not {clip(str(list(block.small_groups) or 'none'))}",
                ["fairness", feature, "smallGroups"],
            )
        for position, result in enumerate(block.checks):
            expected = "no-verdict" if block.small_groups else status(result.value, result.min, result.max)
            if result.status != expected:
                label = clip(f"{result.metric} by {feature}")
                at.add(
                    "CH820",
                    _mismatch(label, result.value, result.min, result.max, result.status, expected),
                    ["fairness", feature, "checks", position, "value" if result.value is not None else "status"],
                )


def _shadow_checks(evidence: Evidence, at: _Locator) -> None:
    """A shadow check's status against the bounds it lists (`details.min`, `details.max`): no number (NaN, an
    infinity) is beyond every bound, and a metric not measured (CH781) has no verdict."""
    for index, check in enumerate(evidence.checks):
        bounds = check.details or {}
        low, high = bounds.get("min"), bounds.get("max")
        if check.code == "CH781":
            expected = "no-verdict"
        elif not isinstance(check.value, int | float) or isinstance(check.value, bool):
            expected = "fail"
        else:
            expected = status(check.value, low, high)
        if check.status != expected:
            label = clip(check.id)
            at.add(
                "CH820", _mismatch(label, check.value, low, high, check.status, expected), ["checks", index, "status"]
            )


def _checks_repeat_measurements(evidence: Evidence, at: _Locator) -> None:
    """A gate check (CH720, CH721) repeats a measurement: the same value and the same status."""
    metrics = {(item.metric, item.slice): item for item in evidence.metrics or []}
    fairness = {
        (feature, result.metric): result
        for feature, block in (evidence.fairness or {}).items()
        for result in block.checks
    }
    for index, check in enumerate(evidence.checks):
        matched = _CHECK_ID.match(check.id) if check.code in ("CH720", "CH721") else None
        if matched is None:
            continue
        group, metric, where = matched.groups()
        measured: Any = metrics.get((metric, where)) if group == "metrics" else fairness.get((where or "", metric))
        if measured is None:
            if check.status == "pass":
                at.add(
                    "CH820",
                    f"check `{clip(check.id)}` passes, but the record measures nothing for it",
                    ["checks", index, "status"],
                )
            continue
        for name in ("value", "status"):
            if getattr(check, name) != getattr(measured, name):
                at.add(
                    "CH820",
                    f"check `{clip(check.id)}` says {name} {_shown(getattr(check, name))}, its measurement "
                    f"{_shown(getattr(measured, name))}",
                    ["checks", index, name],
                )


def _against_today(evidence: Evidence, suite: EvaluationSuite, today: Judged, at: _Locator, out: Verified) -> None:
    """Today's verdict of each bound of today's suite; CH821 where a record claiming today's suite differs."""
    claims_today = evidence.judged.parts.get("suite") == today.parts.get("suite")
    measured = {(item.metric, item.slice): (index, item) for index, item in enumerate(evidence.metrics or [])}
    unsupported = {check.target for check in evidence.checks if check.code == "CH720" and check.value is None}
    for bound in suite.spec.metrics:
        key: Key = (bound.metric, bound.slice)
        found = measured.get(key)
        label = bound.metric + (f" on slice {bound.slice}" if bound.slice else "")
        if found is None:
            out.metrics[key] = "no-verdict"
            if claims_today and bound.metric not in unsupported:
                at.add(
                    "CH821",
                    f"the record says it judged today's suite `{suite.metadata.name}`, but does not "
                    f"measure its bound on {label}",
                    ["metrics"],
                )
            continue
        index, item = found
        if claims_today:
            _same_bound(at, label, (item.min, item.max), (bound.min, bound.max), ["metrics", index], suite)
        out.metrics[key] = "no-verdict" if item.rows == 0 else status(item.value, bound.min, bound.max)
    blocks = evidence.fairness or {}
    for check in suite.spec.fairness:
        fkey: Key = (check.sensitive_feature, check.metric)
        block = blocks.get(check.sensitive_feature)
        position, result = _fairness_result(block, check.metric)
        label = f"{check.metric} by {check.sensitive_feature}"
        if block is None or result is None:
            out.fairness[fkey] = "no-verdict"
            if claims_today:
                at.add(
                    "CH821",
                    f"the record says it judged today's suite `{suite.metadata.name}`, but does not measure {label}",
                    ["fairness"],
                )
            continue
        path: list[PathSegment] = ["fairness", check.sensitive_feature, "checks", position]
        if claims_today:
            _same_bound(at, label, (result.min, result.max), (check.min, check.max), path, suite)
        small = any(group.count < suite.spec.min_group_size for group in block.groups)
        out.fairness[fkey] = "no-verdict" if small else status(result.value, check.min, check.max)
    out.verdict = verdict_of([*out.metrics.values(), *out.fairness.values()])


def _fairness_result(block: FairnessBlock | None, metric: str) -> tuple[int, Any]:
    for position, result in enumerate(block.checks if block is not None else []):
        if result.metric == metric:
            return position, result
    return -1, None


def _same_bound(
    at: _Locator,
    label: str,
    recorded: tuple[float | None, float | None],
    today: tuple[float | None, float | None],
    path: list[PathSegment],
    suite: EvaluationSuite,
) -> None:
    if recorded == today:
        return
    side = "min" if recorded[0] != today[0] else "max"
    at.add(
        "CH821",
        f"the record says it judged today's suite `{suite.metadata.name}`, but lists the bound of {label} as "
        f"{_bound(*recorded)} where the suite says {_bound(*today)}",
        [*path, side],
    )


def _mismatch(label: str, value: Any, low: Any, high: Any, recorded: str, expected: str) -> str:
    return (
        f"{label} = {_shown(value)} under the bound {_bound(low, high)} is `{expected}`, "
        f"but the record says `{recorded}`"
    )


def _bound(low: Any, high: Any) -> str:
    parts = []
    if low is not None:
        parts.append(f">= {low}")
    if high is not None:
        parts.append(f"<= {high}")
    return " and ".join(parts) or "none"


def _shown(value: Any) -> str:
    text = "null" if value is None else f"`{value}`" if isinstance(value, str) else repr(value)
    return text[:60]


class _Locator:
    """Findings at the line and column of a value of the record's document."""

    def __init__(self, document: Document, findings: list[Diagnostic]):
        self.document, self.findings = document, findings

    def add(self, code: str, message: str, path: list[PathSegment]) -> None:
        span = locate(self.document.node, path)
        self.findings.append(
            Diagnostic.of(
                code,
                message,
                self.document.file,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
                path=tuple(path),
                hint=_HINT,
            )
        )
