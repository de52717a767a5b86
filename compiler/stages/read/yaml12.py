"""The loader's constructor: libyaml's node tree -> plain data, by the YAML 1.2 core schema.

PyYAML resolves scalars as YAML 1.1 (`no` is false), accepts duplicate keys silently and follows aliases
without limit. This walk resolves plain scalars by the YAML 1.2 core schema, refuses tags, caps alias
expansion and depth, and reports duplicate keys (THREATS.md), all in one pass over the nodes.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from compiler.core.diagnostics import Diagnostic
from compiler.core.documents import MAP, PLAIN, SEQ, STR

MAX_DEPTH = 64
MAX_EXPANDED_VALUES = 100_000
_CORE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map"))
# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+")
_INT_OCT = re.compile(r"0o[0-7]+")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = frozenset({".nan", ".NaN", ".NAN"})


class Refused(Exception):
    """A document that cannot be loaded safely; carries the finding."""

    def __init__(self, code: str, message: str, node: yaml.Node, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.node, self.hint = code, message, node, hint


class Constructor:
    """Nodes -> plain Python data (dict, list, str, int, float, bool, None)."""

    def __init__(self, file: str):
        self.file = file
        self.findings: list[Diagnostic] = []
        self.expanded = 0
        self.aliased = False  # an alias was followed: too many values then means CH106, else CH125
        self.done: dict[int, Any] = {}
        self.in_progress: set[int] = set()

    def construct(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            self.expanded += 1
            text = node.value
            if _is_plain_text(node, text):  # most scalars: one test here instead of three calls
                return text
            return self.scalar(node)
        if depth >= MAX_DEPTH:
            raise Refused("CH108", f"nesting deeper than {MAX_DEPTH} levels", node)
        key = id(node)
        if key in self.in_progress:
            raise Refused("CH107", "an alias refers to a value that contains it", node)
        if key in self.done:
            shared, size = self.done[key]
            self.expanded += size
            self.aliased = True
            self._check_budget(node)
            return shared
        if node.tag not in _CORE_TAGS:
            raise Refused("CH109", f"tag `{_shown_tag(node.tag)}` is not allowed", node, hint="remove the tag")
        if node.tag != (MAP if isinstance(node, yaml.MappingNode) else SEQ):
            shape = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            raise Refused("CH202", f"{shape} cannot be `{_shown_tag(node.tag)}`", node, hint="remove the tag")
        self.in_progress.add(key)
        before = self.expanded
        value: Any = self.mapping(node, depth) if isinstance(node, yaml.MappingNode) else self.sequence(node, depth)
        self.expanded += 1
        self._check_budget(node)
        self.in_progress.discard(key)
        self.done[key] = (value, self.expanded - before)
        return value

    def _check_budget(self, node: yaml.Node) -> None:
        if self.expanded <= MAX_EXPANDED_VALUES:
            return
        if not self.aliased:
            raise Refused(
                "CH125",
                f"this document holds more than {MAX_EXPANDED_VALUES:,} values",
                node,
                hint="split it into smaller documents, or keep bulk data out of specs",
            )
        raise Refused(
            "CH106",
            f"aliases expand this document beyond {MAX_EXPANDED_VALUES:,} values",
            node,
            hint="write the data out instead of nesting aliases",
        )

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if _is_plain_text(key_node, key):
                self.expanded += 1
            else:
                key = self.construct(key_node, depth + 1)
            if not isinstance(key, str):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self.findings.append(
                    node_finding(
                        "CH110",
                        f"key `{shown}` is {_describe(key)}, not a string"
                        if isinstance(key_node, yaml.ScalarNode)
                        else f"a key is {_describe(key)}, not a string",
                        self.file,
                        key_node,
                        hint=f'quote it: "{shown}"' if isinstance(key_node, yaml.ScalarNode) else None,
                    )
                )
                key = str(shown)
            if key == "<<" and key_node.tag == PLAIN:
                self.merge(result, key_nodes, key_node, value_node, depth)
                continue
            if key in key_nodes and key_nodes[key] is not _MERGED:
                first = key_nodes[key].start_mark.line + 1
                self.findings.append(
                    node_finding(
                        "CH104",
                        f"duplicate key `{key}` (first at line {first})",
                        self.file,
                        key_node,
                        hint="remove one of them; the last one wins in most tools",
                    )
                )
            key_nodes[key] = key_node
            value = value_node.value
            if _is_plain_text(value_node, value):
                self.expanded += 1
                result[key] = value
            else:
                result[key] = self.construct(value_node, depth + 1)
        return result

    def sequence(self, node: yaml.Node, depth: int) -> list[Any]:
        items: list[Any] = []
        for child in node.value:
            value = child.value
            if _is_plain_text(child, value):
                self.expanded += 1
                items.append(value)
            else:
                items.append(self.construct(child, depth + 1))
        return items

    def merge(
        self, result: dict[str, Any], key_nodes: dict[str, Any], key_node: yaml.Node, value_node: yaml.Node, depth: int
    ) -> None:
        """`<<: *defaults`: keys already present win, as in YAML 1.1's merge."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source_node in sources:
            merged = self.construct(source_node, depth + 1)
            if not isinstance(merged, dict):
                # Aliased nodes carry the anchor's position: the `<<` is where the mistake is.
                raise Refused(
                    "CH202",
                    f"`<<` merges mappings only, not {_describe(merged)}",
                    key_node,
                    hint="merge a mapping (`<<: *defaults`) or a list of them (`<<: [*a, *b]`)",
                )
            for key, value in merged.items():
                if key not in result:
                    result[key] = value
                    key_nodes[key] = _MERGED

    def scalar(self, node: yaml.ScalarNode) -> Any:
        value: str = node.value
        tag = node.tag
        if tag == STR:
            return self._text(value, node)
        if tag == PLAIN:
            return self._plain(value, node)
        if tag not in _CORE_TAGS:
            raise Refused("CH109", f"tag `{_shown_tag(tag)}` is not allowed", node, hint="remove the tag")
        expected = tag.rsplit(":", 1)[1]
        if expected == "str":
            return self._text(value, node)
        resolved = self._plain(value, node) if expected in _TAG_NAMES else None
        if expected == "float" and isinstance(resolved, int) and not isinstance(resolved, bool):
            resolved = float(resolved)
        if expected not in _TAG_NAMES or _describe(resolved) != _TAG_NAMES[expected]:
            raise Refused("CH202", f"`{value}` is not a valid !!{expected}", node)
        return resolved

    def _text(self, value: str, node: yaml.Node) -> str:
        if "${{" in value:
            self.findings.append(
                node_finding(
                    "CH209",
                    "text holds `${{`, which GitHub would evaluate as an expression",
                    self.file,
                    node,
                    hint="remove it; write `$ {{` if you mean it literally",
                )
            )
        return value

    def _plain(self, value: str, node: yaml.Node) -> Any:
        if not value or value[0] in "0123456789-+.~nNtTfF":
            if value in _NULL:
                return None
            if value in _BOOL:
                return _BOOL[value]
            if _INT.fullmatch(value):
                if len(value) > 4000:
                    raise Refused("CH111", f"integer of {len(value):,} digits", node, hint="quote it")
                return int(value)
            if _FLOAT.fullmatch(value):
                return float(value)
            if _INF.fullmatch(value):
                return -math.inf if value[0] == "-" else math.inf
            if value in _NAN:
                return math.nan
            if _INT_OCT.fullmatch(value) or _INT_HEX.fullmatch(value):
                number = int(value[2:], 8 if value[1] == "o" else 16)
                if number.bit_length() > _MAX_INT_BITS:
                    raise Refused("CH111", f"integer of {len(value) - 2:,} digits", node, hint="quote it")
                return number
        return self._text(value, node)


_SCALAR = yaml.ScalarNode
_RESOLVED_FIRST = "0123456789-+.~nNtTfF"
"""The first characters of every plain scalar the core schema reads as other than text (`_plain`)."""


def _is_plain_text(node: yaml.Node, value: Any) -> bool:
    """A plain scalar the core schema reads as itself and that needs no finding: `scalar` would return `value`.

    The constructor's hot path (issue 26): most keys and values of a spec are such words, and answering it
    inline spares `construct`, `scalar`, `_plain` and `_text` for each.
    """
    return (
        node.__class__ is _SCALAR
        and node.tag == PLAIN
        and bool(value)
        and value[0] not in _RESOLVED_FIRST
        and "${{" not in value
    )


_MERGED: Any = object()
# Python refuses to print integers of more than 4,300 decimal digits; keep well below.
_MAX_INT_BITS = 13_000
_TAG_NAMES = {"int": "an integer", "float": "a number", "bool": "a boolean", "null": "null"}


def _shown_tag(tag: str) -> str:
    """`!!python/object`, as the user wrote it, rather than `tag:yaml.org,2002:python/object`."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "a mapping"


def node_finding(
    code: str,
    message: str,
    file: str,
    node: yaml.Node,
    *,
    hint: str | None = None,
) -> Diagnostic:
    start, end = node.start_mark, node.end_mark
    end_line, end_column = end.line + 1, end.column + 1
    if end_line > start.line + 1:  # multi-line values: mark the first line only
        end_line, end_column = start.line + 1, start.column + 2
    start_line, start_column = start.line + 1, start.column + 1
    return Diagnostic.of(
        code, message, file, line=start_line, column=start_column, end_line=end_line, end_column=end_column, hint=hint
    )
