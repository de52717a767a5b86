"""What a run found, for every output format: the findings, and what formats need to show them well."""

from __future__ import annotations

from collections.abc import Mapping
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
