"""Where GitHub reads workflows: `.github/workflows` at the repository root, and nowhere else.

A project in a directory of a larger repository (`ml/charter.yaml`) writes its workflows to
`ml/.github/workflows`, which GitHub never runs: the pipelines would exist and never start. Until Charter
writes a sub-directory project's workflows at the repository root, `build` says so (CH442) and how to lay
the project out so that they run: charter.yaml at the repository root, its specs in `ml/`.
"""

from __future__ import annotations

import re
from pathlib import Path

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.project import Project
from compiler.core.specs import Spec


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds `.git` (a directory, or a worktree's file)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def unread_workflows(project_spec: Spec | None, project: Project | None, root: Path) -> list[Diagnostic]:
    """CH442 when the project is below the repository root, so its workflows are not where GitHub reads."""
    top = repository_root(root.resolve())
    if project_spec is None or top is None or top == root.resolve():
        return []
    inside = root.resolve().relative_to(top).as_posix()
    workflows = project.spec.outputs.workflows if project else ".github/workflows"
    return [
        project_spec.finding(
            "CH442",
            f"the workflows are written to `{inside}/{workflows}`, but GitHub runs only those in "
            f"`.github/workflows` at the repository root ({top.name}/): these never start",
            ["spec", "outputs", "workflows"] if project and "outputs" in project.spec.model_fields_set else ["spec"],
            key=True,
            hint=f'put charter.yaml at the repository root with `specs: ["{inside}/**/*.yaml"]`: the workflows, '
            "`deploy/`, `docs/models/` and `evidence/` are then the root's, and the paths filters name the specs in "
            f"`{inside}/`",
        )
    ]


# Characters GitHub's `paths:` filter reads as pattern syntax; a backslash makes each literal.
_PATTERN_SYNTAX = re.compile(r"([\\*?\[\]+!{}])")


def path_pattern(path: str) -> str:
    """A `paths:` entry that matches exactly this file, whatever its name holds (spaces, letters of any
    script, `[`, `*`): before, names with such characters were left out, so a change to them started nothing."""
    return _PATTERN_SYNTAX.sub(r"\\\1", path)
