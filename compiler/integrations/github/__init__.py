"""`charter github report`: findings and the plan on a pull request, through PyGithub."""

from __future__ import annotations

from compiler.integrations.github.cli import add_github_parser

__all__ = ["add_github_parser"]
