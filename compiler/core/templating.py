"""The sandboxed Jinja2 environment and the escaping filters every template uses.

Spec strings reach generated YAML only through `q`, which writes a
double-quoted scalar: a name holding quotes, colons, newlines or `#` stays
one inert string. `${{` never gets this far (refused at load, CH209), and
spec text never enters a `run:` script: templates pass it through `env:`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from compiler.core import markdown

# YAML 1.2 c-printable, minus what JSON already escapes; anything else is \\u-escaped. NEL (U+0085)
# and the line and paragraph separators (U+2028, U+2029) are printable but YAML 1.1 readers (PyYAML,
# ruamel, libyaml) take them for line breaks, which a double-quoted scalar folds into a space: escape them.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# What may stand in a `#` comment as is: one line of printable text (no line break of YAML 1.1 or 1.2).
_COMMENT_SAFE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def yaml_scalar(value: Any) -> str:
    """A YAML 1.2 scalar that every YAML reader (1.1 included) reads back unchanged."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # `1e-05` is a float in YAML 1.2 but a string in YAML 1.1 (PyYAML wants a dot and a signed exponent).
        text = repr(value)
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    text = json.dumps(str(value), ensure_ascii=False)
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def yaml_json(value: Any) -> str:
    """A whole list or mapping as YAML flow (JSON is YAML), escaped like `q`."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def yaml_comment(value: Any) -> str:
    """Text inside a `#` comment (a file path in a header): as is when it is one printable line, else escaped."""
    text = str(value)
    return text if _COMMENT_SAFE.fullmatch(text) else yaml_scalar(text)


# Model cards escape through the one Markdown escaper; the names stay for the templates' filters.
markdown_text = markdown.card_text
code_span = markdown.card_code


def sandboxed(
    folder: str, *, autoescape: bool, finalize: Callable[[Any], Any] | None = None
) -> ImmutableSandboxedEnvironment:
    """A sandboxed Jinja environment over `compiler/templates/<folder>`: a missing variable is an error."""
    return ImmutableSandboxedEnvironment(
        loader=PackageLoader("compiler", f"templates/{folder}"),
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = sandboxed("render", autoescape=False)
    env.filters["q"] = yaml_scalar
    env.filters["flow"] = yaml_json
    env.filters["comment"] = yaml_comment
    env.filters["md"] = markdown_text
    env.filters["code"] = code_span
    # GitHub expressions are written by templates only, from string literals.
    env.globals["gh"] = lambda expression: "${{ " + expression + " }}"
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
