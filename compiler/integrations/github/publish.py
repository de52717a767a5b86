"""What `charter github report` sends: a check run with annotations, and one summary comment.

The check run carries every finding as an annotation on its line. The
Checks API takes 50 annotations a request, so the run is created with the
first 50 and updated with each next 50 (GitHub appends them); the last
update completes it with its conclusion. The comment on the pull request
holds the plan; it is found again by a hidden marker and edited in place,
so a pull request has one Charter comment however often the job runs.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compiler import __version__
from compiler.core.diagnostics import Diagnostic, sort_diagnostics
from compiler.core.markdown import code
from compiler.core.markdown import text as md
from compiler.reporters import markdown as markdown_report
from compiler.reporters.github import annotation
from compiler.reporters.text import plural

ANNOTATIONS_PER_REQUEST = 50
MARKER = "<!-- charter-report -->"
SUMMARY_LIMIT = 65_000  # the Checks API takes 65,535 characters of summary
MESSAGE_LIMIT = 60_000


def marker(name: str) -> str:
    return MARKER if name == "charter" else f"<!-- charter-report: {name} -->"


@dataclass(frozen=True)
class Content:
    name: str
    title: str
    summary: str
    conclusion: str  # success | failure
    annotations: list[dict[str, Any]]
    comment: str


def unplanned(content: Content, reason: str) -> Content:
    """A failed check run for a pull request whose plan could not be made: the findings alone never pass it."""
    title = f"No plan: {reason}"[:255]
    summary = f"**Charter could not plan this pull request:** {md(reason)}\n\n{content.summary}"[:SUMMARY_LIMIT]
    return replace(content, title=title, summary=summary, conclusion="failure")


# --- annotations ---------------------------------------------------------------------------


def to_annotations(diagnostics: Iterable[Diagnostic], repo_root: Path, cwd: Path | None = None) -> list[dict[str, Any]]:
    """Findings as Checks API annotations, paths relative to the repository; errors first."""
    cwd = cwd or Path.cwd()
    root = repo_root.resolve()
    out = []
    ordered = sorted(sort_diagnostics(diagnostics), key=lambda d: (d.suppressed, d.severity.rank))
    for d in ordered:
        if not d.file:
            continue
        path = Path(d.file)
        try:
            relative = (path if path.is_absolute() else cwd / path).resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # a built-in policy pack outside the repository: in the summary only
        out.append(annotation(d, relative, MESSAGE_LIMIT))
    return out


# --- the check run ---------------------------------------------------------------------------


def publish_check_run(repo: Any, head_sha: str, content: Content, *, details_url: str | None = None) -> tuple[Any, int]:
    """Create the check run with all annotations, 50 a request; returns it and the number of requests."""
    batches = [
        content.annotations[i : i + ANNOTATIONS_PER_REQUEST]
        for i in range(0, len(content.annotations), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    extra = {"details_url": details_url} if details_url else {}
    if len(batches) == 1:
        run = repo.create_check_run(
            content.name,
            head_sha,
            status="completed",
            conclusion=content.conclusion,
            started_at=now,
            completed_at=now,
            output=_output(content, batches[0]),
            **extra,
        )
        return run, 1
    run = repo.create_check_run(
        content.name, head_sha, status="in_progress", started_at=now, output=_output(content, batches[0]), **extra
    )
    for batch in batches[1:-1]:
        run.edit(output=_output(content, batch))
    run.edit(
        status="completed",
        conclusion=content.conclusion,
        completed_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
        output=_output(content, batches[-1]),
    )
    return run, len(batches)


def _output(content: Content, batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    output: dict[str, Any] = {"title": content.title, "summary": content.summary}
    if batch:
        output["annotations"] = list(batch)
    return output


# --- the comment ------------------------------------------------------------------------------


def upsert_comment(issue: Any, body: str, tag: str = MARKER) -> str:
    """Edit the comment that carries `tag`, or create it: returns created, updated or unchanged."""
    for comment in issue.get_comments():
        if tag in (comment.body or ""):
            if comment.body == body:
                return "unchanged"
            comment.edit(body)
            return "updated"
    issue.create_comment(body)
    return "created"


# --- what to say ------------------------------------------------------------------------------


def content(
    name: str,
    diagnostics: Sequence[Diagnostic],
    *,
    files: int,
    specs: int,
    failed: bool,
    annotations_: list[dict[str, Any]],
    plan_markdown: str | None,
    plan_note: str | None,
    breaking: str | None,
    commit: str | None,
) -> Content:
    tally, waived = markdown_report.tally(diagnostics)
    title = tally if diagnostics else "All checks passed"
    if breaking:
        title += f"; breaking changes: {breaking}"
    lines = [
        f"**{tally}**{f' ({waived} waived)' if waived else ''} in {plural(files, 'file')}, {plural(specs, 'spec')}."
    ]
    if breaking:
        lines.append(f"\n**Breaking changes:** {breaking}; the pull request comment has the plan.")
    if len(annotations_) < len(diagnostics):
        lines.append(f"\n{len(diagnostics) - len(annotations_)} findings are outside the repository (listed below).")
    lines.append("")
    used = sum(len(line) + 1 for line in lines)
    lines += markdown_report.findings_table(diagnostics, budget=SUMMARY_LIMIT - 500 - used)
    if not diagnostics:
        lines = ["**All checks passed**" + f" in {plural(files, 'file')}, {plural(specs, 'spec')}."]
    summary = "\n".join(lines)
    conclusion = "failure" if failed else "success"
    icon = "❌" if failed else "✅"
    body = [
        marker(name),
        f"## {icon} Charter: {md(name)}" if name != "charter" else f"## {icon} Charter",
        "",
        f"**Check:** {tally}{f' ({waived} waived)' if waived else ''} in {plural(files, 'file')}.",
        "",
    ]
    if plan_markdown is not None:
        body.append(plan_markdown.rstrip())
    else:
        body.append(f"_No plan: {md(plan_note or 'no base revision')}_")
    short = commit[:7] if commit else "?"
    body += ["", f"<sub>charter {md(__version__)} · commit {code(short)}</sub>", ""]
    return Content(name, title[:255], summary[:SUMMARY_LIMIT], conclusion, annotations_, "\n".join(body))
