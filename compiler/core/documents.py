"""A YAML document as the loader gives it: its plain data, and the node tree that knows positions.

The tree is kept for the document's life in the process that read it. A document sent to another
process (the loader reads large projects on every core) travels without it, as its file's text, and
the tree is composed again from that text the first time a position is asked for: only documents with
findings pay for it.
"""

from __future__ import annotations

from typing import Any

import yaml

from compiler.core.canonical import sha256

PLAIN = "!charter/plain"
STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

if yaml.__with_libyaml__:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
else:  # pragma: no cover - a PyYAML built without libyaml: slower, same results
    from yaml import Loader as _Parser  # type: ignore[assignment]


class Yaml12Composer(_Parser):  # type: ignore[misc,unused-ignore]
    """Composes nodes only; plain scalars get a marker tag, resolved by the loader's YAML 1.2 constructor."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return PLAIN if implicit[0] else STR
        return SEQ if kind is yaml.SequenceNode else MAP

    def descend_resolver(self, parent: Any, index: Any) -> None:
        """Path-based resolvers are a YAML 1.1 feature we do not use."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""


class Document:
    """One YAML document of a file: its data, and its node tree (`node`), composed again when needed."""

    __slots__ = ("_digest", "_node", "data", "file", "index", "text")

    def __init__(self, file: str, index: int, data: Any, node: yaml.Node | None, text: str = ""):
        self.file, self.index, self.data = file, index, data
        self.text = text  # the whole file's text, from which the tree can be composed again
        self._node = node
        self._digest: str | None = None

    @property
    def digest(self) -> str:
        """The SHA-256 of the data as canonical JSON (`compiler.core.canonical`): what evidence records judged.

        Taken once; a document read in a worker process is sent with it, so a large check takes these on every
        core (`compiler.stages.pipeline.read_and_validate`). The data is never changed once read."""
        if self._digest is None:
            self._digest = sha256(self.data)
        return self._digest

    @property
    def node(self) -> yaml.Node:
        if self._node is None:
            self._node = _compose(self.text, self.index)
        return self._node

    def __getstate__(self) -> tuple[str, int, Any, str, str | None]:
        return self.file, self.index, self.data, self.text, self._digest

    def __setstate__(self, state: tuple[str, int, Any, str, str | None]) -> None:
        self.file, self.index, self.data, self.text, self._digest = state
        self._node = None

    def __repr__(self) -> str:
        return f"Document({self.file!r}, {self.index})"


def _compose(text: str, index: int) -> yaml.Node:
    """The node tree of the `index`-th document of a text that composed without error before."""
    composer = Yaml12Composer(text)
    try:
        position = 0
        while composer.check_node():
            node = composer.get_node()
            if position == index and node is not None:
                return node
            position += 1
    finally:
        composer.dispose()
    raise ValueError(f"document {index} of the text is gone")  # the text is the one it was read from
