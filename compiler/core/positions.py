"""Where a path inside a document sits in the file, computed only when asked.

A finding about `spec.features[2]` points at that item; a finding about a
field that is missing points at the nearest enclosing key that exists.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from compiler.core.diagnostics import PathSegment


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int
    exact: bool = True
    source_text: str | None = None


def locate(root: yaml.Node, path: Sequence[PathSegment], *, key: bool = False) -> Span:
    """The span of the value at `path`, or of its key when `key` is true.

    Falls back to the deepest key found on the way (`exact` is then false).
    """
    node: yaml.Node = root
    anchor: yaml.Node = root
    for position, segment in enumerate(path):
        last = position == len(path) - 1
        if isinstance(node, yaml.MappingNode):
            pair = _find_key(node, segment)
            if pair is None:
                return _span(anchor, exact=False)
            key_node, value_node = pair
            if last and key:
                return _span(key_node)
            anchor, node = key_node, value_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int):
            if not 0 <= segment < len(node.value):
                return _span(anchor, exact=False)
            node = anchor = node.value[segment]
        else:
            return _span(anchor, exact=False)
    return _span(node)


def _find_key(node: yaml.MappingNode, segment: PathSegment, depth: int = 0) -> tuple[yaml.Node, yaml.Node] | None:
    keys = _keys_of(node)
    found = keys.pairs.get(str(segment))
    if found is not None or depth > _MAX_MERGE_DEPTH:
        return found
    # A key that came in through `<<: *defaults` is written where the anchor is;
    # the first merged mapping that has it wins, as in compiler.stages.read.load.
    for value_node in keys.merges:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                found = _find_key(source, segment, depth + 1)
                if found is not None:
                    return found
    return None


_MAX_MERGE_DEPTH = 64


@dataclass(frozen=True, slots=True)
class _Keys:
    """A mapping's keys by text (the last duplicate wins, as in the data), and the values of its merge keys."""

    pairs: dict[str, tuple[yaml.Node, yaml.Node]]
    merges: list[yaml.Node]


# Indexed on the first finding that looks into a mapping, so that N findings in a mapping of N keys cost N
# lookups, not N scans (issue 26: 12,000 unknown keys took a minute). Weak: the index lives as long as the
# document's node tree.
_INDEX: weakref.WeakKeyDictionary[yaml.MappingNode, _Keys] = weakref.WeakKeyDictionary()


def _keys_of(node: yaml.MappingNode) -> _Keys:
    keys = _INDEX.get(node)
    if keys is None:
        keys = _Keys({}, [])
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                keys.pairs[key_node.value] = (key_node, value_node)
            if _is_merge(key_node):
                keys.merges.append(value_node)
        _INDEX[node] = keys
    return keys


def _is_merge(key_node: yaml.Node) -> bool:
    # A plain `<<` merges; a quoted "<<" is an ordinary key (as in compiler.stages.read.load).
    return isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<" and not key_node.style


def _span(node: yaml.Node, *, exact: bool = True) -> Span:
    start, end = node.start_mark, node.end_mark
    end_line, end_column = end.line + 1, end.column + 1
    if end_line != start.line + 1:
        # A collection spans lines: underline only where it starts.
        end_line, end_column = start.line + 1, start.column + 2
    # A plain scalar's node value is its source text: `1.10`, not 1.1.
    plain = isinstance(node, yaml.ScalarNode) and not node.style  # libyaml: '', PyYAML: None
    return Span(start.line + 1, start.column + 1, end_line, end_column, exact, node.value if plain else None)
