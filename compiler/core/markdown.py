"""The one Markdown escaper: spec and data text inside everything Charter writes as Markdown.

Text from specs, data and git is untrusted. In a pull-request comment, a
check-run summary, a gate's step summary or a model card it must not become
HTML, a mention, a table cell break, a second line, or a terminal control
sequence; and code spans must not be broken out of. Every Markdown writer
escapes through this module, so the rules are written once.

Links and images are spec text's way to dress a claim up as Charter's (`[approved by the Model Risk
Committee](https://...)`, a tracking `![x](https://...)`): `text` escapes the brackets that open a link, an
image or a reference (`\\[`), HTML is already entities, and a bare `https://` or `www.` loses the character
GitHub's autolinker keys on (`https\\://`, `www\\.`), so the URL shows as text and goes nowhere. Charter's
own links are written by Charter around escaped text, so they keep working.

Two contexts differ in what they must keep byte-stable: reports and comments
(`text`, `code`, `inline`) show prose as written, with only what is dangerous
escaped; model cards (`card_text`, `card_code`), committed files that GitHub and
Hugging Face both render, also neutralise every markup character (links,
emphasis, headings), since a card is read as documentation, not as a message.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.core.safe_names import escape_for_people

_LINE_BREAKS = re.compile(r"[\r\n]+")
_BACKTICK_RUNS = re.compile(r"`+")
_CODE_SPANS = re.compile(r"(`[^`\n]*`)")
_CARD_MARKUP = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
# What GitHub's autolinker (cmark-gfm) turns into a link without any markup: `https://x`, `www.x`.
_BARE_LINKS = re.compile(r"(?i)\b(https?|ftp)(:)(?=//)|\b(www)(\.)")
# HTML and mentions: what GitHub would render or notify from a comment.
_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("@", "&#64;"))


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def _cell_safe(text: str) -> str:
    # A pipe would end a table cell; outside tables the escaped pipe renders the same.
    return text.replace("|", "\\|")


def _inert_links(text: str) -> str:
    """Break bare URLs for the autolinker: a backslash before the `:` of `https://` and the `.` of `www.`."""
    return _BARE_LINKS.sub(lambda m: f"{m[1] or m[3]}\\{m[2] or m[4]}", text)


def text(value: Any) -> str:
    """Plain text: no HTML, links, images, mentions or table breaks; one line; control and bidi characters escaped."""
    escaped = escape_for_people(str(value).replace("\\", "\\\\"))
    for raw, entity in _ENTITIES:
        escaped = escaped.replace(raw, entity)
    escaped = escaped.replace("[", "\\[").replace("]", "\\]")
    return _inert_links(_cell_safe(_one_line(escaped)))


def code(value: Any) -> str:
    """Inline code that survives backticks and pipes inside it; control and bidi characters as escapes."""
    shown = _cell_safe(_one_line(escape_for_people(str(value))))
    fence = "`" * (max((len(run) for run in _BACKTICK_RUNS.findall(shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def inline(value: Any) -> str:
    """A message with `code` spans: escape the prose, keep the spans."""
    parts = _CODE_SPANS.split(str(value))
    return "".join(code(p[1:-1]) if p.startswith("`") and p.endswith("`") and len(p) > 1 else text(p) for p in parts)


def fence(body: str, minimum: int = 3) -> str:
    """A code-block fence longer than any run of backticks in `body`, so the body cannot close it."""
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(body)), default=0)
    return "`" * max(minimum, longest + 1)


def card_text(value: Any) -> str:
    """Spec text in a model card: one line, no markup, no HTML, control and bidi characters as escapes."""
    shown = " ".join(escape_for_people(str(value)).split())
    return _inert_links(_CARD_MARKUP.sub(r"\\\1", shown).replace("&", "&amp;"))


def card_code(value: Any) -> str:
    """Spec text inside a model card's code span: one line, no backtick to break out, no control characters."""
    return " ".join(escape_for_people(str(value)).split()).replace("`", "'")
