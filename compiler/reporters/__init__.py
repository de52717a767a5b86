"""Output formats for findings: one module per format, all built from Diagnostic.

Each module exposes `render(report: Report) -> str`. The registry below is the
only place that knows the formats; the CLI's `--format` choices come from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compiler.core.diagnostics import Diagnostic

if TYPE_CHECKING:
    from compiler.reporters.rules import RuleHelp


@dataclass(frozen=True)
class Report:
    """What a run found, plus what formats need to show it well."""

    diagnostics: tuple[Diagnostic, ...]
    files_checked: int = 0
    specs_checked: int = 0
    # file -> source text, for showing the offending line under a finding.
    sources: Mapping[str, str] = field(default_factory=dict)
    color: bool = False
    tool_version: str = ""
    # `policy/rule` -> what the rule is for (compiler.reporters.rules), for the help SARIF gives each rule.
    rules: Mapping[str, RuleHelp] = field(default_factory=dict)


Renderer = Callable[[Report], str]


def formats() -> dict[str, Renderer]:
    from compiler.reporters import github, json_format, junit, sarif, text

    return {
        "text": text.render,
        "json": json_format.render,
        "sarif": sarif.render,
        "github": github.render,
        "junit": junit.render,
    }
