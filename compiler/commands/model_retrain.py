"""What a retraining (`monitoring.retrain`) asks of a model.

`charter model candidate --model NAME --run N`: a retraining's candidate version, written into the model spec.

The version becomes `<version>-retrain.<N>` and the `serving.storageUri` segment that is the version becomes the
candidate's, so the retraining trains, measures and stores a new version and never touches the served one (versions
are immutable: a version's evidence and stored model are never replaced). Only those two scalars change in the file,
at the spans the loader located, so its comments and layout stay as the owners wrote them for their review.

`charter model performance-drop --model NAME --report FILE`: whether the production monitor's evaluation report
(`charter gate eval --production`) measured the `performanceDrop` trigger's metric worse than its threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compiler.commands.common import checked_model
from compiler.core import exit_codes
from compiler.core.positions import Span
from compiler.core.retrain_versions import base_version


def add_candidate_parser(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    candidate = actions.add_parser(
        "candidate",
        help="bump the model spec to a retraining's candidate version",
        description="Writes `<version>-retrain.<RUN>` as the model's version and replaces the version's path "
        "segment of `serving.storageUri` with it, in the spec file, changing nothing else. Exit 0 when written; "
        "1 when the specs have errors (see `charter check`); 2 when the model or its file cannot be used.",
    )
    candidate.add_argument("--model", required=True, metavar="NAME", help="the model to retrain")
    candidate.add_argument("--run", required=True, type=int, metavar="N", help="the retraining run's number")
    candidate.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
    candidate.set_defaults(handler=_run_candidate)


def candidate_version(version: str, run: int) -> str:
    """`<version>-retrain.<run>`; a retrained candidate keeps its base (`1.4.0-retrain.7` -> `1.4.0-retrain.9`)."""
    return f"{base_version(version)}-retrain.{run}"


def _run_candidate(args: argparse.Namespace) -> int:
    from compiler.core.diagnostics import exit_code

    found = checked_model(args.project, args.model, "charter model candidate")
    if found is None:
        return exit_codes.USAGE
    checked, model = found
    spec = checked.resolved.get("Model", args.model) if checked.resolved is not None else None
    if model is None or spec is None or args.run < 1:
        print(f"charter model candidate: no model `{args.model}` (or a run number below 1)", file=sys.stderr)
        return exit_codes.USAGE
    if exit_code(checked.diagnostics) != exit_codes.OK:
        print("charter model candidate: the specs have errors; `charter check` says which", file=sys.stderr)
        return exit_codes.FINDINGS
    version = candidate_version(model.spec.version, args.run)
    edits = [(spec.span(["spec", "version"]), version)]
    if model.spec.serving is not None:
        uri = model.spec.serving.storage_uri
        segments = uri.split("/")
        if model.spec.version not in segments:  # CH474 stops a retraining before this
            print(f"charter model candidate: {uri!r} has no segment `{model.spec.version}`", file=sys.stderr)
            return exit_codes.USAGE
        segments[len(segments) - 1 - segments[::-1].index(model.spec.version)] = version
        edits.append((spec.span(["spec", "serving", "storageUri"]), "/".join(segments)))
    path = Path(args.project) / spec.file
    text = path.read_text("utf-8")
    path.write_text(replace_scalars(text, edits), "utf-8")
    print(f"charter model candidate: {args.model} {model.spec.version} -> {version} in {spec.file}")
    return exit_codes.OK


def replace_scalars(text: str, edits: list[tuple[Span, str]]) -> str:
    """`text` with each located scalar replaced by a double-quoted one (JSON's quoting is valid YAML), last first so
    earlier spans stay where they were."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for span, value in sorted(edits, key=lambda edit: (edit[0].line, edit[0].column), reverse=True):
        start = starts[span.line - 1] + span.column - 1
        end = starts[span.end_line - 1] + span.end_column - 1
        text = text[:start] + json.dumps(value) + text[end:]
    return text


def add_drop_parser(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    drop = actions.add_parser(
        "performance-drop",
        help="whether production performance dropped past the retraining trigger's threshold",
        description="Reads the report of `charter gate eval --production` and compares the value it measured of "
        "`monitoring.retrain.triggers.performanceDrop.metric` (on the whole data) with its threshold: worse is "
        "below it for a metric the suite bounds with `min`, above it for one bounded with `max`. Exit 0: no drop; "
        "1: a drop (retrain); 2: no such trigger, or a report without the metric's value.",
    )
    drop.add_argument("--model", required=True, metavar="NAME", help="the model whose trigger judges the report")
    drop.add_argument("--report", required=True, metavar="FILE", help="the production evaluation gate's report")
    drop.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
    drop.set_defaults(handler=_run_drop)


def _run_drop(args: argparse.Namespace) -> int:
    found = checked_model(args.project, args.model, "charter model performance-drop")
    if found is None:
        return exit_codes.USAGE
    monitoring = found[1].spec.monitoring if found[1] is not None else None
    drop = monitoring.retrain.triggers.performance_drop if monitoring and monitoring.retrain else None
    if drop is None:
        print(f"charter model performance-drop: model `{args.model}` has no performanceDrop trigger", file=sys.stderr)
        return exit_codes.USAGE
    try:
        report = json.loads(Path(args.report).read_text("utf-8"))
        # The report leaves out what is None: `slice` on the whole data, `min` of a bound from above.
        measured = [m for m in report["metrics"] if m["metric"] == drop.metric and m.get("slice") is None]
        value, floor = measured[0]["value"], measured[0].get("min")
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        print(
            f"charter model performance-drop: {args.report} holds no value of {drop.metric}: {error!r}", file=sys.stderr
        )
        return exit_codes.USAGE
    if not isinstance(value, int | float) or isinstance(value, bool):
        print(f"charter model performance-drop: {drop.metric} was not measured ({value!r})", file=sys.stderr)
        return exit_codes.USAGE
    higher_is_better = floor is not None
    dropped = value < drop.threshold if higher_is_better else value > drop.threshold
    side = "below" if higher_is_better else "above"
    verdict = f"{side} the threshold {drop.threshold}: retrain" if dropped else f"not {side} {drop.threshold}"
    print(f"charter model performance-drop: {drop.metric} in production is {value}, {verdict}")
    return exit_codes.FINDINGS if dropped else exit_codes.OK
