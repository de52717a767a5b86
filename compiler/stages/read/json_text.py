"""A JSON file read by Python's C JSON parser, when that gives exactly what the YAML 1.2 loader gives.

Evidence records are JSON, and reading them through libyaml's node tree and Charter's YAML 1.2 constructor
cost about 1 ms each: a cold check of 10,000 specs read 3,000 of them one by one (issue 26). JSON is YAML
1.2, and for the plain JSON Charter writes both readers agree value for value. Where they could differ, or
where the YAML loader would report something (a duplicate key, `${{`, an escape, a character YAML refuses,
a long key, deep nesting, a huge integer, very many values, a document that is not a mapping), this answers
None and the file takes the YAML path, findings and all. The node tree for positions is composed from the
text later, only if a finding asks for one (`compiler.core.documents`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from compiler.stages.read.yaml12 import MAX_DEPTH, MAX_EXPANDED_VALUES

# Characters on which both readers agree: printable, and no line break but `\n` (YAML also breaks lines at
# NEL, LS and PS, and folds a break inside a quoted string). Tabs, carriage returns and byte order marks are
# left to YAML, whose rules on them differ from JSON's; so are `${{` (CH209) and escapes beyond the plain ones.
_UNSAFE = re.compile(
    "[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|\\${{|\\\\u|\\\\/"
)
_MAX_KEY = 1000  # libyaml refuses an implicit key longer than 1,024 characters
_MAX_DIGITS = 4000  # the constructor's CH111


class _YamlDiffers(Exception):
    """The YAML loader could answer differently: read the file as YAML."""


def read_json_mapping(text: str) -> dict[str, Any] | None:
    """The data of a text that is one JSON object, exactly as the YAML 1.2 loader reads it; None otherwise."""
    if not text.lstrip(" \n").startswith("{") or len(text) > MAX_EXPANDED_VALUES or _UNSAFE.search(text):
        return None
    try:
        data = json.loads(text, object_pairs_hook=_mapping, parse_int=_integer, parse_constant=_refuse)
    except (ValueError, _YamlDiffers):
        return None
    if not isinstance(data, dict) or (text.count("{") + text.count("[") > MAX_DEPTH and _too_deep(data)):
        return None
    return data


def _mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs) or any(len(key) > _MAX_KEY for key in mapping):
        raise _YamlDiffers
    return mapping


def _integer(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise _YamlDiffers
    return int(digits)


def _refuse(constant: str) -> Any:
    raise _YamlDiffers  # NaN and Infinity are not JSON, and are strings in YAML


def _too_deep(data: Any) -> bool:
    """Whether collections nest `MAX_DEPTH` deep or more (the constructor's CH108), without recursion."""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
