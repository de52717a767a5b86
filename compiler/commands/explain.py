"""`charter explain CODE|POLICY|RULE`: what a code, a policy or one of its rules means and how to fix it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compiler.core import exit_codes


def run_explain(args: argparse.Namespace) -> int:
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
    from compiler.commands.policy_docs import explain_policy, explainable_names, policy_names, project_policies
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
