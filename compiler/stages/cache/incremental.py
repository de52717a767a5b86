"""What a spec file's findings depend on, so that a run re-checks only what a change touches.

Each spec file is summarised once per content (its specs' kinds, names and references, and what two models
could both claim when rendered), and the summaries of the whole project make a graph of files. A file's
findings depend on its own bytes and, through the one reference module (`compiler.core.references`), on:

- every file it reaches by references, transitively: a model's suite, the suite's contract, the environments
  and what they promote from (what `related` shows a policy, and what resolve checks);
- the waivers of a spec, and every file that refers to it when its findings read those files: a suite's (the
  metrics must fit its models' tasks, its dataset hold their labels), and a kind whose `related.models` some
  policy reads (`Graph.readers`). Otherwise only what the referring files' summaries hold counts (who refers
  to it, and how): a one-line edit of one of 170 models sharing an Environment re-checks that model, not
  the Environment and with it every sibling (issue 26);
- the waivers of anything it reaches: which waiver is used, or matches nothing, depends on the findings of
  their target;
- every file defining the same name (CH400), or claiming the same rendered object (CH410);
- for a reference that lands nowhere, every file defining that kind: the did-you-mean hint is chosen among them;
- the committed evidence of the models it reaches, and the date where an expiry or a policy reads it;
- for a contract, the DVC files its servers name (CH484 reads them): their bytes, or that they are missing.

Everything global (Charter itself, the project file, every policy, pack and parameter, how paths are shown)
is one digest in every key. The key of a file is a hash over all of it; a key seen before gives the findings
recorded for it. A cache never changes a verdict: `tests/test_cache.py` compares cached and cold results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.invalid import Invalid
from compiler.core.models import Environment, Model
from compiler.core.odcs import read_odcs
from compiler.core.references import references
from compiler.core.specs import Spec

Summary = list[dict[str, Any]]
"""Per spec of a file: kind `k`, name `n`, other names `a`, references `r` ([kind, name]), and for models the
environments they deploy to (`d`), for environments their cluster and namespace (`p`), for contracts the DVC
files their servers name (`v`, only when there are some). A document that failed
validation is an entry too, marked `x`: a reference to it lands on its file (`compiler.core.invalid`)."""

DATED_KINDS = frozenset({"Waiver"})
"""Kinds whose findings depend on the date whatever the policies say (a waiver expires at midnight)."""


def summarise(specs: Iterable[Spec], invalid: Iterable[Invalid] = ()) -> Summary:
    """What the graph needs of one file's valid specs, and of its documents that failed validation, as JSON."""
    summary: Summary = []
    for spec in specs:
        entry: dict[str, Any] = {"k": spec.kind, "n": spec.name}
        if spec.contract is not None:
            entry["a"] = sorted({spec.contract.id, spec.contract.name or spec.contract.id} - {spec.name})
            data_files = sorted({server.dvc_file for server in read_odcs(spec.data).servers if server.dvc_file})
            if data_files:
                entry["v"] = data_files
        entry["r"] = [[reference.kind, reference.name] for reference in references(spec)]
        if isinstance(spec.model, Model):
            entry["d"] = [deployment.environment for deployment in spec.model.spec.deployments]
        elif isinstance(spec.model, Environment):
            entry["p"] = [spec.model.spec.cluster, spec.model.spec.namespace]
        summary.append(entry)
    for failed in invalid:
        others = sorted(set(failed.aliases) - {failed.name})
        summary.append({"k": failed.kind, "n": failed.name, "a": others, "r": [list(r) for r in failed.refers], "x": 1})
    return summary


def is_spec(entry: dict[str, Any]) -> bool:
    """Whether a summary entry is a valid spec (not a document that failed validation)."""
    return not entry.get("x")


@dataclass
class Graph:
    """Files (display paths) and how their findings depend on each other, built from summaries."""

    summaries: Mapping[str, Summary]
    gitops: bool
    # Kinds whose findings read the content of the specs that refer to them (`users_reading_kinds`).
    readers: frozenset[str] = frozenset({"*"})
    defines: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    by_kind: dict[str, set[str]] = field(default_factory=dict)
    outgoing: dict[str, set[str]] = field(default_factory=dict)
    incoming: dict[str, set[str]] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    _reach: dict[str, frozenset[str]] = field(default_factory=dict)
    _kinds: dict[str, frozenset[str]] = field(default_factory=dict)
    _models: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for file, summary in self.summaries.items():
            for entry in summary:
                for name in [entry["n"], *entry.get("a", [])]:
                    self.defines.setdefault((entry["k"], name), []).append(file)
                self.by_kind.setdefault(entry["k"], set()).add(file)
        for (_, _), files in self.defines.items():
            if len(files) > 1:  # the same name twice (CH400)
                self._group(files)
        self._link()
        self._claims()

    def _group(self, files: Iterable[str]) -> None:
        members = set(files)
        for file in members:
            self.groups.setdefault(file, set()).update(members - {file})

    def _link(self) -> None:
        for file, summary in self.summaries.items():
            targets = self.outgoing.setdefault(file, set())
            for entry in summary:
                for kind, name in entry["r"]:
                    found = self.defines.get((kind, name))
                    # A reference that lands nowhere: its hint is chosen among every name of that kind.
                    targets.update(found if found else self.by_kind.get(kind, ()))
            targets.discard(file)
            for target in targets:
                self.incoming.setdefault(target, set()).add(file)

    def _claims(self) -> None:
        """Models that would render objects of one name (`overlaps.name_collisions`) depend on each other."""
        places = {
            entry["n"]: tuple(entry["p"]) for summary in self.summaries.values() for entry in summary if "p" in entry
        }
        claims: dict[tuple[str, ...], set[str]] = {}
        for file, summary in self.summaries.items():
            for entry in summary:
                for environment in entry.get("d", []):
                    place = places.get(environment)
                    if place is not None:
                        claims.setdefault(("objects", *place, entry["n"]), set()).add(file)
                    if self.gitops:
                        claims.setdefault(("argocd", f"{entry['n']}-{environment}"), set()).add(file)
        for files in claims.values():
            if len(files) > 1:
                self._group(files)

    def reach(self, file: str) -> frozenset[str]:
        """Every file `file` reaches by references, itself included."""
        known = self._reach.get(file)
        if known is not None:
            return known
        seen, stack = {file}, [file]
        while stack:
            for target in self.outgoing.get(stack.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        self._reach[file] = frozenset(seen)
        return self._reach[file]

    def dependencies(self, file: str) -> set[str]:
        """The files whose bytes `file`'s findings depend on, itself excluded."""
        reached = self.reach(file)
        waivers = self.by_kind.get("Waiver", set())
        users = self.incoming.get(file, set())
        depends = set(reached) | self.groups.get(file, set()) | (users if self.reads_users(file) else users & waivers)
        for target in reached:
            depends.update(self.incoming.get(target, set()) & waivers)
        if file in waivers:  # which findings it waives: those of its targets, which read their users
            for target in self.outgoing.get(file, ()):
                depends.update(self.incoming.get(target, set()))
        depends.discard(file)
        return depends

    def reads_users(self, file: str) -> bool:
        """Whether `file`'s findings read the content of the files that refer to it, not only their summaries."""
        return "*" in self.readers or not self._kinds_of(file).isdisjoint(self.readers)

    def summarised_users(self, file: str, depends: set[str]) -> list[str]:
        """The files referring to `file` that its key knows by their summaries only (not in `depends`), sorted."""
        if self.reads_users(file):
            return []
        return sorted(self.incoming.get(file, set()) - depends - {file})

    def summary_digest(self, file: str, content: str | None) -> str:
        """The digest of a file's summary, remembered by the digest of its content (a summary is a function
        of it): a key is computed for every file on every run, most of them from unchanged files."""
        known = _SUMMARY_DIGESTS.get(content) if content is not None else None
        if known is None:
            known = digest_of(self.summaries.get(file))
            if content is not None:
                if len(_SUMMARY_DIGESTS) > _SUMMARY_DIGESTS_KEPT:
                    _SUMMARY_DIGESTS.clear()
                _SUMMARY_DIGESTS[content] = known
        return known

    def kinds(self, files: Iterable[str]) -> set[str]:
        return set().union(*(self._kinds_of(file) for file in files))

    @cached_property
    def model_names(self) -> frozenset[str]:
        """Every model the summaries define (`charter lsp` keeps a graph across edits: named once per graph)."""
        return frozenset(name for kind, name in self.defines if kind == "Model")

    def data_files(self, file: str) -> list[str]:
        """The DVC files the contracts of `file` name, sorted."""
        return sorted({path for entry in self.summaries.get(file, []) for path in entry.get("v", ())})

    def models(self, files: Iterable[str]) -> list[str]:
        return sorted(set().union(*(self._models_of(file) for file in files)))

    def _kinds_of(self, file: str) -> frozenset[str]:
        found = self._kinds.get(file)
        if found is None:
            found = self._kinds[file] = frozenset(entry["k"] for entry in self.summaries.get(file, []))
        return found

    def _models_of(self, file: str) -> frozenset[str]:
        found = self._models.get(file)
        if found is None:
            summary = self.summaries.get(file, [])
            found = self._models[file] = frozenset(entry["n"] for entry in summary if entry["k"] == "Model")
        return found


def key(
    file: str,
    graph: Graph,
    digests: Mapping[str, str | None],
    shared: str,
    dated: tuple[frozenset[str], str],
    evidence: Mapping[str, str],
    data: Mapping[str, str],
) -> str:
    """The hash of everything `file`'s findings depend on (see the module's docstring).

    `dated` is (the kinds whose findings read the date, the date); `evidence` gives each model's digest, `data`
    each DVC file's (`data_files`).
    """
    depends = graph.dependencies(file)
    dated_kinds, today = dated
    involved = graph.kinds(depends | {file}) & (dated_kinds | DATED_KINDS)
    # One line per input, in a fixed order: a key is computed for every file on every run.
    lines = [shared, file, digests.get(file), today if involved else None]
    lines += [part for path in sorted(depends) for part in (path, digests.get(path))]
    users = graph.summarised_users(file, depends)
    lines += [part for path in users for part in (path, graph.summary_digest(path, digests.get(path)))]
    lines += [part for model in graph.models(graph.reach(file)) for part in (model, evidence.get(model))]
    lines += [part for path in graph.data_files(file) for part in (path, data.get(path))]
    return hashlib.sha256(json.dumps(lines).encode()).hexdigest()


_SUMMARY_DIGESTS: dict[str, str] = {}
_SUMMARY_DIGESTS_KEPT = 200_000

READ_USERS_ALWAYS = frozenset({"EvaluationSuite"})
"""Resolve reads the models that use a suite: its metrics must fit their tasks, its dataset hold their labels."""


def users_reading_kinds(policy_kinds_reading_related: Iterable[str]) -> frozenset[str]:
    """The kinds whose findings read the specs that refer to them: suites, and every kind but Model that a
    policy reading `related` matches (`related.models` of a contract or an environment lists its users;
    a model's `related` holds only what it refers to)."""
    return READ_USERS_ALWAYS | (frozenset(policy_kinds_reading_related) - {"Model"})


def data_files(summaries: Iterable[Summary]) -> set[str]:
    """Every DVC file the contracts of these summaries name."""
    return {path for summary in summaries for entry in summary for path in entry.get("v", ())}


def digest_of(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def bytes_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- what a run records -----------------------------------------------------------------------------------


@dataclass
class Recorded:
    """The cache's document: summaries by content digest, findings by key (see `key`)."""

    summaries: dict[str, Summary]
    findings: dict[str, list[dict[str, Any]]]
    signatures: dict[str, Any] = field(default_factory=dict)  # display path -> [signature, digest]
    inputs: str = ""  # a digest of everything the last run's keys were computed from
    keys: dict[str, str] = field(default_factory=dict)  # the last run's key of each file

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Recorded:
        summaries, findings = document.get("summaries"), document.get("findings")
        signatures = document.get("signatures")
        if not isinstance(summaries, dict) or not isinstance(findings, dict) or not isinstance(signatures, dict):
            return cls({}, {})
        inputs, keys = document.get("inputs"), document.get("keys")
        if not isinstance(inputs, str) or not isinstance(keys, dict):
            inputs, keys = "", {}
        return cls(summaries, findings, signatures, inputs, keys)

    def keys_for(self, inputs: str, units: Mapping[str, Any]) -> dict[str, str] | None:
        """The last run's keys when they were computed from the same inputs (nothing changed): a project of
        10,000 files then spends no time on its graph's dependencies."""
        if not inputs or inputs != self.inputs or self.keys.keys() != units.keys():
            return None
        return self.keys

    def document(self) -> dict[str, Any]:
        return {
            "summaries": self.summaries,
            "findings": self.findings,
            "signatures": self.signatures,
            "inputs": self.inputs,
            "keys": self.keys,
        }

    def findings_of(self, unit_key: str) -> list[Diagnostic] | None:
        """The findings recorded under a key; None when there are none, or they do not decode."""
        records = self.findings.get(unit_key)
        if not isinstance(records, list):
            return None
        try:
            return [decode(record) for record in records]
        except (TypeError, ValueError, KeyError, AttributeError):
            return None

    def summary_of(self, digest: str | None) -> Summary | None:
        summary = self.summaries.get(digest or "")
        valid = isinstance(summary, list) and all(isinstance(e, dict) and {"k", "n", "r"} <= e.keys() for e in summary)
        return summary if valid else None

    def next(
        self,
        summaries: Mapping[str, Summary],
        digests: Mapping[str, str | None],
        keys: Mapping[str, str],
        fresh: Mapping[str, list[Diagnostic]],
        signatures: Mapping[str, list[str]],
        inputs: str,
    ) -> dict[str, Any]:
        """What this run leaves for the next: only what it used, so the cache never grows past the project;
        `inputs` is the digest the keys were computed from (`keys_for`)."""
        findings = {
            unit_key: [encode(finding) for finding in fresh[unit]] if unit in fresh else self.findings[unit_key]
            for unit, unit_key in keys.items()
            if unit in fresh or unit_key in self.findings
        }
        kept = {digests[file]: summary for file, summary in summaries.items() if digests.get(file)}
        return {
            "summaries": kept,
            "findings": findings,
            "signatures": dict(signatures),
            "keys": dict(keys),
            "inputs": inputs,
        }


_TUPLES = ("path", "related", "concerns")


def encode(finding: Diagnostic) -> dict[str, Any]:
    """A check finding as JSON: every field that differs from its default."""
    if finding.flips or finding.measured is not None:
        raise ValueError("only check findings are recorded")
    record: dict[str, Any] = {}
    for name in Diagnostic.__dataclass_fields__:
        value = getattr(finding, name)
        if name == "severity":
            record[name] = value.value
        elif value != Diagnostic.__dataclass_fields__[name].default or name in ("code", "message", "file"):
            record[name] = list(value) if name in _TUPLES else value
    return record


def decode(record: Mapping[str, Any]) -> Diagnostic:
    fields: dict[str, Any] = {name: tuple(value) if name in _TUPLES else value for name, value in record.items()}
    fields["severity"] = Severity(fields["severity"])
    unknown = set(fields) - set(Diagnostic.__dataclass_fields__) - {"flips", "measured"}
    if unknown or fields.get("flips") or fields.get("measured"):
        raise ValueError("not a check finding")
    return Diagnostic(**fields)
