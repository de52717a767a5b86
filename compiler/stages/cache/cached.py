"""The inputs of a cached check's keys, read from the run: file digests, the digest every key shares, which
kinds read the date, each model's committed evidence; and the findings of a partial run, by file.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.invalid import Invalid
from compiler.core.models.policy import Policy
from compiler.core.sources import Kind, Sources
from compiler.core.specs import Spec
from compiler.evidence import EVIDENCE_DIR
from compiler.stages.cache.incremental import Graph, Summary, bytes_digest, digest_of, summarise
from compiler.stages.policy.evaluate import policy_expressions
from compiler.stages.read.dvc_data import project_file, project_reader
from compiler.stages.read.load import MAX_FILE_BYTES
from compiler.stages.read.unchecked import Entry
from compiler.stages.run import Run

_TODAY = re.compile(r"\btoday\b")
_RELATED = re.compile(r"\brelated\b")
GLOBAL_KINDS = frozenset({"Project", "Policy"})
"""Files holding these are read on every run: every key depends on them."""


def file_digests(
    sources: Sources, files: Mapping[str, str], known: Mapping[str, Any]
) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """Each file's content digest by display path (None when it cannot be read: such a file is always checked
    again), and what to remember for the next run: [signature, digest] of each file that has a signature.

    `files` maps display paths to top-relative ones. A file whose signature (`Sources.signature`) is the one
    `known` holds for it is not read again.
    """
    digests: dict[str, str | None] = {}
    remembered: dict[str, list[str]] = {}
    for shown, file in files.items():
        signature = sources.signature(file)
        entry = known.get(shown)
        if signature is not None and isinstance(entry, list) and len(entry) == 2 and entry[0] == signature:
            digests[shown], remembered[shown] = str(entry[1]), [signature, str(entry[1])]
            continue
        try:
            digest: str | None = bytes_digest(sources.read(file, MAX_FILE_BYTES))
        except (repofs.Refused, repofs.TooLarge, OSError):
            digest = None
        digests[shown] = digest
        if signature is not None and digest is not None:
            remembered[shown] = [signature, digest]
    return digests, remembered


def texts_of(sources: Sources, files: Mapping[str, str]) -> dict[str, str]:
    """The texts of files shown in findings (display path -> top-relative path), for excerpts."""
    texts = {}
    for shown, file in files.items():
        try:
            texts[shown] = sources.read(file, MAX_FILE_BYTES).decode("utf-8", "replace")
        except (repofs.Refused, repofs.TooLarge, OSError):
            continue
    return texts


def summaries_of(run: Run, read: Iterable[str], recorded: Mapping[str, Summary | None]) -> dict[str, Summary]:
    """Every file's summary: from its specs when `run` read it, else as recorded for its content."""
    by_file: dict[str, list[Spec]] = {}
    for spec in run.specs:
        by_file.setdefault(spec.file, []).append(spec)
    failed: dict[str, list[Invalid]] = {}
    for invalid in run.invalid:
        failed.setdefault(invalid.file, []).append(invalid)
    found = {file: summarise(by_file.get(file, []), failed.get(file, [])) for file in read}
    for file, summary in recorded.items():
        if file not in found and summary is not None:
            found[file] = summary
    return found


def shared_digest(
    run: Run, policies: Sequence[Spec], extra_policies: Sequence[Path], global_files: Iterable[str]
) -> str:
    """What every key depends on: Charter itself, how paths are shown, the project file and every policy."""
    policy_files = {spec.file for spec in policies} | set(global_files)
    return digest_of(
        {
            "charter": charter_digest(),
            "root": run.sources.display(run.sources.project),
            "texts": sorted([file, bytes_digest(run.texts.get(file, "").encode())] for file in policy_files),
            "extra": [str(path) for path in extra_policies],
        }
    )


@functools.cache
def charter_digest() -> str:
    """Charter's own code, rules and packs: an edit to any of them (not only a release) makes every key new."""
    package = Path(__file__).resolve().parents[2]  # the `compiler` package
    parts = [
        [path.relative_to(package).as_posix(), bytes_digest(path.read_bytes())]
        for path in sorted(package.rglob("*"))
        if path.suffix in (".py", ".toml", ".yaml", ".yml", ".json") and "__pycache__" not in path.parts
    ]
    return digest_of(parts)


def dated(policies: Sequence[Spec], today: datetime.date) -> tuple[frozenset[str], str]:
    """The kinds some policy that reads `today` matches, and the date."""
    kinds: set[str] = set()
    for spec in policies:
        if not isinstance(spec.model, Policy):
            continue
        if any(_TODAY.search(source) for _, source in policy_expressions(spec.model)):
            kinds.update(spec.model.spec.match.kinds)
    return frozenset(kinds), today.isoformat()


def reading_related(policies: Sequence[Spec]) -> frozenset[str]:
    """The kinds some policy that reads `related` matches (its expressions, conditions and messages)."""
    kinds: set[str] = set()
    for spec in policies:
        if isinstance(spec.model, Policy) and any(_RELATED.search(text) for _, text in policy_expressions(spec.model)):
            kinds.update(spec.model.spec.match.kinds)
    return frozenset(kinds)


def evidence_digests(
    sources: Sources, entries: Sequence[Entry], graph: Graph, known: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Per model, a digest of everything under `evidence/<model>/` (its records for every version); and, as
    `file_digests` gives it, what to remember of those files."""
    models = graph.model_names
    under = EVIDENCE_DIR + "/"  # a prefix test first: splitting every entry's path was most of this step
    found = [entry for entry in entries if entry.relative.startswith(under)]
    found = [entry for entry in found if len(parts := entry.parts) > 2 and parts[1] in models]
    shown = {entry.path: sources.display(entry.path) for entry in found if entry.kind is Kind.FILE}
    digests, remembered = file_digests(sources, {display: path for path, display in shown.items()}, known)
    records: dict[str, list[list[str | None]]] = {}
    for entry in found:
        content = digests.get(shown[entry.path]) if entry.path in shown else None
        records.setdefault(entry.parts[1], []).append([entry.relative, entry.kind.name, content])
    return {model: _records_digest(listed) for model, listed in records.items()}, remembered


_DIGESTS: dict[tuple[tuple[str | None, ...], ...], str] = {}
"""Each model's evidence digest by its records: `charter lsp` asks for the same ones at every edit (hashing
them again was a tenth of an edit's cache step at 1,000 specs, issue 26)."""
_DIGESTS_KEPT = 1 << 14


def _records_digest(listed: list[list[str | None]]) -> str:
    """`digest_of(listed)`, remembered by the records' content (the digest is a function of it)."""
    key = tuple(tuple(record) for record in listed)
    digest = _DIGESTS.get(key)
    if digest is None:
        if len(_DIGESTS) >= _DIGESTS_KEPT:
            _DIGESTS.clear()
        digest = _DIGESTS[key] = digest_of(listed)
    return digest


def data_digests(
    sources: Sources, files: Iterable[str], known: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each DVC file a contract names (CH484 reads them; they are not spec files): the digest of its bytes, or
    why it cannot be read (missing, outside the project, too large); and, as `file_digests` gives it, what to
    remember of them, so that an unchanged one is not read again."""
    shown: dict[str, str] = {}  # display path -> top-relative, as file_digests takes them
    displayed: dict[str, str] = {}  # DVC file -> display path
    found: dict[str, str] = {}
    for file in sorted(files):
        try:
            top_relative = project_file(sources, file)
        except repofs.Refused as refused:
            found[file] = f"unreadable: {refused}"
            continue
        displayed[file] = sources.display(top_relative)
        shown[displayed[file]] = top_relative
    digests, remembered = file_digests(sources, shown, known)
    read = project_reader(sources)
    for file, display in displayed.items():
        digest = digests[display]
        found[file] = digest if digest is not None else _unreadable(read, file)
    return found, remembered


def _unreadable(read: Callable[[str], bytes], file: str) -> str:
    try:
        read(file)
    except (repofs.Refused, repofs.TooLarge, OSError) as error:
        return f"unreadable: {error}"
    return "unreadable"


def by_unit(
    diagnostics: Iterable[Diagnostic], graph: Graph, sources: Sources, read: set[str]
) -> dict[str, list[Diagnostic]]:
    """A partial run's findings by the file they belong to ("" for the run's own: project, policies, discovery).

    A finding in an evidence record belongs to its model's file; one in a file that was read only as context
    of another is dropped (the cache holds that file's findings).
    """
    evidence_dir = sources.display(sources.inside(EVIDENCE_DIR)) + "/"
    grouped: dict[str, list[Diagnostic]] = {}
    for finding in diagnostics:
        unit = finding.file if finding.file in graph.summaries else ""
        if not unit and finding.file.startswith(evidence_dir):
            model = finding.file[len(evidence_dir) :].split("/", 1)[0]
            unit = next(iter(graph.defines.get(("Model", model), [])), "")
        if unit and unit not in read:
            continue
        grouped.setdefault(unit, []).append(finding)
    return grouped


def waived_targets(graph: Graph, waivers: Iterable[str]) -> set[str]:
    """The files a waiver names: their policy findings decide whether it is used."""
    return {target for waiver in waivers for target in graph.outgoing.get(waiver, ())}
