"""`charter evidence record [--project DIR] REPORT...`: file gate reports as evidence of model versions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compiler.commands.common import project_directory
from compiler.core import exit_codes

# What makes an evaluation verdict say nothing about today's bounds (eu-ai-act-evidence's second rule).
STALE_WHEN_CHANGED = ("suite", "evaluation-data")


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    evidence = commands.add_parser("evidence", help="evidence of what the gates measured, per model version")
    evidence.set_defaults(run=run)
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
    record.set_defaults(handler=_run_record)
    require = actions.add_parser(
        "require",
        help="exit 1 unless the model's current version has passing, current evaluation evidence",
        description="What the deploy jobs run before they touch a cluster: evidence gates promotion, not "
        "rendering. Exit 0 when evidence/<model>/<version>/eval.json of the version the specs name has verdict "
        "pass and was measured against today's suite and evaluation data; 1 when not; 2 when the specs or the "
        "model cannot be read.",
    )
    require.add_argument("--model", required=True, metavar="NAME", help="the model to promote")
    require.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
    require.add_argument(
        "--annotation",
        choices=("error", "notice"),
        default="error",
        help="the GitHub Actions annotation when the evidence does not pass: `error` where it stops a deploy "
        "(default), `notice` where it only decides that the version is trained and measured",
    )
    require.set_defaults(handler=_run_require)


def run(args: argparse.Namespace) -> int:
    """The subcommand the arguments name."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _run_record(args: argparse.Namespace) -> int:
    from compiler.core import repofs
    from compiler.evidence.record import Unusable, file_records, read_report, to_record
    from compiler.evidence.store import stops_measurement
    from compiler.stages import check_path, current_date

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

    from compiler.evidence.record import Unusable, origin_in_actions

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


def _run_require(args: argparse.Namespace) -> int:
    from compiler.evidence.store import stops_measurement
    from compiler.stages import check_path

    root = project_directory(args.project, "charter evidence require")
    if root is None:
        return exit_codes.USAGE
    checked = check_path(root)
    broken = [d for d in checked.diagnostics if stops_measurement(d, checked.input)]
    entry = checked.evidence.get(args.model)
    if broken or entry is None:
        why = f"the specs have {len(broken)} error(s)" if broken else f"no Model named `{args.model}`"
        print(f"charter evidence require: {args.project}: {why}; run `charter check`", file=sys.stderr)
        return exit_codes.USAGE
    found = entry.records.get("eval")
    where = f"{entry.directory or 'evidence'}/eval.json"
    if found is None:
        problem = f"no evaluation evidence for {args.model} {entry.version} ({where})"
    elif found.verdict != "pass":  # recomputed for today's model and bounds: the record's own word is not proof
        problem = f"the evaluation evidence for {args.model} {entry.version} has verdict `{found.verdict}`"
    elif stale := [part for part in found.changed if part in STALE_WHEN_CHANGED]:
        problem = f"the evaluation evidence for {args.model} {entry.version} was measured against another " + (
            " and ".join(stale) + " than today's"
        )
    else:
        print(f"charter evidence require: {args.model} {entry.version}: evaluation evidence passes ({where})")
        return exit_codes.OK
    if args.annotation == "notice":
        print(
            f"::notice title=charter evidence::{problem}: the version is trained and measured; it deploys once its "
            "evidence pull request is merged",
            file=sys.stderr,
        )
        return exit_codes.FINDINGS
    print(
        f"::error title=charter evidence::{problem}: not promoted. Merge the model pipeline's evidence pull "
        "request (or run `charter gate eval` and `charter evidence record`) first.",
        file=sys.stderr,
    )
    return exit_codes.FINDINGS
