"""Specs judged in batches: the views of several specs converted into the engine at once.

Converting a spec's context into the engine is most of what evaluating its policies costs, and a context is
mostly other specs' views: a model's `related` holds its datasets, its suite and its environments, whose own
`related` holds the model again. Each spec's activation converted them all again (issue 26). A batch's
activation holds the distinct views of its specs in one list (`VIEWS`, entry 0 null) and, for each spec, the
entries of its roots (`SPECS`: its view, its kind and name, then each value of its `related`); a program of its
kind's `shape` binds `object`, `related`, `kind` and `name` to those entries (`cel.bind`, which costs no
iteration of the engine's budget, so an expression's limit is what it was).

A batch holds specs in the order they are judged, until its parts come from `BATCH_BYTES` of text: converting
it then takes milliseconds, so that a step's time limit is only ever reached converting one spec's context, in a
batch of its own, and blamed on that spec (a batch stopped all the same has its specs judged again, each
alone: `compiler.stages.policy.evaluate`). A batch whose lists the engine refuses even made portable has its
specs judged each in an activation of its own, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any

from compiler.core.specs import Spec
from compiler.stages.policy.scope import AT, SPEC, SPECS, VIEWS, Roots, Scope, Shape
from compiler.stages.policy.views import Views, related_keys

BATCH_BYTES = 256 * 1024
"""Text the parts of a batch come from, at most (a spec larger than that alone): the 10,000 specs of the
generated corpus, 18 MB of text, make about 100 batches, each converted in about 5 ms."""
_OBJECT, _KIND, _NAME, _RELATED = 0, 1, 2, 3


@lru_cache(maxsize=16)
def shape_of(kind: str) -> Shape:
    """Where a spec of this kind finds its roots in a batch's lists."""

    def view(slot: int) -> str:
        return f"{VIEWS}[{AT}[{slot}]]"

    related = tuple((key, view(_RELATED + index)) for index, key in enumerate(related_keys(kind)))
    roots = (("object", view(_OBJECT)), ("kind", f"{AT}[{_KIND}]"), ("name", f"{AT}[{_NAME}]"))
    return Shape(f"{SPECS}[{SPEC}()]", roots, related)


class Batches:
    """The specs to judge cut into batches, and each spec's scope in its batch (made as the worker reaches it).

    `shared` holds the roots every spec sees alike (`project`, `today`); `wanted`, for each kind, the keys of
    `related` its programs read (None: every key): the others are not converted, as a spec's own activation
    never converts a root no program reads."""

    def __init__(
        self,
        views: Views,
        targets: Sequence[Spec],
        shared: dict[str, Any],
        wanted: Mapping[str, frozenset[str] | None],
    ) -> None:
        self.views, self.shared, self.wanted = views, shared, wanted
        self._members: list[list[Spec]] = []
        self._batch_of: dict[int, int] = {}
        self._plan(targets)
        self._current = -1
        self._scopes: dict[int, Scope] = {}

    def scope(self, target: Spec, converting: Callable[[], None]) -> Scope:
        """The target's scope; `converting()` is called before a new batch's lists are converted."""
        number = self._batch_of[id(target)]
        if number != self._current:
            converting()
            self._current, self._scopes = number, self._made(self._members[number])
        return self._scopes[id(target)]

    def _plan(self, targets: Sequence[Spec]) -> None:
        seen: set[Hashable] = set()
        total = 0
        for target in targets:
            if id(target) in self._batch_of:
                continue
            parts = dict(self.views.weighed(target))
            added = sum(weight for key, weight in parts.items() if key not in seen)
            if not self._members or total + added > BATCH_BYTES:
                self._members.append([])
                seen.clear()
                total, added = 0, sum(parts.values())
            self._members[-1].append(target)
            self._batch_of[id(target)] = len(self._members) - 1
            seen.update(parts)
            total += added

    def _made(self, members: list[Spec]) -> dict[int, Scope]:
        """Each member's scope in one activation; each in an activation of its own if the engine refuses it."""
        views: list[Any] = [None]
        slots: dict[int, int] = {id(None): 0}

        def slot(value: Any) -> int:
            if id(value) not in slots:
                slots[id(value)] = len(views)
                views.append(value)
            return slots[id(value)]

        entries: list[list[Any]] = []
        for member in members:
            view = self.views.of(member)
            related = self.views.related_values(member, self.wanted.get(member.kind))
            entries.append([slot(view), member.kind, member.name, *map(slot, related)])
        roots = Roots({**self.shared, VIEWS: views, SPECS: entries})
        if not roots.converts():
            return {id(member): alone(self.views, member, self.shared) for member in members}
        return {
            id(member): Scope(partial(own_roots, self.views, member, self.shared), roots, shape_of(member.kind), at)
            for at, member in enumerate(members)
        }


def own_roots(views: Views, spec: Spec, shared: dict[str, Any]) -> dict[str, Any]:
    """The roots of a spec judged in an activation of its own: its context, and what every spec sees alike."""
    return {**views.context(spec), **shared}


def alone(views: Views, spec: Spec, shared: dict[str, Any]) -> Scope:
    """A spec's scope in an activation of its own, as every spec was judged before batches."""
    return Scope(own_roots(views, spec, shared))
