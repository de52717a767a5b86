"""`charter explain CODE|POLICY|RULE`: what a code, a policy or one of its rules means and how to fix it.

A policy and its rules are explained from the policies themselves (description, remediation, references),
the same fields docs/policies.md shows (scripts/policy_docs.py), so the two cannot disagree.

Exit codes: 0 explained; 2 no code, policy or rule of that name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.core import exit_codes

if TYPE_CHECKING:
    from compiler.core.models.policy import Policy


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    explain = commands.add_parser("explain", help="what a diagnostic code means and how to fix it")
    explain.add_argument(
        "code",
        nargs="?",
        metavar="CODE",
        help="a code (CH200) or its name (unknown-field), a built-in policy, POLICY/RULE, or a rule's name",
    )
    explain.add_argument("--list", action="store_true", help="list every code")
    explain.add_argument(
        "--project",
        default=".",
        metavar="DIR",
        help="the project whose own policies are explained too (default: the current directory)",
    )


def run(args: argparse.Namespace) -> int:
    """A code by id or name; else a policy or rule, built-in or the project's own."""
    from compiler.core.codes import all_codes, lookup

    if args.list or not args.code:
        for code in all_codes():
            print(f"{code.id}  {code.severity.value:<7}  {code.name:<24}  {code.title}")
        return exit_codes.OK
    found = lookup(args.code)
    if found is None:
        return _explain_policy(args.code, Path(args.project))
    print(f"{found.id} {found.name} ({found.severity.value}): {found.title}\n")
    print(found.explanation)
    return exit_codes.OK


def _explain_policy(key: str, project: Path) -> int:
    """A built-in policy or rule, else one of the project's own (when `project` holds a charter.yaml)."""
    from compiler.core.codes import all_codes
    from compiler.core.suggest import did_you_mean

    text = explain_policy(key)
    own = project_policies(project) if (project / "charter.yaml").is_file() else []
    if text is None and own:
        text = explain_policy(key, own)
    if text is not None:
        print(text, end="")
        return exit_codes.OK
    names = [*explainable_names(), *(code.name for code in all_codes())]
    names += [name for _, policy in own for name in policy_names(policy)]
    suggestion = did_you_mean(key, names)
    print(
        f"charter: unknown code, policy or rule `{key}`; "
        + (f"{suggestion} " if suggestion else "")
        + "`charter explain --list` shows every code, docs/policies.md every policy",
        file=sys.stderr,
    )
    return exit_codes.USAGE


def builtin_policies() -> list[tuple[str, Path, Policy]]:
    """(pack, file, policy) for every built-in policy, in a stable order."""
    from compiler.core.models.policy import Policy
    from compiler.stages import builtin_packs, load_document, policy_files

    found = []
    for pack, directory in builtin_packs().items():
        for path in policy_files(directory):
            loaded = load_document(path, path.name)
            for document in loaded.documents:
                spec = loaded.spec_of(document)
                if spec is not None and isinstance(spec.model, Policy):
                    found.append((pack, path, spec.model))
    return found


def explain_policy(key: str, policies: list[tuple[str, Policy]] | None = None) -> str | None:
    """A policy (`eu-ai-act-high-risk`), one of its rules (`POLICY/RULE`), or a rule by its name alone
    (`human-oversight`: every rule of that name). `policies` are (origin, policy) pairs, the built-in
    packs' when not given; the origin is what the text says the policy comes from (`pack eu-ai-act`)."""
    name, _, rule_name = key.partition("/")
    if policies is None:
        policies = [(f"pack {pack}", policy) for pack, _, policy in builtin_policies()]
    for origin, policy in policies:
        if policy.metadata.name != name:
            continue
        rules = [r for r in policy.spec.validations if not rule_name or r.name == rule_name]
        if not rules:
            return None
        return _policy_text(origin, policy, [r.name for r in rules])
    if rule_name:
        return None
    found = [
        _policy_text(origin, policy, [key])
        for origin, policy in policies
        if any(rule.name == key for rule in policy.spec.validations)
    ]
    return "\n".join(found) if found else None


def project_policies(root: Path) -> list[tuple[str, Policy]]:
    """(origin, policy) for the policies a project adds to the packs: its own files and policy directories."""
    from compiler.core.models.policy import Policy
    from compiler.stages import check_path

    packs = {policy.metadata.name for _, _, policy in builtin_policies()}
    return [
        (f"from {spec.file}", spec.model)
        for spec in check_path(root).policies
        if isinstance(spec.model, Policy) and spec.name not in packs
    ]


def explainable_names() -> list[str]:
    """Every built-in policy, `policy/rule` and rule name `explain_policy` knows: the candidates of a did-you-mean."""
    return [name for _, _, policy in builtin_policies() for name in policy_names(policy)]


def policy_names(policy: Policy) -> list[str]:
    """What `charter explain` finds a policy by: its name, and each rule as `policy/rule` and by its name."""
    names = [policy.metadata.name]
    for rule in policy.spec.validations:
        names += [f"{policy.metadata.name}/{rule.name}", rule.name]
    return names


def _policy_text(origin: str, policy: Policy, rule_names: list[str]) -> str:
    body = policy.spec
    lines = [f"{policy.metadata.name} ({origin}; applies to {', '.join(body.match.kinds)})", ""]
    if body.description:
        lines += [body.description.strip(), ""]
    if body.params:
        lines += ["Parameters: " + ", ".join(f"{k}={v}" for k, v in body.params.items()), ""]
    for rule in body.validations:
        if rule.name not in rule_names:
            continue
        lines.append(f"  {policy.metadata.name}/{rule.name} [{rule.severity}]")
        if rule.description:
            lines.append(f"    Why: {rule.description.strip()}")
        if rule.remediation:
            lines.append(f"    Fix: {rule.remediation.strip()}")
        if rule.references:
            lines.append(f"    References: {'; '.join(rule.references)}")
        if not rule.waivable:
            lines.append("    No waiver can suspend this rule.")
        lines.append(f"    Expression: {rule.expression.strip()}")
        lines.append("")
    return "\n".join(lines)
