"""A YAML document as the loader gives it: its plain data, and the node tree that knows positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its data, and the node tree that knows positions."""

    file: str
    index: int
    data: Any
    node: yaml.Node
