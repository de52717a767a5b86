"""Documents that failed validation, still known by what they say they are.

One mistake, one finding: a suite with `max: "0.1"` is reported once, by its schema error. Without a record
of it, the model that names the suite would also get "no EvaluationSuite named ..." (with a did-you-mean
pointing at another suite), and the policies would judge that model on half its facts. So a document whose
kind is known and whose name can be read is kept as an `Invalid`: references to it resolve as "present but
invalid" (no finding of their own), and what depends on it is not judged until it is mended.

Only the envelope is read here (kind, name; a contract's id, name and version) and, for the specs a document
names, the plain strings at the reference fields: nothing typed, since the document did not validate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from compiler.core.documents import Document
from compiler.core.models import ALL_KINDS, CONTRACT_KIND

# Where each kind names other specs (compiler.core.references reads the same fields of valid specs);
# `*` walks a list. Only what a failed document still says plainly is read.
_REFERENCE_FIELDS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Model": (
        ("EvaluationSuite", ("spec", "evaluation", "suite")),
        ("Environment", ("spec", "deployments", "*", "environment")),
        (CONTRACT_KIND, ("spec", "data", "training", "contract")),
        (CONTRACT_KIND, ("spec", "data", "validation", "contract")),
        (CONTRACT_KIND, ("spec", "data", "production", "contract")),
        (CONTRACT_KIND, ("spec", "monitoring", "reference", "contract")),
    ),
    "EvaluationSuite": ((CONTRACT_KIND, ("spec", "dataset", "contract")),),
    "Environment": (("Environment", ("spec", "promotesFrom")),),
}


@dataclass(frozen=True, slots=True)
class Invalid:
    """A document that failed validation: its kind and name, where it is, and the names it refers to."""

    kind: str
    name: str
    file: str
    index: int  # the document's index in its file
    aliases: tuple[str, ...] = ()  # a contract: its id and its name
    version: str | None = None  # a contract: its version, as written
    refers: tuple[tuple[str, str], ...] = ()  # (kind, name) of each spec it names

    def answers_to(self, kind: str, name: str, version: str | None = None) -> bool:
        """Whether a reference to `kind` `name` (a contract: with `version`, when pinned) means this document."""
        if kind != self.kind or (name != self.name and name not in self.aliases):
            return False
        return version is None or self.version is None or version == self.version


def invalid_of(document: Document) -> Invalid | None:
    """The record of a document that failed validation, when its kind and name can be read; else None."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in ALL_KINDS:
        return None
    kind = data["kind"]
    if kind == CONTRACT_KIND:
        names = tuple(dict.fromkeys(value for value in (data.get("id"), data.get("name")) if _is_name(value)))
        if not names:
            return None
        version = data.get("version")
        shown = str(version) if isinstance(version, (str, int, float)) and not isinstance(version, bool) else None
        return Invalid(kind, names[0], document.file, document.index, names, shown)
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not _is_name(name):
        return None
    return Invalid(kind, name, document.file, document.index, refers=_refers(kind, data))


def _refers(kind: str, data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for target, path in _REFERENCE_FIELDS.get(kind, ()):
        found += [(target, value) for value in _strings_at(data, path)]
    return tuple(dict.fromkeys(found))


def _strings_at(value: Any, path: tuple[str, ...]) -> list[str]:
    if not path:
        return [value] if _is_name(value) else []
    head, rest = path[0], path[1:]
    if head == "*":
        return [found for item in value for found in _strings_at(item, rest)] if isinstance(value, list) else []
    return _strings_at(value.get(head), rest) if isinstance(value, dict) else []


def _is_name(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())
