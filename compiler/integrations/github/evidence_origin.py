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
- `GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip`: the artifact's archive (GitHub redirects to
  its storage; the token is never sent there) has that digest, holds one file, the gate's report, and the record
  is what `charter evidence record` makes of that report: a genuine run cannot vouch for edited values.

A record that fails is an error at the field that does not hold (CH850-CH854); when GitHub cannot be asked, the
record is not believed either (fail closed).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler import __version__
from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.documents import Document
from compiler.core.models.evidence import Evidence
from compiler.core.positions import locate
from compiler.core.safe_names import escape_for_people

TRIGGERS = frozenset({"push", "schedule", "workflow_dispatch"})
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024  # a gate report is at most this (`charter evidence record` reads no more)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
Differs = Callable[[Evidence, bytes], str | None]
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


class Unavailable(Exception):
    """An artifact whose report cannot be read: expired, refused, not the archive GitHub lists."""


@dataclass(frozen=True)
class Download:
    """How artifacts are fetched: the token goes to GitHub's API, never to the storage it redirects to."""

    token: str
    timeout: float = 30.0

    def report(self, artifact: Any) -> bytes:
        """The one file of the artifact's archive, once the archive's digest is the one GitHub lists."""
        archive = self._archive(str(artifact.archive_download_url))
        if "sha256:" + hashlib.sha256(archive).hexdigest() != artifact.digest:
            raise Unavailable("its archive does not have the digest GitHub lists")
        try:
            with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
                files = [info for info in bundle.infolist() if not info.is_dir()]
                if len(files) != 1 or files[0].file_size > MAX_ARTIFACT_BYTES:
                    raise Unavailable(f"it holds {len(files)} files, not one gate report")
                with bundle.open(files[0]) as member:
                    return member.read(MAX_ARTIFACT_BYTES + 1)[:MAX_ARTIFACT_BYTES]
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise Unavailable(f"its archive cannot be read ({type(error).__name__})") from None

    def _archive(self, url: str) -> bytes:
        import requests

        agent = {"User-Agent": f"charter/{__version__}"}
        api = {**agent, "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json"}
        answer = requests.get(url, headers=api, allow_redirects=False, timeout=self.timeout, stream=True)
        if answer.status_code in _REDIRECTS and answer.headers.get("Location"):
            answer.close()  # the storage's signed address: no token goes there
            answer = requests.get(answer.headers["Location"], headers=agent, timeout=self.timeout, stream=True)
        with answer:
            if answer.status_code == 410:
                raise Unavailable("the artifact has expired")
            if answer.status_code != 200:
                raise Unavailable(f"its archive could not be read (HTTP {answer.status_code})")
            data = bytearray()
            for chunk in answer.iter_content(chunk_size=1 << 16):
                data += chunk
                if len(data) > MAX_ARTIFACT_BYTES:
                    raise Unavailable(f"its archive is larger than {MAX_ARTIFACT_BYTES:,} bytes")
        return bytes(data)


@dataclass
class _Runs:
    """Runs and their artifacts, read once however many records name them."""

    repo: Any
    download: Download
    differs: Differs
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
    match = next((a for a in named if a.digest == origin.artifact_digest), None)
    if match is None:
        what = f"artifact `{_short(origin.artifact)}`" + (" with this digest" if named else "")
        message = f"run {run.id} uploaded no {what}: the record is not from its report"
        return "CH852", message, ("origin", "artifactDigest")
    try:
        edited = runs.differs(record, runs.download.report(match))
    except Unavailable as error:
        return "CH853", f"the report in artifact `{_short(origin.artifact)}` of run {run.id}: {error}", ("origin",)
    if edited is not None:
        message = f"`{edited}` is not what the report in artifact `{_short(origin.artifact)}` of run {run.id} says"
        return "CH854", message + ": the record was edited", (edited,)
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


def verify_origins(claims: Sequence[Claim], repo: Any, download: Download, differs: Differs) -> list[Diagnostic]:
    """A finding for each record whose origin GitHub does not confirm; CH853 for all when GitHub cannot answer.

    `differs(record, report)` names the first field of a record that is not what the report makes of it
    (`compiler.evidence.record.differs_from_report`, a layer above this one).
    """
    import requests
    from github import GithubException

    if not claims:
        return []
    runs = _Runs(repo, download, differs)
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
