"""Where GitHub reads workflows: `.github/workflows` at the repository root, and nowhere else.

A project in a directory of a larger repository (`ml/charter.yaml`) writes its workflows to the root with
`outputs.workflows: ../.github/workflows` (one `../` per level). They then run from the root's checkout: every
step in the project's directory (`defaults.run.working-directory: ml`), every path an action is given and every
`paths:` filter prefixed with it (`home`). A workflows directory that climbs above the git repository, or a project
in no repository, is refused (CH449): a build never writes outside the repository it checks out. Workflows that
GitHub would not read (the default `ml/.github/workflows`) are CH442, with the setting that fixes it.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.project import Project
from compiler.core.specs import Spec
from compiler.core.templating import yaml_scalar

GITHUB_WORKFLOWS = ".github/workflows"


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds `.git` (a directory, or a worktree's file)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def levels_up(workflows: str) -> int:
    """How many directories above the project `outputs.workflows` starts (`../.github/workflows`: 1)."""
    parts = workflows.split("/")
    return next((count for count, part in enumerate(parts) if part != ".."), len(parts))


def home(project: Project | None, root: Path | None) -> str:
    """The project's directory as seen from the directory its workflows run from (`ml`), or "" when the workflows
    are the project's own. Only the last `levels_up` names of the project's path: the same in every clone."""
    levels = levels_up(project.spec.outputs.workflows) if project else 0
    if not levels or root is None:
        return ""
    return "/".join(Path(os.path.abspath(root)).parts[-levels:])


def unread_workflows(project_spec: Spec | None, project: Project | None, root: Path) -> list[Diagnostic]:
    """CH449 when the workflows directory leaves the git repository; CH442 when it is not the root's."""
    if project_spec is None:
        return []
    here = Path(os.path.abspath(root))
    top = repository_root(here)
    workflows = project.spec.outputs.workflows if project else GITHUB_WORKFLOWS
    where = ["spec", "outputs", "workflows"] if project and "outputs" in project.spec.model_fields_set else ["spec"]
    levels = levels_up(workflows)
    inside = here.relative_to(top).as_posix() if top is not None else "."
    depth = 0 if inside == "." else len(inside.split("/"))
    if levels and (top is None or levels > depth):
        repository = f"the git repository at `{top.name}/`" if top is not None else "no git repository"
        hint = "build in a clone of the repository"
        if top is not None:
            hint = f"use `{'../' * depth}.github/workflows`" if depth else "use `.github/workflows`"
        message = f"`{workflows}` leaves the project's repository ({repository}): nothing is written outside it"
        return [project_spec.finding("CH449", message, where, hint=hint)]
    if top is None or posixpath.normpath(posixpath.join(inside, workflows)) == GITHUB_WORKFLOWS:
        return []
    up = "../" * depth
    return [
        project_spec.finding(
            "CH442",
            f"the workflows are written to `{posixpath.normpath(posixpath.join(inside, workflows))}`, but GitHub "
            f"runs only those in `.github/workflows` at the repository root ({top.name}/): these never start",
            where,
            key=True,
            hint=f"set `outputs.workflows: {up}.github/workflows` in charter.yaml: the workflows are then the root's, "
            f"their steps run in `{inside}/` and their paths filters name its files from the root",
        )
    ]


# Characters GitHub's `paths:` filter reads as pattern syntax; a backslash makes each literal.
_PATTERN_SYNTAX = re.compile(r"([\\*?\[\]+!{}])")


def path_pattern(path: str) -> str:
    """A `paths:` entry that matches exactly this file, whatever its name holds (spaces, letters of any
    script, `[`, `*`): before, names with such characters were left out, so a change to them started nothing."""
    return _PATTERN_SYNTAX.sub(r"\\\1", path)


def watched(home: str, files: list[str], folders: list[str]) -> list[str]:
    """The `paths:` filter of a pipeline: each file exactly, each folder (`evidence/m/1.0/`) with all it holds, as
    seen from the repository root (prefixed with `home`)."""
    prefix = f"{home}/" if home else ""
    return [path_pattern(prefix + file) for file in files] + [
        path_pattern(prefix + folder) + "**" for folder in folders
    ]


def at(home: str) -> Callable[[str], str]:
    """A path an action is given (`path:` of upload-artifact), as YAML: actions run from the repository root, not
    in `defaults.run.working-directory`, so a project below it prefixes its directory."""
    return lambda path: yaml_scalar(f"{home}/{path}") if home else path
