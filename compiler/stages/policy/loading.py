"""Which policies a run evaluates: the built-in packs the Project turns on, its own policy directories, Policy
specs among the spec files, and policy files named on the command line; and whether its settings name them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.models.policy import Policy
from compiler.core.models.project import Project
from compiler.core.sources import LINK_HINT, Kind, Sources, display_path, settled_signature
from compiler.core.specs import Spec
from compiler.core.suggest import did_you_mean
from compiler.stages.policy.packs import builtin_packs, policy_files
from compiler.stages.read.discovery import safe_load
from compiler.stages.read.load import SourceFile, load_file
from compiler.stages.run import Run, internal
from compiler.stages.validate.specs import validate_file


def load_policies(run: Run, spec_paths: list[str], extra_policies: Sequence[Path]) -> list[Spec]:
    """Built-in packs the Project turns on, its own policy directories, and Policy specs in the project."""
    project_spec = next((spec for spec in run.specs if spec.kind == "Project"), None)
    loaded = Run(run.sources)
    for path in dict.fromkeys([*extra_policies, *_pack_files(run, project_spec)]):
        # Built-in packs and policy files named on the command line come from the installation.
        loaded.add(validate_file(_load_installed(path)))
    seen = set(spec_paths)
    for relative in _organisation_files(run, project_spec):
        if relative not in seen:
            loaded.add(validate_file(safe_load(run.sources, relative)))
    run.diagnostics.extend(loaded.diagnostics)
    run.texts.update(loaded.texts)
    run.invalid.extend(invalid for invalid in loaded.invalid if invalid.kind == "Policy")  # waivers name them
    project_policies = [spec for spec in run.specs if spec.kind == "Policy"]
    policies = project_policies + [spec for spec in loaded.specs if spec.kind == "Policy"]
    if project_spec is not None and run.project is not None:
        run.diagnostics.extend(_check_settings(project_spec, run.project, policies))
    run.diagnostics.extend(duplicate_policies(policies, {id(spec) for spec in project_policies}))
    return policies


def duplicate_policies(policies: list[Spec], in_project: set[int]) -> list[Diagnostic]:
    """Policies of one name, at every definition: settings, waivers and the plan name policies by name.

    Two Policy specs of the project's own files are already a duplicate-name finding (CH400)."""
    by_name: dict[str, list[Spec]] = {}
    for spec in policies:
        by_name.setdefault(spec.name, []).append(spec)
    findings = []
    for name, specs in by_name.items():
        if len(specs) < 2 or all(id(spec) in in_project for spec in specs):
            continue
        for spec in specs:
            others = ", ".join(other.file for other in specs if other is not spec)
            findings.append(
                spec.finding(
                    "CH420",
                    f"policy `{name}` is defined more than once: also in {others}",
                    ["metadata", "name"],
                    hint="give the organisation's policy a name of its own: overrides, parameters and waivers "
                    "name policies, and apply to every policy of that name",
                )
            )
    return findings


_INSTALLED: dict[tuple[str, str], tuple[str, SourceFile]] = {}
"""Installed policy files as read before, by path and display, with the stat signature they were read at: a
process that checks again and again (`charter lsp`) parses the packs once."""


def _load_installed(path: Path) -> SourceFile:
    display = display_path(path)
    try:
        signature = settled_signature(path.stat())
    except OSError:
        signature = None
    known = _INSTALLED.get((str(path), display))
    if known is not None and signature is not None and known[0] == signature:
        return known[1]
    try:
        source = load_file(path, display)
        if signature is not None and len(_INSTALLED) < 1024:
            _INSTALLED[(str(path), display)] = (signature, source)
        return source
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(internal(error, display))
        return source


def _pack_files(run: Run, project_spec: Spec | None) -> list[Path]:
    config = run.project.spec.policies if run.project else None
    available = builtin_packs()
    files: list[Path] = []
    for index, pack in enumerate(config.packs if config else []):
        if pack in available:
            files.extend(policy_files(available[pack]))
        elif project_spec is not None:
            run.diagnostics.append(
                project_spec.finding(
                    "CH506",
                    f"no policy pack named `{pack}`",
                    ["spec", "policies", "packs", index],
                    hint=did_you_mean(pack, available) or f"built-in packs: {', '.join(available)}",
                )
            )
    return files


def _organisation_files(run: Run, project_spec: Spec | None) -> list[str]:
    """The Policy files of the Project's own policy directories, inside the checkout, links refused."""
    files: list[str] = []
    for index, directory in enumerate(run.project.spec.policies.paths if run.project else []):
        at: list[PathSegment] = ["spec", "policies", "paths", index]
        relative = run.sources.inside(directory.rstrip("/") or ".")
        refusal, kind = _policy_directory(run.sources, relative, directory)
        if project_spec is None:
            continue
        if refusal is not None:
            run.diagnostics.append(project_spec.finding("CH120", f"not read: {refusal}", at, hint=LINK_HINT))
        elif kind is not Kind.DIRECTORY:
            message = f"no policy directory `{directory}`"
            run.diagnostics.append(project_spec.finding("CH401", message, at))
        else:
            files.extend(_policy_files_in(run.sources, relative))
    return files


def _policy_directory(sources: Sources, relative: str, directory: str) -> tuple[str | None, Kind | None]:
    """Why a policy directory is refused (outside the checkout, or a link on its way), and its kind."""
    if relative == ".." or relative.startswith("../"):
        return f"`{directory}` lies outside the repository", None
    try:
        kind = sources.kind(relative)
    except repofs.Refused as refused:
        return refused.reason, None
    if kind is Kind.LINK:
        return f"`{directory.rstrip('/')}` is a symbolic link; Charter does not follow links", None
    return None, kind


def _policy_files_in(sources: Sources, folder: str) -> list[str]:
    """Like `packs.policy_files`: the YAML files below a folder, not those of its `tests/`."""
    found = []
    for path, _ in sources.walk("" if folder == "." else folder):
        inner = posixpath.relpath(path, folder) if folder not in ("", ".") else path
        if path.endswith((".yaml", ".yml")) and "tests" not in inner.split("/")[:-1]:
            found.append(path)
    return sorted(found)


def _check_settings(project_spec: Spec, project: Project, policies: list[Spec]) -> list[Diagnostic]:
    """Overrides and parameters that name nothing would silently do nothing."""
    rules = {spec.name: spec.model for spec in policies if isinstance(spec.model, Policy)}
    names = list(rules) + [f"{name}/{rule.name}" for name, p in rules.items() for rule in p.spec.validations]
    findings = []
    config = project.spec.policies
    for key in config.severity_overrides:
        if key not in names:
            findings.append(
                project_spec.finding(
                    "CH507",
                    f"severity override for unknown policy or rule `{key}`",
                    ["spec", "policies", "severityOverrides", key],
                    key=True,
                    hint=did_you_mean(key, names),
                )
            )
    for policy_name, values in config.params.items():
        policy = rules.get(policy_name)
        if policy is None:
            findings.append(
                project_spec.finding(
                    "CH507",
                    f"parameters for unknown policy `{policy_name}`",
                    ["spec", "policies", "params", policy_name],
                    key=True,
                    hint=did_you_mean(policy_name, rules),
                )
            )
            continue
        for param, value in values.items():
            mistyped = _mistyped(policy.spec.params.get(param), value)
            if mistyped:
                findings.append(
                    project_spec.finding(
                        "CH421",
                        f"parameter `{policy_name}.{param}` is {mistyped}",
                        ["spec", "policies", "params", policy_name, param],
                        hint="write the value as the policy declares it (a number unquoted)",
                    )
                )
            if param not in policy.spec.params:
                findings.append(
                    project_spec.finding(
                        "CH507",
                        f"policy `{policy_name}` has no parameter `{param}`",
                        ["spec", "policies", "params", policy_name, param],
                        key=True,
                        hint=did_you_mean(param, policy.spec.params)
                        or f"its parameters: {', '.join(policy.spec.params) or 'none'}",
                    )
                )
    return findings


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "a string"


def _mistyped(declared: object, value: object) -> str | None:
    """What is wrong with a parameter's type, against the type of the policy's default; None when it fits."""
    if declared is None or _type_name(declared) == _type_name(value):
        return None
    return f"{_type_name(value)} ({value!r}); the policy declares {_type_name(declared)} ({declared!r})"
