"""Where the cursor is in a YAML file: the document, the path of keys and indices, a key or a value.

Read line by line from the indentation, so it works on the half-typed, invalid YAML an editor holds while
someone types (`contract: ` with nothing after it, a `- ` with no item yet). It knows block mappings and
sequences, flow sequences on one line (`[a, b]`), comments, `---` documents and block scalars (`>-`, `|`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from compiler.core.diagnostics import PathSegment

_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:-(?: +|$))*)(?P<rest>.*)$")
_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s:#'"{\[][^:#]*?)\s*:(?=\s|$)(?P<after>.*)$""")
_DOCUMENT = re.compile(r"^---(\s|$)")
_WORD_STOP = " \t,[]{}#"


@dataclass(frozen=True, slots=True)
class Cursor:
    """What is under the cursor.

    `path` is the field's path (for a list item it ends with the index); `on_key` says the cursor is on a
    key, `new_key` that a key is being typed where none is yet (then `path` is the enclosing mapping's);
    `word` is the scalar under the cursor without quotes, `start`..`end` its columns on `line` (0-based).
    """

    document: int
    path: tuple[PathSegment, ...]
    on_key: bool
    word: str
    line: int
    start: int
    end: int
    new_key: bool = False
    kind: str | None = None
    siblings: frozenset[str] = field(default_factory=frozenset)


@dataclass(slots=True)
class _Frame:
    column: int
    segment: PathSegment
    item: bool


@dataclass(slots=True)
class _State:
    frames: list[_Frame] = field(default_factory=list)
    document: int = 0
    content: bool = False  # the current document has content (a `---` then starts a new one)
    block: int | None = None  # inside a block scalar: lines indented deeper than this belong to it

    def path(self) -> tuple[PathSegment, ...]:
        return tuple(frame.segment for frame in self.frames)

    def item(self, column: int) -> None:
        """A `- ` at `column`: a sibling of an item at the same column, or the first item of its list."""
        while self.frames and self.frames[-1].column > column:
            self.frames.pop()
        index = 0
        if self.frames and self.frames[-1].item and self.frames[-1].column == column:
            previous = self.frames.pop().segment
            index = previous + 1 if isinstance(previous, int) else 0
        self.frames.append(_Frame(column, index, True))

    def key(self, column: int, key: str) -> None:
        while self.frames and self.frames[-1].column >= column:
            self.frames.pop()
        self.frames.append(_Frame(column, key, False))


def locate_cursor(text: str, line: int, character: int) -> Cursor | None:
    """The cursor at (line, character), both 0-based; None past the end of the text."""
    lines = text.split("\n")
    if line >= len(lines):
        return None
    state = _State()
    for number in range(line):
        _feed(state, lines[number])
    current = lines[line].rstrip("\r")
    if _DOCUMENT.match(current) or current.lstrip().startswith("#"):
        return None
    cursor = _at(state, current, line, min(character, len(current)))
    if cursor is None:
        return None
    kind = document_kind(lines, line)
    siblings = _siblings(lines, line, cursor) if cursor.new_key or cursor.on_key else frozenset()
    return replace(cursor, kind=kind, siblings=siblings)


def _feed(state: _State, raw: str) -> bool:
    """Read one line before the cursor's; whether it holds a key."""
    text = raw.rstrip("\r")
    if _DOCUMENT.match(text):
        if state.content:
            state.document += 1
        state.frames, state.block, state.content = [], None, True
        return False
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return False
    indent = len(text) - len(text.lstrip(" "))
    if state.block is not None:
        if indent > state.block:
            return False
        state.block = None
    state.content = True
    match = _LINE.match(text)
    assert match is not None  # the pattern matches every line
    column = _dashes(state, match)
    key = _KEY.match(match.group("rest"))
    if key is None:
        return False
    state.key(column, _unquote(key.group("key")))
    if key.group("after").strip().startswith(("|", ">")):
        state.block = column
    return True


def _dashes(state: _State, match: re.Match[str]) -> int:
    """Enter each `- ` of a line; the column where the line's content starts."""
    column = len(match.group("indent"))
    dashes = match.group("dashes")
    position = 0
    while position < len(dashes):
        state.item(column + position)
        step = 1
        while position + step < len(dashes) and dashes[position + step] == " ":
            step += 1
        position += step
    return column + len(dashes)


def _at(state: _State, text: str, line: int, character: int) -> Cursor | None:
    match = _LINE.match(text)
    assert match is not None
    column = _dashes(state, match)
    on_item = bool(match.group("dashes"))
    rest = match.group("rest")
    key = _KEY.match(rest)
    if key is None:
        start, end = _word_around(text, max(character, column))
        word = _unquote(text[start:end])
        if on_item and not text[column:].strip().startswith("#"):
            return Cursor(state.document, state.path(), False, word, line, start, end)
        while state.frames and state.frames[-1].column >= column:
            state.frames.pop()
        return Cursor(state.document, state.path(), True, word, line, start, end, new_key=True)
    name = _unquote(key.group("key"))
    state.key(column, name)
    key_end = column + len(key.group("key"))
    if character <= key_end:
        return Cursor(state.document, state.path(), True, name, line, column, key_end)
    return _value(state, text, line, character, len(text) - len(key.group("after")))


def _value(state: _State, text: str, line: int, character: int, after: int) -> Cursor:
    """The cursor in a key's value, which may be a one-line flow sequence."""
    value = _strip_comment(text[after:])
    offset = after + len(value) - len(value.lstrip())
    body = value.strip()
    path = state.path()
    if body.startswith("[") and character > offset:
        inner = text[offset + 1 : character]
        index = inner.count(",")
        start, end = _word_around(text, character)
        return Cursor(state.document, (*path, index), False, _unquote(text[start:end]), line, start, end)
    if not body:
        return Cursor(state.document, path, False, "", line, max(character, offset), max(character, offset))
    end = offset + len(body)
    return Cursor(state.document, path, False, _unquote(body), line, offset, end)


def _word_around(text: str, character: int) -> tuple[int, int]:
    start = character
    while start > 0 and text[start - 1] not in _WORD_STOP:
        start -= 1
    end = character
    while end < len(text) and text[end] not in _WORD_STOP:
        end += 1
    if start < end and text[start] == "-" and (end == start + 1 or text[start + 1] == " "):
        start += 1
    return start, end


def _strip_comment(value: str) -> str:
    quote: str | None = None
    for index, char in enumerate(value):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or value[index - 1] in " \t"):
            return value[:index].rstrip()
    return value.rstrip()


def _unquote(word: str) -> str:
    word = word.strip()
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word.lstrip("\"'")


def document_kind(lines: list[str], line: int) -> str | None:
    """The `kind:` of the document holding `line` (a top-level key anywhere in that document)."""
    start = line
    while start > 0 and not _DOCUMENT.match(lines[start]):
        start -= 1
    end = line + 1
    while end < len(lines) and not _DOCUMENT.match(lines[end]):
        end += 1
    for text in lines[start:end]:
        if text.startswith("kind:"):
            return _unquote(_strip_comment(text[len("kind:") :]))
    return None


def _siblings(lines: list[str], line: int, cursor: Cursor) -> frozenset[str]:
    """The keys already written in the mapping where a key is typed, so completion offers the others."""
    parent = cursor.path if cursor.new_key else cursor.path[:-1]
    found: set[str] = set()
    start = line
    while start > 0 and not _DOCUMENT.match(lines[start - 1]):
        start -= 1
    state = _State()
    for number in range(start, len(lines)):
        if number > start and _DOCUMENT.match(lines[number]):
            break
        keyed = _feed(state, lines[number])
        path = state.path()
        if (
            keyed
            and number != line
            and len(path) == len(parent) + 1
            and path[:-1] == parent
            and isinstance(path[-1], str)
        ):
            found.add(path[-1])
    return frozenset(found)
