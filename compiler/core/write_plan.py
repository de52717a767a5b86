"""What a build would write, file by file: the emit stage plans it, the build command reports it."""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.core.diagnostics import Diagnostic


@dataclass
class WritePlan:
    """What a build would do, file by file."""

    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)  # stale: the spec changed
    edited: list[str] = field(default_factory=list)  # changed by hand since the last build: left alone
    remove: list[str] = field(default_factory=list)  # owned, but no spec renders it any more
    kept: list[str] = field(default_factory=list)  # left behind, but edited by hand: left alone
    foreign: list[str] = field(default_factory=list)  # exists, but Charter never wrote it
    unchanged: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    findings: list[Diagnostic] = field(default_factory=list)  # refused paths and manifest entries
    manifest_writable: bool = True
    recorded: dict[str, str] = field(default_factory=dict)  # the trusted manifest entries
    leftovers: list[str] = field(default_factory=list)  # temporary files of an interrupted build: removed
    unrecorded: list[str] = field(default_factory=list)  # current, but missing from the manifest: recorded

    @property
    def clean(self) -> bool:
        lists = (self.create, self.update, self.edited, self.remove, self.kept, self.foreign, self.findings)
        return not any(lists) and not self.leftovers and not self.unrecorded
