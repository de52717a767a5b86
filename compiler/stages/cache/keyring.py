"""The last run's graph and keys, kept for the next run on the same cache (`charter lsp` checks again and again).

A file's key (`incremental.key`) is a function of the graph, the shared digest, the date, the evidence, the
DVC files and the digests of the files it names: its own, those its findings depend on, and the users it knows
by their summary. When the graph is the same (every file's summary unchanged) and so are the shared digest,
the date, the evidence and the DVC files, a key changes only when one of the files it names changes. An edit
of one of 1,000 models then recomputes the keys of that model and of what reads it, not the 1,000 others,
and builds no graph (issue 26: the keys were half of an edit's time). What a key names is indexed once per
graph, on its first reuse.

The ring lives as long as the cache object it is kept for (a weak reference), and a different graph, shared
digest, date, evidence or DVC file computes every key again: the keys are the ones a fresh run computes.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.stages.cache import incremental
from compiler.stages.cache.incremental import Graph, Summary

Context = tuple[str, tuple[frozenset[str], str], Mapping[str, str], Mapping[str, str]]
"""What every key reads beside the graph and the digests: the shared digest, the dated kinds and date, the evidence,
the DVC files."""


@dataclass
class Keyring:
    graph: Graph
    units: Mapping[str, Summary]
    context: Context
    digests: dict[str, str | None]
    keys: dict[str, str]
    _named: dict[str, set[str]] | None = field(default=None, repr=False)

    def readers(self, changed: Iterable[str]) -> set[str]:
        """The units whose key names one of the `changed` files."""
        if self._named is None:
            self._named = {}
            for unit in self.units:
                depends = self.graph.dependencies(unit)
                for file in {unit, *depends, *self.graph.summarised_users(unit, depends)}:
                    self._named.setdefault(file, set()).add(unit)
        return set().union(*(self._named.get(file, set()) for file in changed))


_RINGS: weakref.WeakKeyDictionary[Any, Keyring] = weakref.WeakKeyDictionary()


def graph_for(cache: object, units: Mapping[str, Summary], gitops: bool, readers: frozenset[str]) -> Graph:
    """The last run's graph when it was built from the same summaries, else a new one."""
    ring = _RINGS.get(cache)
    if ring is not None and ring.graph.gitops == gitops and ring.graph.readers == readers and ring.units == units:
        return ring.graph
    return Graph(units, gitops, readers)


def keys_for(cache: object, graph: Graph, digests: Mapping[str, str | None], context: Context) -> dict[str, str]:
    """Every unit's key: the last run's where nothing it names changed, computed again elsewhere."""
    shared, dates, evidence, data = context
    ring = _RINGS.get(cache)
    if ring is not None and ring.graph is graph and ring.context == context:
        changed = {file for file, digest in digests.items() if ring.digests.get(file, "") != digest}
        changed |= ring.digests.keys() - digests.keys()
        keys = dict(ring.keys)
        for unit in ring.readers(changed):
            keys[unit] = incremental.key(unit, graph, digests, shared, dates, evidence, data)
        named = ring._named
    else:
        keys = {unit: incremental.key(unit, graph, digests, shared, dates, evidence, data) for unit in graph.summaries}
        named = None
    _RINGS[cache] = Keyring(graph, graph.summaries, context, dict(digests), keys, named)
    return keys
