"""Evidence origin, verified through GitHub's API: a committed record is evidence only if GitHub confirms its run.

`charter evidence record --artifact NAME --artifact-digest DIGEST`, inside the model's generated workflow, writes
the record's `origin`: the run id, the workflow file and ref (`GITHUB_WORKFLOW_REF`), and the gate report's
artifact with the digest upload-artifact gave it. A pull request that adds or changes a record is its author's
file like any other, so `charter github report` asks GitHub, for each such record:

- `GET /repos/{owner}/{repo}/actions/runs/{run_id}`: the run exists; its `path` is the record's workflow and the
  one the **base** revision generates for this model and gate (`model-<name>.yml`, drift: `monitor-<name>.yml`);
  its `head_branch` is the repository's default branch and the record's ref names it; its `event` is `push`,
  `schedule` or `workflow_dispatch` (never a pull request's code); its `head_sha` is the record's `commit`.
- `GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts`: the run uploaded an artifact of that name whose
  `digest` is the record's.

A record that fails is an error at the field that does not hold (CH850-CH853); when GitHub cannot be asked, the
record is not believed either (fail closed).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.documents import Document
from compiler.core.models.evidence import Evidence
from compiler.core.positions import locate
from compiler.core.safe_names import escape_for_people

TRIGGERS = frozenset({"push", "schedule", "workflow_dispatch"})
HINT = (
    "evidence is what the model's generated workflow recorded on the default branch; run it and merge the pull "
    "request it proposes instead of committing a record made elsewhere"
)


@dataclass(frozen=True)
class Claim:
    """One committed record to verify: where it is, its text (for positions), and the workflow that may make it."""

    record: Evidence
    file: str
    text: str
    workflow: str
    """Relative to the repository root, from the base revision's `outputs.workflows`."""


@dataclass
class _Runs:
    """Runs and their artifacts, read once however many records name them."""

    repo: Any
    runs: dict[int, Any] = field(default_factory=dict)
    artifacts: dict[int, list[Any]] = field(default_factory=dict)

    def run(self, run_id: int) -> Any | None:
        from github import GithubException, UnknownObjectException

        if run_id not in self.runs:
            try:
                run = self.repo.get_workflow_run(run_id)
                _ = run.path  # a lazy client reads the run on first use: read it here, where a 404 is understood
                self.runs[run_id] = run
            except UnknownObjectException:
                self.runs[run_id] = None
            except GithubException as error:
                if error.status != 404:
                    raise
                self.runs[run_id] = None
        return self.runs[run_id]

    def uploaded(self, run: Any) -> list[Any]:
        if run.id not in self.artifacts:
            self.artifacts[run.id] = list(run.get_artifacts())
        return self.artifacts[run.id]


def _short(value: object) -> str:
    return escape_for_people(str(value))[:120]


def _problem(claim: Claim, runs: _Runs, default_branch: str) -> tuple[str, str, tuple[PathSegment, ...]] | None:
    """(code, message, path in the record) of the first thing that does not hold, or None."""
    record, origin = claim.record, claim.record.origin
    if origin is None:
        return "CH850", "the evidence record names no workflow run it came from: it is not evidence", ()
    if origin.workflow != claim.workflow:
        message = f"made by `{_short(origin.workflow)}`, not by the model's generated workflow `{claim.workflow}`"
        return "CH851", message, ("origin", "workflow")
    if origin.ref != f"refs/heads/{default_branch}":
        message = f"made at `{_short(origin.ref)}`, not on the default branch `{_short(default_branch)}`"
        return "CH851", message, ("origin", "ref")
    run = runs.run(origin.run_id)
    if run is None:
        return "CH851", f"GitHub knows no workflow run {origin.run_id} in this repository", ("origin", "runId")
    for wrong, message in (
        (run.path != origin.workflow, f"run {run.id} is of `{_short(run.path)}`, not `{origin.workflow}`"),
        (run.head_branch != default_branch, f"run {run.id} ran on `{_short(run.head_branch)}`, not the default branch"),
        (run.event not in TRIGGERS, f"run {run.id} was triggered by `{_short(run.event)}`, not push or a schedule"),
    ):
        if wrong:
            return "CH851", message, ("origin", "runId")
    if record.commit != run.head_sha:
        message = f"run {run.id} judged commit {_short(run.head_sha)[:12]}, the record says {_short(record.commit)}"
        return "CH851", message, ("commit",)
    named = [a for a in runs.uploaded(run) if a.name == origin.artifact]
    if not any(a.digest == origin.artifact_digest for a in named):
        what = f"artifact `{_short(origin.artifact)}`" + (" with this digest" if named else "")
        message = f"run {run.id} uploaded no {what}: the record is not from its report"
        return "CH852", message, ("origin", "artifactDigest")
    return None


def _at(claim: Claim, code: str, message: str, path: tuple[PathSegment, ...]) -> Diagnostic:
    try:
        span = locate(Document(claim.file, 0, None, None, claim.text).node, list(path))
    except Exception:  # noqa: BLE001 - a record that does not compose again is still reported, at its top
        return Diagnostic.of(code, message, claim.file, line=1, column=1, path=path, hint=HINT)
    return Diagnostic.of(
        code,
        message,
        claim.file,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        path=path,
        hint=HINT,
    )


def verify_origins(claims: Sequence[Claim], repo: Any) -> list[Diagnostic]:
    """A finding for each record whose origin GitHub does not confirm; CH853 for all when GitHub cannot answer."""
    import requests
    from github import GithubException

    if not claims:
        return []
    runs = _Runs(repo)
    findings = []
    try:
        default_branch = repo.default_branch
        for claim in claims:
            problem = _problem(claim, runs, default_branch)
            if problem is not None:
                findings.append(_at(claim, *problem))
    except (GithubException, requests.exceptions.RequestException) as error:
        status = getattr(error, "status", None)
        reason = f"HTTP {status}" if status else type(error).__name__
        done = {finding.file for finding in findings}
        message = f"GitHub could not confirm where the record came from ({reason}): it is not evidence"
        findings += [_at(claim, "CH853", message, ("origin",)) for claim in claims if claim.file not in done]
    return findings


def workflow_path(project_prefix: str, workflows: str, file: str) -> str:
    """A generated workflow's path from the repository root, as GitHub's `path` of a run names it."""
    return posixpath.normpath(posixpath.join(project_prefix or ".", workflows, file))
