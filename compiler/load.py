"""Stage 1, load: bytes on disk -> plain data documents that remember their nodes.

Why libyaml and not ruamel: libyaml's C parser composes a node tree that
carries every line and column anyway, in a fraction of ruamel's time (see
THREATS.md). We keep that tree beside the data, so positions cost nothing
until a finding asks for one (`compiler.positions`).

Why our own constructor: PyYAML resolves scalars as YAML 1.1 (`no` is
false), accepts duplicate keys silently and follows aliases without limit.
We resolve plain scalars by the YAML 1.2 core schema, refuse tags, cap alias
expansion and depth, and report duplicate keys, all in one walk.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_VALUES = 100_000
# libyaml's composer recurses in C (about 50,000 levels crash the process) and
# its scanner refuses flow nesting past 1,000 levels: a file that *could* nest
# beyond this is measured with the event stream first (`_guard_depth`).
_LIBYAML_SAFE_DEPTH = 512

_PLAIN = "!charter/plain"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
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
_YAML_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S+)", re.MULTILINE)
_DOCUMENT_START = re.compile(r"---(?:[ \t\r]|$)")


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its data, and the node tree that knows positions."""

    file: str
    index: int
    data: Any
    node: yaml.Node


@dataclass(slots=True)
class SourceFile:
    path: str
    text: str = ""
    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
else:  # pragma: no cover - a PyYAML built without libyaml: slower, same results
    from yaml import Loader as _Parser  # type: ignore[assignment]


class _Yaml12Composer(_Parser):  # type: ignore[misc,unused-ignore]
    """Composes nodes only; plain scalars get a marker tag resolved later."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, parent: Any, index: Any) -> None:
        """Path-based resolvers are a YAML 1.1 feature we do not use."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""


class _Refused(Exception):
    """A document that cannot be loaded safely; carries the finding."""

    def __init__(self, code: str, message: str, node: yaml.Node, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.node, self.hint = code, message, node, hint


def load_file(path: Path, display: str) -> SourceFile:
    source = SourceFile(display)
    try:
        raw = path.read_bytes()
    except OSError as error:
        source.diagnostics.append(_file_finding("CH117", f"cannot read file: {error.strerror}", display))
        return source
    return load_bytes(raw, display)


def load_bytes(raw: bytes, display: str) -> SourceFile:
    source = SourceFile(display)
    if len(raw) > MAX_FILE_BYTES:
        source.diagnostics.append(
            _file_finding("CH116", f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}", display)
        )
        return source
    if b"\x00" in raw:
        line, column = _position_of_byte(raw, raw.index(b"\x00"))
        source.diagnostics.append(
            _finding("CH102", "file holds NUL bytes: it is binary, not YAML", display, line, column)
        )
        return source
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _position_of_byte(raw, error.start)
        source.diagnostics.append(
            _finding(
                "CH101",
                f"invalid UTF-8 byte 0x{raw[error.start]:02x}",
                display,
                line,
                column,
                hint="re-save the file as UTF-8",
            )
        )
        return source
    return load_text(text, display)


def load_text(text: str, display: str) -> SourceFile:
    source = SourceFile(display, text)
    if not text.strip():
        source.diagnostics.append(_file_finding("CH103", "file is empty", display))
        return source
    if "%YAML" in text:
        for match in _YAML_DIRECTIVE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            source.diagnostics.append(
                _finding(
                    "CH115",
                    f"`%YAML {match.group(1)}` directive: Charter reads YAML 1.2 regardless",
                    display,
                    line,
                    1,
                    hint="remove the directive; `no`, `on` and `yes` are strings here",
                )
            )
    too_deep = _guard_depth(text, display)
    if too_deep:
        source.diagnostics.append(too_deep)
        return source
    composer = _Yaml12Composer(text)
    index = 0
    try:
        while composer.check_node():
            node = composer.get_node()
            if node is not None:
                _add_document(source, node, index)
            index += 1
    except yaml.MarkedYAMLError as error:
        source.diagnostics.append(_syntax_finding(error, display, text))
    except yaml.reader.ReaderError as error:
        line, column = _position_of_index(text, error.position)
        reason = f"unacceptable character #x{error.character:04x}: {error.reason}"
        source.diagnostics.append(_finding("CH100", reason, display, line, column))
    except yaml.YAMLError as error:
        source.diagnostics.append(_file_finding("CH100", str(error), display))
    finally:
        composer.dispose()
    if index == 0 and not any(d.code == "CH100" for d in source.diagnostics):
        source.diagnostics.append(_file_finding("CH103", "file holds no YAML document, only comments", display))
    return source


def _add_document(source: SourceFile, node: yaml.Node, index: int) -> None:
    walker = _Constructor(source.path)
    try:
        data = walker.construct(node, 0)
    except _Refused as refused:
        source.diagnostics.append(
            _node_finding(refused.code, refused.message, source.path, refused.node, hint=refused.hint)
        )
        return
    finally:
        source.diagnostics.extend(walker.findings)
    if data is None:
        line, column = _empty_document_start(source.text, node)
        source.diagnostics.append(_finding("CH103", "document is empty", source.path, line, column))
        return
    source.documents.append(Document(source.path, index, data, node))


class _Constructor:
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
            return self.scalar(node)
        if depth >= MAX_DEPTH:
            raise _Refused("CH108", f"nesting deeper than {MAX_DEPTH} levels", node)
        key = id(node)
        if key in self.in_progress:
            raise _Refused("CH107", "an alias refers to a value that contains it", node)
        if key in self.done:
            shared, size = self.done[key]
            self.expanded += size
            self.aliased = True
            self._check_budget(node)
            return shared
        if node.tag not in _CORE_TAGS:
            raise _Refused("CH109", f"tag `{_shown_tag(node.tag)}` is not allowed", node, hint="remove the tag")
        if node.tag != (_MAP if isinstance(node, yaml.MappingNode) else _SEQ):
            shape = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            raise _Refused("CH202", f"{shape} cannot be `{_shown_tag(node.tag)}`", node, hint="remove the tag")
        self.in_progress.add(key)
        before = self.expanded
        value: Any = None
        if isinstance(node, yaml.MappingNode):
            value = self.mapping(node, depth)
        else:
            value = [self.construct(child, depth + 1) for child in node.value]
        self.expanded += 1
        self._check_budget(node)
        self.in_progress.discard(key)
        self.done[key] = (value, self.expanded - before)
        return value

    def _check_budget(self, node: yaml.Node) -> None:
        if self.expanded <= MAX_EXPANDED_VALUES:
            return
        if not self.aliased:
            raise _Refused(
                "CH125",
                f"this document holds more than {MAX_EXPANDED_VALUES:,} values",
                node,
                hint="split it into smaller documents, or keep bulk data out of specs",
            )
        raise _Refused(
            "CH106",
            f"aliases expand this document beyond {MAX_EXPANDED_VALUES:,} values",
            node,
            hint="write the data out instead of nesting aliases",
        )

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.construct(key_node, depth + 1)
            if not isinstance(key, str):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self.findings.append(
                    _node_finding(
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
            if key == "<<" and key_node.tag == _PLAIN:
                self.merge(result, key_nodes, key_node, value_node, depth)
                continue
            if key in key_nodes and key_nodes[key] is not _MERGED:
                first = key_nodes[key].start_mark.line + 1
                self.findings.append(
                    _node_finding(
                        "CH104",
                        f"duplicate key `{key}` (first at line {first})",
                        self.file,
                        key_node,
                        hint="remove one of them; the last one wins in most tools",
                    )
                )
            key_nodes[key] = key_node
            result[key] = self.construct(value_node, depth + 1)
        return result

    def merge(
        self, result: dict[str, Any], key_nodes: dict[str, Any], key_node: yaml.Node, value_node: yaml.Node, depth: int
    ) -> None:
        """`<<: *defaults`: keys already present win, as in YAML 1.1's merge."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source_node in sources:
            merged = self.construct(source_node, depth + 1)
            if not isinstance(merged, dict):
                # Aliased nodes carry the anchor's position: the `<<` is where the mistake is.
                raise _Refused(
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
        if tag == _STR:
            return self._text(value, node)
        if tag == _PLAIN:
            return self._plain(value, node)
        if tag not in _CORE_TAGS:
            raise _Refused("CH109", f"tag `{_shown_tag(tag)}` is not allowed", node, hint="remove the tag")
        expected = tag.rsplit(":", 1)[1]
        if expected == "str":
            return self._text(value, node)
        resolved = self._plain(value, node) if expected in _TAG_NAMES else None
        if expected == "float" and isinstance(resolved, int) and not isinstance(resolved, bool):
            resolved = float(resolved)
        if expected not in _TAG_NAMES or _describe(resolved) != _TAG_NAMES[expected]:
            raise _Refused("CH202", f"`{value}` is not a valid !!{expected}", node)
        return resolved

    def _text(self, value: str, node: yaml.Node) -> str:
        if "${{" in value:
            self.findings.append(
                _node_finding(
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
                    raise _Refused("CH111", f"integer of {len(value):,} digits", node, hint="quote it")
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
                    raise _Refused("CH111", f"integer of {len(value) - 2:,} digits", node, hint="quote it")
                return number
        return self._text(value, node)


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


def _empty_document_start(text: str, node: yaml.Node) -> tuple[int, int]:
    """Where an empty document starts: its `---`, not the next token after it.

    The composer places an empty value at the token that ends it (the next
    `---`, `...` or the end of the file); users look for the `---` they wrote.
    """
    mark = node.start_mark
    if not (isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style):
        return mark.line + 1, mark.column + 1  # `~`, `null`: a value the user wrote
    lines = text.split("\n")
    for number in range(min(mark.line, len(lines) - 1), -1, -1):
        if (number < mark.line or mark.column > 0) and _DOCUMENT_START.match(lines[number]):
            return number + 1, 1
    return mark.line + 1, mark.column + 1


def _guard_depth(text: str, display: str) -> Diagnostic | None:
    """Refuse nesting past `MAX_DEPTH` before the recursive C composer runs.

    A block collection nests at most two levels per column of indentation, a
    flow collection one level per bracket, so the first bound is cheap and
    sound. Below `_LIBYAML_SAFE_DEPTH` libyaml can neither crash nor refuse
    the text for its depth, and the constructor reports CH108 exactly.

    Above it, libyaml's event stream measures the depth. libyaml may refuse a
    deep text itself (since the libyaml bundled with PyYAML 6.0.4 its scanner
    stops flow nesting at 1,000 levels, before emitting an event). Whatever
    libyaml raises, the document it failed in is measured again by PyYAML's
    pure-Python parser, which is iterative and has no nesting limit, up to the
    point of failure: so the code is CH108, at the opening past `MAX_DEPTH`,
    however the library's limits and messages change.
    """
    bound = text.count("[") + text.count("{") + 2 * (max(map(len, text.split("\n"))) + 1)
    if bound <= _LIBYAML_SAFE_DEPTH:
        return None
    document_start: Any = None
    try:
        events = yaml.parse(text, Loader=yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
        for event in _too_deep(events):
            if not isinstance(event, yaml.DocumentStartEvent):
                return _depth_finding(event.start_mark, display)
            document_start = event.start_mark
    except yaml.MarkedYAMLError as error:
        failed_at: Any = error.problem_mark or error.context_mark
        end = failed_at.index + 1 if failed_at is not None else len(text)
        return _measure_without_limits(text, document_start, end, display)
    except yaml.YAMLError:
        return _measure_without_limits(text, document_start, len(text), display)
    return None


def _too_deep(events: Any) -> Any:
    """Yields each document start, then the first collection start past `MAX_DEPTH`, if any."""
    depth = 0
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            depth = 0
            yield event
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                yield event
                return
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _measure_without_limits(text: str, document_start: Any, end: int, display: str) -> Diagnostic | None:
    """Depth of the text up to `end`, by the pure-Python parser, from the failing document's start.

    Earlier documents are replaced by as many line breaks (and the start
    column by spaces), so that every mark keeps its line and column.
    """
    start = document_start.index if document_start is not None else 0
    line = document_start.line if document_start is not None else 0
    column = document_start.column if document_start is not None else 0
    window = "\n" * line + " " * column + text[start:end]
    try:
        for event in _too_deep(yaml.parse(window, Loader=yaml.SafeLoader)):
            if not isinstance(event, yaml.DocumentStartEvent):
                return _depth_finding(event.start_mark, display)
    except yaml.YAMLError:
        pass  # a real syntax error before any deep nesting: the composer reports it with its position
    return None


def _depth_finding(mark: Any, display: str) -> Diagnostic:
    return _finding("CH108", f"nesting deeper than {MAX_DEPTH} levels", display, mark.line + 1, mark.column + 1)


def _syntax_finding(error: yaml.MarkedYAMLError, display: str, text: str) -> Diagnostic:
    mark: Any = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context: Any = error.context_mark
    if error.context and context is not None and mark is not None and context.line != mark.line:
        message = f"{error.context} (line {context.line + 1}, column {context.column + 1}): {problem}"
    else:
        message = f"{error.context}: {problem}" if error.context else problem
    if mark is None:
        return _file_finding("CH100", message, display)
    return _finding("CH100", message, display, mark.line + 1, mark.column + 1, hint=_syntax_hint(error, text, mark))


def _syntax_hint(error: yaml.MarkedYAMLError, text: str, mark: Any) -> str | None:
    """A hint from the error's type and what the text holds where it stopped, never from its wording."""
    line = _line_at(text, mark.line)
    indentation = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in indentation or line[mark.column : mark.column + 1] == "\t":
        return "indent with spaces; YAML does not allow tabs for indentation"
    if isinstance(error, yaml.scanner.ScannerError) and line[mark.column : mark.column + 1] == ":":
        # The scanner stops at a `:` only when a key cannot start there: a value that holds `: `.
        return "a value holding `: ` must be quoted, or a key is indented wrongly"
    return None


def _line_at(text: str, line: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line] if line < len(lines) else ""


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _position_of_index(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _finding(
    code: str,
    message: str,
    file: str,
    line: int,
    column: int,
    *,
    hint: str | None = None,
) -> Diagnostic:
    return Diagnostic.of(code, message, file, line=line, column=column, end_line=line, end_column=column + 1, hint=hint)


def _file_finding(code: str, message: str, file: str) -> Diagnostic:
    return Diagnostic.of(code, message, file)


def _node_finding(
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
