"""`charter plan`: specs, findings, generated files and breaking changes between two revisions."""

from __future__ import annotations

from compiler.plan.cli import add_plan_parser

__all__ = ["add_plan_parser"]
