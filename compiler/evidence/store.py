"""Committed evidence, read back: `evidence/<model>/<version>/<gate>.json` for each model's current version.

The records are repository files, so they are read like specs: through the run's sources
(`compiler.core.sources`: a directory, git objects or buffers; no link followed, nothing outside
the checkout, bounded), parsed by the hardened loader (JSON is YAML 1.2, so positions come for free), and
validated against the published schema. A record that is not valid, or that sits under a
path that does not match what it says it is, is a located diagnostic and is not used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic, PathSegment, Severity
from compiler.core.documents import Document
from compiler.core.models.evidence import Evidence
from compiler.core.models.model import Model
from compiler.core.models.project import Project
from compiler.core.models.registration import Registration
from compiler.core.models.suite import EvaluationSuite
from compiler.core.positions import locate
from compiler.core.resolved import Resolved
from compiler.core.safe_names import path_segment_problem
from compiler.core.sources import Kind, Sources, unsafe_path_finding
from compiler.core.specs import Spec
from compiler.evidence import EVIDENCE_DIR, GATES
from compiler.evidence.digest import Judged, changed_parts, judged_by_model, policy_set_digest
from compiler.evidence.registration import FILE, Registered, is_current, record_digest, registration_path
from compiler.evidence.verify import Verified, verify


class Loaded(Protocol):
    """A repository file parsed by the read stage: its documents and what reading it found."""

    @property
    def documents(self) -> list[Document]: ...

    @property
    def diagnostics(self) -> list[Diagnostic]: ...


class ReadRepoFile(Protocol):
    """The read stage's reader (compiler/stages/reading.py:load_repo_file): through the sources, bounded."""

    def __call__(self, sources: Sources, relative: str, display: str) -> Loaded: ...


@dataclass(frozen=True)
class Record:
    """One valid record, where it was read from, and what changed since it was measured."""

    evidence: Evidence
    file: str
    """Where it was read, as diagnostics show paths."""
    path: str
    """Relative to the project root: what generated files name (the same wherever the project lives)."""
    changed: tuple[str, ...]
    verified: Verified = field(default_factory=Verified)
    """Its verdict recomputed against today's bounds (compiler/evidence/verify.py)."""

    @property
    def current(self) -> bool:
        return not self.changed

    @property
    def verdict(self) -> str:
        """What the record says of today's model against today's bounds: what policies and cards go by."""
        return self.verified.verdict


@dataclass(frozen=True)
class ModelEvidence:
    """The evidence of one model's current version, by gate, and what its gates judge today."""

    model: str
    version: str
    today: Judged
    records: dict[str, Record] = field(default_factory=dict)
    directory: str | None = None
    """`evidence/<model>/<version>` relative to the project root; None when the version is no path segment."""
    suite: EvaluationSuite | None = None
    """Today's evaluation suite of the model: the bounds its evidence is judged against."""
    registered: list[Registered] = field(default_factory=list)
    """The version's registration record (`registration.json`), when one is committed and valid: at most one."""

    @property
    def registration(self) -> Registered | None:
        return self.registered[0] if self.registered else None


def stops_measurement(diagnostic: Diagnostic, sources: Sources) -> bool:
    """An error that keeps a gate from measuring and `evidence record` from filing.

    Not a policy verdict (CH500): measuring is how a model earns the evidence an evidence rule asks for.
    Not a broken or misfiled record: the next record replaces it. Specs that are invalid or do not resolve do.
    """
    if diagnostic.severity is not Severity.ERROR or diagnostic.suppressed or diagnostic.code == "CH500":
        return False
    return not diagnostic.file.startswith(sources.display(sources.inside(EVIDENCE_DIR)) + "/")


def evidence_path(model: str, version: str, gate: str) -> str:
    return f"{EVIDENCE_DIR}/{model}/{version}/{gate}.json"


def record_paths(specs: Iterable[Spec]) -> list[str]:
    """Where the records `load_evidence` may read are filed: every gate's and the registration of each valid
    model's current version, relative to the project root. The read stage reads those that exist on every core
    of a large check, before `load_evidence` asks for them."""
    return [
        path
        for spec in specs
        if isinstance(spec.model, Model) and path_segment_problem(spec.model.spec.version) is None
        for path in (
            *(evidence_path(spec.name, spec.model.spec.version, gate) for gate in GATES),
            registration_path(spec.name, spec.model.spec.version),
        )
    ]


def load_evidence(
    sources: Sources,
    resolved: Resolved,
    policies: Sequence[Spec],
    project: Project | None,
    read: ReadRepoFile,
    listed: Mapping[str, frozenset[str]] | None = None,
) -> tuple[dict[str, ModelEvidence], list[Diagnostic]]:
    """Every model's evidence for its current version, each record read by `read` (the read stage's reader, so
    records come in like specs do); findings for records that cannot be used.

    `listed`: the names in each folder of the run's listing, when it holds every entry of the folders it names
    (`compiler.stages.pipeline`). A version folder found there is known to be a directory reached without a
    link, and what it holds is known: neither is asked of the file system again (two calls for each of 3,000
    models at 10,000 specs). A folder not found there is looked into as before, which reports a link on the way."""
    found: dict[str, ModelEvidence] = {}
    findings: list[Diagnostic] = []
    policy_digest = policy_set_digest(policies, project)
    for name, spec in sorted(resolved.by_kind.get("Model", {}).items()):
        if not isinstance(spec.model, Model):
            continue
        today = judged_by_model(resolved, name, policies, project, policy_digest=policy_digest)
        assert today is not None
        version = spec.model.spec.version
        safe = path_segment_problem(version) is None
        links = resolved.links.get(name)
        suite = links.suite.model if links is not None and links.suite is not None else None
        directory = f"{EVIDENCE_DIR}/{name}/{version}" if safe else None
        entry = ModelEvidence(
            name, version, today, directory=directory, suite=suite if isinstance(suite, EvaluationSuite) else None
        )
        found[name] = entry
        if entry.directory is None:
            continue  # no record can be filed for it: the card and policies see no evidence
        folder = sources.inside(entry.directory)
        present = listed.get(folder) if listed is not None else None
        if present is None:
            try:
                if sources.kind(folder) is not Kind.DIRECTORY:
                    continue
            except repofs.Refused as refused:  # a link on the way: reported once, nothing read
                findings.append(unsafe_path_finding(refused, sources.display(folder)))
                continue
            # Which records exist; each is then read through the sources, which refuse links again.
            present = frozenset(
                path.rsplit("/", 1)[-1] for path, _ in sources.walk(folder) if path.count("/") == folder.count("/") + 1
            )
        for gate in (gate for gate in GATES if f"{gate}.json" in present):
            record, problems = _read(sources, read, (name, version, gate), entry, resolved)
            findings.extend(problems)
            if record is not None:
                entry.records[gate] = record
        if FILE in present:
            registered, problems = _read_registration(sources, read, entry)
            findings.extend(problems)
            entry.registered.extend([registered] if registered is not None else [])
    return found, findings


def _read_registration(
    sources: Sources, read: ReadRepoFile, entry: ModelEvidence
) -> tuple[Registered | None, list[Diagnostic]]:
    """The version's registration record, located like a gate's record; current while the spec digest and the
    evidence records it was registered with are today's."""
    relative = registration_path(entry.model, entry.version)
    inside = sources.inside(relative)
    source = read(sources, inside, sources.display(inside))
    errors = [d for d in source.diagnostics if d.severity is Severity.ERROR]
    if errors or len(source.documents) != 1:
        return None, errors or [Diagnostic.of("CH800", "a registration record is one JSON object", relative)]
    document = source.documents[0]
    hint = "it is written by `charter model register --record`; register again instead of editing it"
    try:
        record = Registration.model_validate(document.data)
    except ValidationError as error:
        return None, [_invalid(document, error, "registration record", hint)]
    for key, wanted, got in (("model", entry.model, record.model), ("version", entry.version, record.version)):
        if wanted != got:
            return None, [_at(document, key, f"registration of {key} `{got}` filed under `{wanted}`", hint)]
    try:
        digests = {gate: record_digest(sources.read(sources.inside(r.path))) for gate, r in entry.records.items()}
    except repofs.Refused as refused:
        return None, [unsafe_path_finding(refused, sources.display(inside))]
    return Registered(record, relative, is_current(record, entry.today.digest, digests)), []


def _read(
    sources: Sources, read: ReadRepoFile, filed: tuple[str, str, str], entry: ModelEvidence, resolved: Resolved
) -> tuple[Record | None, list[Diagnostic]]:
    """One record, validated, where it belongs, and verified against today's suite and contracts."""
    model, version, gate = filed
    today = entry.today
    relative = evidence_path(model, version, gate)
    inside = sources.inside(relative)
    shown = sources.display(inside)
    # A link or a special file is refused by the reader with the usual code (CH120), nothing of it quoted.
    source = read(sources, inside, shown)
    errors = [d for d in source.diagnostics if d.severity is Severity.ERROR]
    if errors or len(source.documents) != 1:
        return None, errors or [Diagnostic.of("CH800", "an evidence record is one JSON object", shown)]
    document = source.documents[0]
    try:
        evidence = Evidence.model_validate(document.data)
    except ValidationError as error:
        return None, [_invalid(document, error, "evidence record", _RECORD_AGAIN)]
    misfiled = _misfiled(document, evidence, model, version, gate)
    if misfiled is not None:
        return None, [misfiled]
    verified = verify(document, evidence, today, entry.suite, _contract_data(resolved, evidence.subject))
    if not verified.usable:  # a claim that does not hold is not evidence: nothing shows it
        return None, verified.findings
    changed = tuple(changed_parts(evidence.judged.parts, today))
    return Record(evidence, shown, relative, changed, verified), verified.findings


def _contract_data(resolved: Resolved, subject: Mapping[str, object]) -> object:
    """Today's data of the contract a data record names (`subject.contract`, `subject.version`); None when gone."""
    wanted, version = subject.get("contract"), subject.get("version")
    for spec in resolved.contracts_named(wanted):
        contract = spec.contract
        if contract is not None and version in (None, contract.version):
            return spec.data
    return None


_RECORD_AGAIN = "evidence is written by `charter evidence record`; record it again instead of editing it"
_FILE_AGAIN = "record it with `charter evidence record`, which files each report where it belongs"


def _invalid(document: Document, error: ValidationError, what: str, hint: str) -> Diagnostic:
    detail = error.errors()[0]
    path: list[PathSegment] = [part for part in detail["loc"] if isinstance(part, str | int)]
    span = locate(document.node, path)
    where = ".".join(str(part) for part in path) or "the record"
    return Diagnostic.of(
        "CH800",
        f"{what} does not match its schema at `{where}`: {detail['msg']}",
        document.file,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        path=tuple(path),
        hint=hint,
    )


def _misfiled(document: Document, evidence: Evidence, model: str, version: str, gate: str) -> Diagnostic | None:
    for key, wanted, got in (("model", model, evidence.model), ("version", version, evidence.version)):
        if wanted != got:
            return _at(document, key, f"evidence of {key} `{got}` filed under `{wanted}`", _FILE_AGAIN)
    if evidence.gate != gate:
        return _at(document, "gate", f"evidence of the {evidence.gate} gate filed as `{gate}.json`", _FILE_AGAIN)
    return None


def _at(document: Document, key: str, message: str, hint: str) -> Diagnostic:
    span = locate(document.node, [key])
    return Diagnostic.of(
        "CH801",
        message,
        document.file,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        path=(key,),
        hint=hint,
    )


def policy_view(entry: ModelEvidence | None) -> list[dict[str, object]]:
    """What policy expressions see as `related.evidence`: the records of the model's current version."""
    if entry is None:
        return []
    return [
        {
            "gate": gate,
            "version": record.evidence.version,
            "verdict": record.verdict,
            "recordedVerdict": record.evidence.verdict,
            "current": record.current,
            "changed": list(record.changed),
            "commit": record.evidence.commit,
            "summary": dict(record.evidence.summary),
        }
        for gate, record in sorted(entry.records.items())
    ]


EvidenceByModel = Mapping[str, ModelEvidence]
