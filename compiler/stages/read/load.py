"""Stage 1, load: bytes on disk -> plain data documents that remember their nodes.

Why libyaml and not ruamel: libyaml's C parser composes a node tree that
carries every line and column anyway, in a fraction of ruamel's time (see
THREATS.md). We keep that tree beside the data, so positions cost nothing
until a finding asks for one (`compiler.core.positions`).

Why our own constructor (`compiler.stages.read.yaml12`): PyYAML resolves scalars
as YAML 1.1 (`no` is false), accepts duplicate keys silently and follows
aliases without limit. Here the file's size and depth are guarded before the
C parser runs, and syntax errors become located findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.core.diagnostics import Diagnostic
from compiler.core.documents import Document, Yaml12Composer
from compiler.stages.read.json_text import read_json_mapping
from compiler.stages.read.yaml12 import (
    MAX_DEPTH,
    Constructor,
    Refused,
    node_finding,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
# libyaml's composer recurses in C (about 50,000 levels crash the process) and
# its scanner refuses flow nesting past 1,000 levels: a file that *could* nest
# beyond this is measured with the event stream first (`_guard_depth`).
_LIBYAML_SAFE_DEPTH = 512


_YAML_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S+)", re.MULTILINE)
_DOCUMENT_START = re.compile(r"---(?:[ \t\r]|$)")


@dataclass(slots=True)
class SourceFile:
    path: str
    text: str = ""
    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# Tests replace the composer through this name.
_Yaml12Composer = Yaml12Composer


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
    json_data = read_json_mapping(text)
    if json_data is not None:  # one JSON object (evidence records), read as the YAML path would read it
        source.documents.append(Document(display, 0, json_data, None, text))
        return source
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
    walker = Constructor(source.path)
    try:
        data = walker.construct(node, 0)
    except Refused as refused:
        source.diagnostics.append(
            node_finding(refused.code, refused.message, source.path, refused.node, hint=refused.hint)
        )
        return
    finally:
        source.diagnostics.extend(walker.findings)
    if data is None:
        line, column = _empty_document_start(source.text, node)
        source.diagnostics.append(_finding("CH103", "document is empty", source.path, line, column))
        return
    source.documents.append(Document(source.path, index, data, node, source.text))


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
