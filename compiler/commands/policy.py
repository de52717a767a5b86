"""`charter policy test [DIR]`: run the policies' unit tests, cases written as data (`compiler.stages`).

Exit codes: 0 every case passed; 1 a case failed; 2 no such directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.core import exit_codes

if TYPE_CHECKING:
    from compiler.stages import Checked


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    policy = commands.add_parser("policy", help="policy tools")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)
    policy_test = policy_commands.add_parser("test", help="run policy unit tests (cases as data)")
    policy_test.add_argument("directory", nargs="?", default="policies", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    from compiler.stages import run_policy_tests

    directory = Path(args.directory)
    if not directory.exists():
        print(f"charter: no such directory: {directory}", file=sys.stderr)
        return exit_codes.USAGE
    passed = failed = 0
    for case in run_policy_tests(directory, file_evidence):
        if case.passed:
            passed += 1
            continue
        failed += 1
        print(f"{case.file}:{case.line}: FAIL [{case.policy}] {case.case}")
        for label, items in (("problem", case.problems), ("missing", case.missing), ("unexpected", case.unexpected)):
            for item in items:
                print(f"    {label}: {item}")
    print(f"{passed} passed, {failed} failed")
    return exit_codes.FINDINGS if failed else exit_codes.OK


def file_evidence(root: Path, checked: Checked, entries: Any) -> list[str]:
    """Write each case's evidence record, judged against today's specs except the parts it lists as changed."""
    from compiler.evidence.record import stub_record
    from compiler.evidence.store import evidence_path

    problems = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict) or str(entry.get("model")) not in checked.evidence:
            problems.append(f"evidence for no model of the case: {entry!r}")
            continue
        record = stub_record(
            checked.evidence[str(entry["model"])],
            gate=str(entry.get("gate", "eval")),
            verdict=str(entry.get("verdict", "pass")),
            version=str(entry["version"]) if "version" in entry else None,
            changed=entry.get("changed") or (),
        )
        target = root / evidence_path(record["model"], record["version"], record["gate"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return problems
