"""Which Charter the generated workflows install, and whether it is the Charter that renders them.

The rule keeps `build --check` deterministic: the commit written into the workflows comes from the project
alone (`ci.charter.commit` in charter.yaml, or, when it sets none, the release this Charter knows), never
from the machine that builds. What the machine runs is compared with it instead: when this Charter knows its
commit (installed from git or by the setup action) and it is not the one the workflows install, the files it
writes may not be what the pinned Charter's `build --check` expects in CI, so `build` says so (CH440).
In CI the setup action installs the pinned commit, so the two agree and nothing is said.
"""

from __future__ import annotations

from compiler.core.diagnostics import Diagnostic
from compiler.core.installed import Installation
from compiler.core.models.project import Project
from compiler.core.specs import Spec

COMMIT_FIELD = ["spec", "ci", "charter", "commit"]


def pinned_commit(project: Project | None) -> tuple[str, str, bool]:
    """(repository, commit, whether charter.yaml chose them) of the Charter the workflows install."""
    from compiler.core.models.project import CharterSource

    source = project.spec.ci.charter if project else CharterSource()
    return source.repository, source.commit, "commit" in source.model_fields_set


def _where_to_pin(project: Project | None) -> list[str]:
    """Where `ci.charter.commit` belongs: on `ci:` when charter.yaml has one, else on `spec:`."""
    return ["spec", "ci"] if project and "ci" in project.spec.model_fields_set else ["spec"]


def pin_findings(project_spec: Spec | None, project: Project | None, charter: Installation) -> list[Diagnostic]:
    """CH440 when this Charter knows its commit and the workflows it renders install another one."""
    if project_spec is None or charter.commit is None:
        return []
    repository, commit, chosen = pinned_commit(project)
    if commit == charter.commit:
        return []
    where = "pinned in charter.yaml" if chosen else "the release this Charter knows; charter.yaml pins none"
    return [
        project_spec.finding(
            "CH440",
            f"the generated workflows install Charter {commit[:12]} ({where}), but this is {charter.describe()}",
            COMMIT_FIELD if chosen else _where_to_pin(project),
            key=not chosen,
            hint=(
                f"CI's `charter build --check` runs the pinned Charter, which may write other files: pin this one "
                f"(`ci: {{charter: {{repository: {charter.repository or repository}, commit: {charter.commit}}}}}`), "
                "with the same commit as `rev:` in .pre-commit-config.yaml and the Charter action's `uses:`"
            ),
        )
    ]
