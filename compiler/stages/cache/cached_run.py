"""The cache path of the pipeline: the same stages, reading only the files whose findings may have changed.

`compiler.stages.pipeline.check` asks it three things. Which files to read first: those not yet summarised
and those holding a Project or a Policy, which every key depends on (the other files are hashed, and not even
read when their signature was recorded). Which to read once the policies are known: the files whose key
changed and what they depend on (`compiler.stages.cache.incremental`). And, after the cross-file stages ran
on what was read, the check with the recorded findings of the other files; the cache is written then.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compiler.core.cache import Store
from compiler.core.diagnostics import Diagnostic, sort_diagnostics
from compiler.core.specs import Spec
from compiler.stages.cache import keyring
from compiler.stages.cache.cached import (
    GLOBAL_KINDS,
    by_unit,
    data_digests,
    dated,
    evidence_digests,
    file_digests,
    reading_related,
    shared_digest,
    summaries_of,
    texts_of,
    waived_targets,
)
from compiler.stages.cache.incremental import (
    Graph,
    Recorded,
    Summary,
    data_files,
    digest_of,
    is_spec,
    users_reading_kinds,
)
from compiler.stages.checked import Checked
from compiler.stages.read.discovery import Discovered
from compiler.stages.run import Run


@dataclass
class _Keys:
    """What the second read decided: each unit's key, its recorded findings, and which units are stale."""

    graph: Graph
    units: dict[str, Summary]
    summaries: dict[str, Summary]
    keys: dict[str, str]
    cached: dict[str, list[Diagnostic] | None]
    stale: set[str]
    inputs: str
    signatures: dict[str, Any]
    global_files: set[str]


@dataclass
class CachedRun:
    """One cached check, step by step: `first_reads`, then `next_reads`, then `merged`."""

    run: Run
    found: Discovered
    cache: Store
    recorded: Recorded
    by_shown: dict[str, str]
    digests: dict[str, str | None]
    signatures: dict[str, list[str]]
    recorded_summaries: dict[str, Summary | None]
    read: set[str]
    first: list[str]
    keys: _Keys | None = None

    @classmethod
    def start(cls, run: Run, found: Discovered, cache: Store) -> CachedRun:
        """Hash the spec files (those whose signature was recorded are not even read)."""
        sources, recorded = run.sources, Recorded.of(cache.read())
        by_shown = {sources.display(file): file for file in found.files}
        digests, signatures = file_digests(sources, by_shown, recorded.signatures)
        recorded_summaries = {shown: recorded.summary_of(digest) for shown, digest in digests.items()}
        read = {shown for shown, summary in recorded_summaries.items() if _read_every_run(summary)}
        project = {sources.display(found.project)} if found.project else set()  # read and validated already
        first = sorted(read - project)
        read |= project
        return cls(run, found, cache, recorded, by_shown, digests, signatures, recorded_summaries, read, first)

    def first_reads(self) -> list[str]:
        """The files every key depends on, and those never summarised: read before the policies are loaded."""
        return [self.by_shown[shown] for shown in self.first]

    def next_reads(self, policies: Sequence[Spec], extra_policies: Sequence[Path], today: datetime.date) -> list[str]:
        """The files whose findings may have changed, and what they depend on, not read yet."""
        run, recorded = self.run, self.recorded
        summaries = summaries_of(run, self.read, self.recorded_summaries)
        global_files = {file for file in self.read if _read_every_run(summaries.get(file))}
        units = {file: summaries.get(file, []) for file in self.by_shown if file not in global_files}
        gitops = run.project is not None and run.project.spec.deployment.mode == "gitops"
        graph = keyring.graph_for(self.cache, units, gitops, users_reading_kinds(reading_related(policies)))
        shared, dates = shared_digest(run, policies, extra_policies, global_files), dated(policies, today)
        evidence, evidence_signatures = evidence_digests(run.sources, self.found.entries, graph, recorded.signatures)
        data, data_signatures = data_digests(run.sources, data_files(graph.summaries.values()), recorded.signatures)
        digests = self.digests
        inputs = digest_of([digests, shared, sorted(dates[0]), dates[1], evidence, data, graph.gitops])
        reads = (shared, dates, evidence, data)
        keys = recorded.keys_for(inputs, units) or keyring.keys_for(self.cache, graph, digests, reads)
        cached = {unit: recorded.findings_of(unit_key) for unit, unit_key in keys.items() if digests[unit]}
        stale = {unit for unit in units if cached.get(unit) is None}
        signatures = {**self.signatures, **evidence_signatures, **data_signatures}
        self.keys = _Keys(graph, units, summaries, keys, cached, stale, inputs, signatures, global_files)
        context = set().union(*(graph.dependencies(unit) for unit in stale)) if stale else set()
        return [self.by_shown[shown] for shown in sorted((stale | context) - self.read)]

    def targets(self) -> tuple[list[str], set[str]]:
        """The files holding a valid spec (for the output-directory checks), and those whose specs policies judge."""
        assert self.keys is not None, "next_reads first"
        keys = self.keys
        waived = waived_targets(keys.graph, keys.stale & keys.graph.by_kind.get("Waiver", set()))
        spec_dirs = [
            file for file, summary in keys.summaries.items() if any(e["k"] != "Project" and is_spec(e) for e in summary)
        ]
        return spec_dirs, keys.stale | keys.global_files | waived

    def merged(self, checked: Checked) -> Checked:
        """The fresh findings of the stale files and the recorded ones of the others; the cache written."""
        assert self.keys is not None, "next_reads first"
        keys, run, sources = self.keys, self.run, self.run.sources
        fresh = by_unit(checked.diagnostics, keys.graph, sources, keys.stale)
        diagnostics = fresh.pop("", [])
        for unit in keys.units:
            diagnostics.extend(fresh.setdefault(unit, []) if unit in keys.stale else keys.cached[unit] or [])
        written = {unit: fresh[unit] for unit in keys.stale if self.digests[unit]}
        document = self.recorded.next(keys.summaries, self.digests, keys.keys, written, keys.signatures, keys.inputs)
        if keys.stale or document != self.recorded.document():  # an unchanged project leaves the cache as it was
            self.cache.write(document)
        shown = {finding.file for finding in diagnostics} - run.texts.keys()
        texts = texts_of(sources, {file: self.by_shown[file] for file in shown if file in self.by_shown})
        return replace(
            checked,
            diagnostics=sort_diagnostics(diagnostics),
            sources={**texts, **run.texts},
            counted=sum(1 for summary in keys.summaries.values() for entry in summary if is_spec(entry)),
            read=frozenset(run.texts),
        )


def _read_every_run(summary: Summary | None) -> bool:
    """Files not yet summarised, and those holding a Project or a Policy, which every key depends on."""
    return summary is None or any(entry["k"] in GLOBAL_KINDS for entry in summary)
