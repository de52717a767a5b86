"""Names that Charter joins into paths: a contract id becomes `data/<id>` in generated pipelines.

Charter's own names are DNS labels (CH210). An ODCS contract's `id` is free text by the standard (UUIDs and
URNs are common), so it is held to the one rule that matters where it lands: it must stay a single path
segment, readable as it is.
"""

from __future__ import annotations

import unicodedata


def path_segment_problem(value: str) -> str | None:
    """What makes `value` unsafe as one path segment, or None when it is safe."""
    if not value:
        return "it is empty"
    if "/" in value or "\\" in value:
        return "it contains a path separator (`/` or `\\`)"
    if ".." in value:
        return "it contains `..`"
    if value[0] in ".-":
        return f"it starts with `{value[0]}`"
    for char in value:
        # Cc: control characters (ESC, BEL, NUL...); Cf: format characters (U+202E, U+2066-2069...).
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") or char.isspace():
            return f"it contains the character U+{ord(char):04X}"
    return None


def escape_for_people(text: str) -> str:
    """`text` with control and bidirectional characters shown as escapes (`\\x1b`, `\\u202e`).

    Raw ESC or BEL drive a terminal, NUL truncates logs, and U+202E or U+2066-2069 reorder what a reviewer
    reads. Newlines and tabs are kept: reporters lay text out in lines.
    """
    if text.isprintable() or all(_shown_as_is(char) for char in text):
        return text
    return "".join(char if _shown_as_is(char) else _escape(char) for char in text)


def _shown_as_is(char: str) -> bool:
    return char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
