"""The plan as text (terminals), JSON (scripts) and Markdown (pull-request comments).

Breaking changes and findings are findings (`Diagnostic`), rendered by the
reporting package: their JSON is `compiler.reporters.json_format`'s, their
Markdown `compiler.reporters.markdown`'s, escaped by the one Markdown escaper
(`compiler.core.markdown`: no HTML, no mentions, no markup smuggled into a comment;
diffs fenced with more backticks than they contain). Terminal output drops
control characters. This module lays out what only a plan has: the specs
changed, the generated files and their diffs, the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from compiler import __version__, reporters
from compiler.core.diagnostics import Severity, sort_diagnostics
from compiler.core.markdown import code, fence
from compiler.core.markdown import text as md
from compiler.plan.approvals import ApprovalNeeded
from compiler.plan.make import Plan
from compiler.plan.rules import BreakingChange
from compiler.reporters.findings import Report
from compiler.reporters.json_format import breaking_json, finding_json
from compiler.reporters.markdown import BREAKING_HEADER, breaking_row, finding_line
from compiler.reporters.text import breaking_lines, one_line, plural, safe

__all__ = ["COMMENT_LIMIT", "MARKER", "render", "render_json", "render_markdown"]

MARKER = "<!-- charter-report -->"
COMMENT_LIMIT = 65_000  # GitHub refuses comments over 65,536 characters


def render(plan: Plan, fmt: str, *, diffs: bool = True) -> str:
    own = {  # OWN_FORMATS (compiler/plan/formats.py)
        "text": lambda: render_text(plan, diffs=diffs),
        "json": lambda: render_json(plan, diffs=diffs),
        "markdown": lambda: render_markdown(plan, diffs=diffs),
    }
    return reporters.render(fmt, findings_report(plan), own)


def findings_report(plan: Plan) -> Report:
    """What the plan found, as findings: its breaking changes, the approvals a governance change needs, and
    the head's findings that the base did not have."""
    approvals = [finding for need in plan.approvals_needed for finding in need.findings]
    head = plan.head.result
    return Report(
        tuple(sort_diagnostics([*plan.breaking, *approvals, *plan.findings.new])),
        files_checked=head.files,
        specs_checked=head.spec_count,
        sources=head.sources,
        tool_version=__version__,
    )


def _revision(plan: Plan, head: bool) -> str:
    snapshot = plan.head if head else plan.base
    rev = plan.head_rev if head else plan.base_rev
    if snapshot.commit is None:
        return snapshot.label
    return snapshot.label if rev is None or rev.startswith(snapshot.label) else f"{snapshot.label} ({rev})"


def _counts(changes: Iterable[BreakingChange]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for change in changes:
        counts[change.severity] += 1
    return counts


def _tally(counts: dict[Severity, int]) -> str:
    parts = [plural(n, s.value) for s, n in counts.items() if n]
    return ", ".join(parts) or "none"


def _spec_tally(plan: Plan) -> str:
    counts = {status: sum(1 for c in plan.changes if c.status == status) for status in ("added", "removed", "changed")}
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no changes"


# --- text ----------------------------------------------------------------------------


def render_text(plan: Plan, *, diffs: bool = True) -> str:
    out = [f"charter plan: {safe(plan.project)}: {_revision(plan, False)} -> {_revision(plan, True)}", ""]
    out.append(f"Specs: {_spec_tally(plan)}")
    for change in plan.changes:
        out.append(f"  {change.status:<8} {change.kind} `{safe(change.name)}`  {safe(change.file)}")
        for path in change.fields[:8]:
            out.append(f"             {safe(path)}")
        if len(change.fields) > 8:
            out.append(f"             ... and {len(change.fields) - 8} more")
    out += ["", f"Breaking changes: {_tally(_counts(plan.breaking))}"]
    for item in plan.breaking:
        out += breaking_lines(item)
    out += _text_approvals(plan)
    findings = plan.findings
    out += [
        "",
        f"Findings: {len(findings.new)} new, {len(findings.fixed)} fixed, {len(findings.still)} still there",
    ]
    for label, items in (("new", findings.new), ("fixed", findings.fixed)):
        out += [f"  {label:<6} {one_line(d)}" for d in items]
    out.append("")
    if plan.files is None:
        out.append(f"Generated files: not compared: {plan.files_note}")
    else:
        out.append(f"Generated files: {plural(len(plan.files), 'file')} change")
        if plan.files_note:
            out.append(f"  note: {safe(plan.files_note)}")
        for file in plan.files:
            out.append(f"  {file.status:<8} {safe(file.path)}")
        if diffs:
            for file in plan.files:
                out.append("")
                out.append(safe_diff(file.diff).rstrip("\n"))
    out += ["", _verdict(plan)]
    return "\n".join(out) + "\n"


def _approval_status(need: ApprovalNeeded) -> str:
    if need.approved:
        return need.finding.note or "approved"
    if need.mode == "admins":
        return f"needs {need.owners_text()} (the base revision names no owner)"
    return f"needs {'every one' if need.mode == 'all' else 'one'} of {need.owners_text().replace(' and ', ', ')}"


def _approvals_tally(plan: Plan) -> str:
    changes = sum(len(need.findings) for need in plan.approvals_needed)
    groups = plural(len(plan.approvals_needed), "owner group")
    return f"{groups} must approve {plural(changes, 'governance change')}"


def _text_approvals(plan: Plan) -> list[str]:
    """One entry per group of owners: its status, then every change it approves, each at its place."""
    if not plan.approvals_needed:
        return []
    out = ["", f"Approvals: {_approvals_tally(plan)}"]
    for need in plan.approvals_needed:
        worst = min((finding.severity for finding in need.findings), key=lambda severity: severity.rank)
        out.append(f"  {worst.value:<8} {safe(_approval_status(need))}: {safe(need.reason)}")
        for finding in need.findings:
            out.append(f"           {safe(finding.file)}:{finding.line}:{finding.column}: {safe(finding.message)}")
    return out


def safe_diff(text: str) -> str:
    return "\n".join(safe(line) for line in text.split("\n"))


def _verdict(plan: Plan) -> str:
    reasons = []
    head_errors = sum(1 for d in plan.head.result.diagnostics if d.severity is Severity.ERROR and not d.suppressed)
    if head_errors:
        reasons.append(f"{plural(head_errors, 'error')} at {plan.head.label}")
    if plan.failing_breaking:
        reasons.append(f"{plural(len(plan.failing_breaking), 'breaking change')} at or above {plan.fail_on}")
    if plan.failing_approvals:
        unapproved = sum(1 for need in plan.failing_approvals for f in need.findings if f.severity is not Severity.INFO)
        reasons.append(f"{plural(unapproved, 'governance change')} without a verified approval")
    if reasons:
        return f"charter plan: fails: {'; '.join(reasons)}."
    return "charter plan: passes."


# --- JSON ----------------------------------------------------------------------------


def render_json(plan: Plan, *, diffs: bool = True) -> str:
    counts = _counts(plan.breaking)
    document = {
        "version": __version__,
        "project": plan.project,
        "base": {"rev": plan.base_rev, "commit": plan.base.commit, "label": plan.base.label},
        "head": {"rev": plan.head_rev, "commit": plan.head.commit, "label": plan.head.label},
        "summary": {
            "specs": {s: sum(1 for c in plan.changes if c.status == s) for s in ("added", "removed", "changed")},
            "breaking": {s.value: n for s, n in counts.items()},
            "findings": {k: len(getattr(plan.findings, k)) for k in ("new", "fixed", "still")},
            "generatedFiles": None if plan.files is None else len(plan.files),
        },
        "specs": [
            {"kind": c.kind, "name": c.name, "status": c.status, "file": c.file, "fields": list(c.fields)}
            for c in plan.changes
        ],
        "breakingChanges": [breaking_json(change) for change in plan.breaking],
        "approvalsNeeded": [
            {
                "owners": list(need.owners),
                "mode": need.mode,
                "reason": need.reason,
                "findings": [breaking_json(finding) for finding in need.findings],
            }
            for need in plan.approvals_needed
        ],
        "findings": {k: [finding_json(d) for d in getattr(plan.findings, k)] for k in ("new", "fixed", "still")},
        "generatedFiles": {
            "note": plan.files_note,
            "files": None
            if plan.files is None
            else [{"path": f.path, "status": f.status, "diff": f.diff if diffs else None} for f in plan.files],
        },
        "exitCode": plan.exit_code(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- Markdown ---------------------------------------------------------------------------


def render_markdown(
    plan: Plan, *, diffs: bool = True, limit: int = COMMENT_LIMIT, heading: str = "###", approvals: bool = True
) -> str:
    """The plan in Markdown; `approvals=False` leaves the approvals out for a report that shows them itself."""
    out = [
        f"{heading} Charter plan",
        "",
        f"{code(plan.project)}: {code(_revision(plan, False))} → {code(_revision(plan, True))}",
        "",
    ]
    out += _markdown_specs(plan)
    out += _markdown_breaking(plan, heading)
    out += _markdown_approvals(plan, heading) if approvals else []
    out += _markdown_findings(plan, heading)
    body = "\n".join(out)
    tail = ["", f"**{md(_verdict(plan).removeprefix('charter plan: '))}**", ""]
    files = _markdown_files(plan, heading, diffs=diffs, budget=limit - len(body) - 400)
    return body + "\n" + "\n".join(files + tail)


def _markdown_specs(plan: Plan) -> list[str]:
    out = [f"**Specs:** {_spec_tally(plan)}", ""]
    if plan.changes:
        out += ["| | kind | name | file | fields |", "|---|---|---|---|---|"]
        for change in plan.changes:
            fields = ", ".join(code(f) for f in change.fields[:5])
            if len(change.fields) > 5:
                fields += f" and {len(change.fields) - 5} more"
            sign = {"added": "➕", "removed": "➖", "changed": "✏️"}[change.status]
            out.append(
                f"| {sign} {change.status} | {change.kind} | {code(change.name)} | {code(change.file)} | {fields} |"
            )
        out.append("")
    return out


def _markdown_breaking(plan: Plan, heading: str) -> list[str]:
    out = [f"{heading}# Breaking changes: {_tally(_counts(plan.breaking))}", ""]
    if not plan.breaking:
        return out
    out += list(BREAKING_HEADER)
    out += [breaking_row(change) for change in plan.breaking]
    out.append("")
    return out


def _markdown_approvals(plan: Plan, heading: str) -> list[str]:
    """One row per group of owners, listing every change it approves."""
    if not plan.approvals_needed:
        return []
    out = [f"{heading}# Approvals: {_approvals_tally(plan)}", ""]
    out += ["| | where | approval | change |", "|---|---|---|---|"]
    for need in plan.approvals_needed:
        sign = "✅" if need.approved else "⛔"
        where = "<br>".join(code(f"{finding.file}:{finding.line}") for finding in need.findings)
        changes = "<br>".join(md(finding.message) for finding in need.findings)
        out.append(f"| {sign} | {where} | {md(_approval_status(need))} | {changes} |")
    out.append("")
    return out


def _markdown_findings(plan: Plan, heading: str) -> list[str]:
    findings = plan.findings
    out = [
        f"{heading}# Findings: {len(findings.new)} new, {len(findings.fixed)} fixed, {len(findings.still)} still there",
        "",
    ]
    for label, items in (("🆕 new", findings.new), ("✅ fixed", findings.fixed)):
        for d in items[:50]:
            out.append(f"- {label} {finding_line(d)}")
        if len(items) > 50:
            out.append(f"- ... and {len(items) - 50} more")
    if findings.still:
        out += ["", f"<details><summary>{len(findings.still)} still there</summary>", ""]
        out += [f"- {finding_line(d)}" for d in findings.still[:100]]
        if len(findings.still) > 100:
            out.append(f"- ... and {len(findings.still) - 100} more")
        out += ["", "</details>"]
    out.append("")
    return out


def _markdown_files(plan: Plan, heading: str, *, diffs: bool, budget: int) -> list[str]:
    if plan.files is None:
        return [f"{heading}# Generated files: not compared", "", md(plan.files_note or ""), ""]
    out = [f"{heading}# Generated files: {plural(len(plan.files), 'file')} change", ""]
    if plan.files_note:
        out += [f"_{md(plan.files_note)}_", ""]
    used = 0
    for file in plan.files:
        summary = f"<details><summary><code>{md(file.path)}</code> ({file.status})</summary>"
        if not diffs:
            out.append(f"- {code(file.path)} ({file.status})")
            continue
        ticks = fence(file.diff)
        block = f"{summary}\n\n{ticks}diff\n{file.diff.rstrip()}\n{ticks}\n\n</details>"
        if used + len(block) > budget:
            out.append(
                f"- {code(file.path)} ({file.status}): diff too long for a comment; run `charter plan` to see it"
            )
            continue
        used += len(block)
        out.append(block)
    out.append("")
    return out
