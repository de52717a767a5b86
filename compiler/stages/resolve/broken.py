"""What went wrong on the way to a reference, so that one mistake gives one finding.

A reference can fail in two ways. It lands nowhere (a misspelt suite: its CH401 stands at the reference), or
it lands on a document that failed validation (a suite with `max: "0.1"`: its schema error is the finding,
and "no EvaluationSuite named ..." would be false). Either way the spec holding the reference is left out of
the policies, which would otherwise judge it on half its facts, and so is every spec that refers to it
through a chain (a model whose suite's dataset failed validation); the check still fails, through the one
finding at the root. A suite that a failed document or a misspelt reference evidently means is not reported
as used by no model.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.core.invalid import Invalid
from compiler.core.specs import Spec


class Broken:
    """Documents that failed validation, and the specs whose references did not land, as resolve finds them."""

    def __init__(self, invalid: Sequence[Invalid]) -> None:
        self.unresolved: set[tuple[str, int]] = set()  # (file, document index) of the specs left out
        self._users: dict[tuple[str, int], set[tuple[str, int]]] = {}  # a spec -> the specs whose references land on it
        self._invalid: dict[tuple[str, str], list[Invalid]] = {}
        for item in invalid:
            for name in dict.fromkeys((item.name, *item.aliases)):
                self._invalid.setdefault((item.kind, name), []).append(item)
        # (kind, name) of specs something evidently means: named by a failed document, or the closest name to a
        # reference that landed nowhere.
        self._claimed: set[tuple[str, str]] = {reference for item in invalid for reference in item.refers}

    def lands_on_invalid(self, owner: Spec, kind: str, name: str, version: str | None = None) -> bool:
        """Whether `kind` `name` is a document that failed validation; if so, `owner` is left out."""
        if any(item.answers_to(kind, name, version) for item in self._invalid.get((kind, name), ())):
            self.left_out(owner)
            return True
        return False

    def left_out(self, owner: Spec, kind: str | None = None, meant: str | None = None) -> None:
        """`owner` holds a reference that did not land; `meant`, the name of `kind` it evidently meant."""
        self.unresolved.add(_key(owner))
        if kind is not None and meant is not None:
            self._claimed.add((kind, meant))

    def lands(self, owner: Spec, target: Spec) -> None:
        """A reference of `owner` landed on `target`: if `target` is left out, `owner` will be too."""
        self._users.setdefault(_key(target), set()).add(_key(owner))

    def spread(self) -> None:
        """Leave out, too, every spec that refers (through any chain) to one left out: a model whose suite's
        dataset failed validation would otherwise be judged on a suite without data."""
        pending = list(self.unresolved)
        while pending:
            for user in self._users.get(pending.pop(), ()):
                if user not in self.unresolved:
                    self.unresolved.add(user)
                    pending.append(user)

    def claims(self, spec: Spec) -> bool:
        """Whether a failed document or a misspelt reference evidently means `spec`."""
        return (spec.kind, spec.name) in self._claimed


def _key(spec: Spec) -> tuple[str, int]:
    return (spec.file, spec.document.index)
