"""Which specs a change adds, removes and changes, field by field.

Specs are matched by kind and name (a contract by its ODCS `id`, and by
version where two versions of one contract live side by side), so moving a
spec to another file is not a change. Charter kinds compare as their typed
models with defaults filled in: writing out a default is not a change either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import PathSegment, format_path
from compiler.core.models import CONTRACT_KIND
from compiler.integrations.gitops.snapshot import Located, Snapshot

MAX_FIELDS = 25


@dataclass(frozen=True)
class SpecChange:
    kind: str
    name: str
    status: str  # added | removed | changed
    base: Located | None
    head: Located | None
    fields: tuple[str, ...] = field(default=())

    @property
    def file(self) -> str:
        located = self.head or self.base
        assert located is not None
        return located.file

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


def content(located: Located) -> Any:
    spec = located.spec
    if spec.model is not None:
        return spec.model.model_dump(mode="json", by_alias=True)
    return spec.data


def diff_specs(base: Snapshot, head: Snapshot) -> list[SpecChange]:
    before = _keyed(base)
    after = _keyed(head)
    _pair_contract_versions(before, after)
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1])):
        old, new = before.get(key), after.get(key)
        kind, name = key[0], key[1]
        if old is None and new is not None:
            changes.append(SpecChange(kind, name, "added", None, new))
        elif new is None and old is not None:
            changes.append(SpecChange(kind, name, "removed", old, None))
        elif old is not None and new is not None:
            paths = list(dict.fromkeys(_differences(content(old), content(new), ())))
            if paths:
                shown = [format_path(path) or "(whole document)" for path in paths[:MAX_FIELDS]]
                if len(paths) > MAX_FIELDS:
                    shown.append(f"... {len(paths) - MAX_FIELDS} more")
                changes.append(SpecChange(kind, name, "changed", old, new, tuple(shown)))
    return changes


def _keyed(snapshot: Snapshot) -> dict[tuple[str, str], Located]:
    """First spec of each kind and name, as resolve keeps it; contracts by id (and version)."""
    keyed: dict[tuple[str, str], Located] = {}
    versions: dict[str, set[str | None]] = {}
    for located in snapshot.specs:
        if located.spec.contract is not None:
            versions.setdefault(located.name, set()).add(located.spec.contract.version)
    ordered = sorted(snapshot.specs, key=lambda located: (located.file, located.spec.document.index))
    for located in ordered:
        name = located.name
        contract = located.spec.contract
        if contract is not None and len(versions.get(name, ())) > 1:
            name = f"{name}@{contract.version}"
        keyed.setdefault((located.kind, name), located)
    return keyed


def _pair_contract_versions(before: dict[tuple[str, str], Located], after: dict[tuple[str, str], Located]) -> None:
    """`c@1.0.0` on one side and `c` or `c@2.0.0` on the other is one contract whose version moved."""
    for source, other in ((before, after), (after, before)):
        for key in [k for k in source if k[0] == CONTRACT_KIND and k not in other]:
            contract_id = key[1].split("@", 1)[0]
            lone = [k for k in other if k[0] == CONTRACT_KIND and k[1].split("@", 1)[0] == contract_id]
            lone = [k for k in lone if k not in source]
            mine = [k for k in source if k[0] == CONTRACT_KIND and k[1].split("@", 1)[0] == contract_id]
            mine = [k for k in mine if k not in other]
            if len(lone) == 1 and len(mine) == 1:
                located = other.pop(lone[0])
                other[key] = located


def _differences(old: Any, new: Any, path: tuple[PathSegment, ...]) -> Iterator[tuple[PathSegment, ...]]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            if key not in new or key not in old:
                yield (*path, key)
            else:
                yield from _differences(old[key], new[key], (*path, key))
    elif isinstance(old, list) and isinstance(new, list):
        identity = _identity_key(old, new)
        if identity is not None:
            before = {item[identity]: (i, item) for i, item in enumerate(old)}
            for index, item in enumerate(new):
                if item[identity] not in before:
                    yield (*path, index)
                else:
                    yield from _differences(before[item[identity]][1], item, (*path, index))
            after = {item[identity] for item in new}
            yield from ((*path, i) for i, item in enumerate(old) if item[identity] not in after)
            return
        for index in range(max(len(old), len(new))):
            if index >= len(old) or index >= len(new):
                yield (*path, index)
            else:
                yield from _differences(old[index], new[index], (*path, index))
    elif old != new or isinstance(old, bool) != isinstance(new, bool):
        yield path


_IDENTITIES = ("name", "id", "property", "environment")


def _identity_key(old: list[Any], new: list[Any]) -> str | None:
    """A field that names every item of both lists once (columns, slices, deployments...)."""
    items = old + new
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _IDENTITIES:
        for side in (old, new):
            values = [item.get(key) for item in side]
            if any(not isinstance(v, str) for v in values) or len(set(values)) != len(values):
                break
        else:
            return key
    return None
