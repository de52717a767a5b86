"""`charter evidence record [--project DIR] REPORT...`: file gate reports as evidence of model versions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from compiler.commands.common import project_directory
from compiler.core import exit_codes


def add_evidence_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    evidence = commands.add_parser("evidence", help="evidence of what the gates measured, per model version")
    actions = evidence.add_subparsers(dest="evidence_command", metavar="COMMAND", required=True)
    record = actions.add_parser(
        "record",
        help="file gate reports under evidence/<model>/<version>/<gate>.json",
        description="Each report (`charter gate ... --report FILE`) becomes a deterministic JSON record "
        "(schemas/evidence.schema.json) of the model version it judged. Exit 2 when a report cannot be filed; "
        "then nothing is written.",
    )
    record.add_argument("reports", nargs="+", metavar="REPORT", help="JSON reports of charter gate data|eval|drift")
    record.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
    record.add_argument(
        "--artifact",
        metavar="NAME",
        help="in GitHub Actions: the artifact the report was uploaded as; with --artifact-digest, the record names "
        "this run (GITHUB_RUN_ID, GITHUB_WORKFLOW_REF) and the artifact, which `charter github report` verifies",
    )
    record.add_argument("--artifact-digest", metavar="DIGEST", help="upload-artifact's `artifact-digest` output")
    record.set_defaults(run=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    from compiler.commands.evidence_record import Unusable, file_records, read_report, to_record
    from compiler.core import repofs
    from compiler.stages.evidence.store import stops_measurement
    from compiler.stages.pipeline import check_path, current_date

    root = project_directory(args.project, "charter evidence record")
    if root is None:
        return exit_codes.USAGE
    checked = check_path(root)
    broken = [d for d in checked.diagnostics if stops_measurement(d, checked.input)]
    if broken or checked.resolved is None:
        print(
            f"charter evidence record: {args.project}: the specs have {len(broken)} error(s); run `charter check`",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    try:
        origin = _origin(args)
        records = [to_record(read_report(Path(p)), p, checked.resolved, current_date(), origin) for p in args.reports]
        filed = file_records(root, records)
    except Unusable as error:
        print(f"charter evidence record: {error}", file=sys.stderr)
        return exit_codes.USAGE
    except repofs.Refused as refused:
        print(f"charter evidence record: {refused.relative}: not written: {refused.reason}", file=sys.stderr)
        return exit_codes.USAGE
    for item in filed:
        entry = checked.evidence.get(item.record.model)
        stale = (
            entry is not None
            and item.record.version == entry.version
            and item.record.judged.digest != entry.today.digest
        )
        note = " (judged other specs than today's: stale)" if stale else ""
        print(f"recorded {item.path}: {item.record.gate} gate {item.record.verdict}{note}")
    return exit_codes.OK


def _origin(args: argparse.Namespace) -> Any:
    """The run and artifact the one report came from, when the workflow says (`--artifact`, `--artifact-digest`)."""
    import os

    from compiler.commands.evidence_record import Unusable, origin_in_actions

    if args.artifact is None and args.artifact_digest is None:
        return None
    if args.artifact and args.artifact_digest == "":
        raise Unusable(
            "--artifact-digest is empty: the upload step gave no `artifact-digest` output "
            "(actions/upload-artifact v4.6 or later gives it), so the record could not be verified"
        )
    if not (args.artifact and args.artifact_digest):
        raise Unusable("--artifact and --artifact-digest go together: the artifact's name and its digest")
    if len(args.reports) != 1:
        raise Unusable("--artifact names the artifact of one report: record one report at a time")
    return origin_in_actions(os.environ, args.artifact, args.artifact_digest)
