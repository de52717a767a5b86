"""`charter deploy analyze`: judge one step of a push-mode KServe canary on Prometheus, as Argo Rollouts would.
`charter deploy shadow`: judge a rollout's shadow window on Prometheus, as a report `charter evidence record`
files as evidence of the version (compiler/gates/shadow.py).

The deploy job runs it after each step's pause. The queries and their bounds come from the specs (the model's
`rollout.analysis`, rendered by the same code as the AnalysisTemplate), never from the command line; the one
value from the cluster, the canary revision, is checked to be KServe's name for it (`<model>-predictor-<n>`).

Exit codes: 0 every metric within its bounds; 1 a metric beyond one (CH770) or not measured (CH771, fail
closed: the job rolls back either way); 2 the specs hold no such rollout step (CH772). `shadow`: 0 pass; 1 a
metric beyond its bound (CH780) or not measured (CH781); 2 the specs hold no such shadow (CH782).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

from compiler.commands.common import project_directory
from compiler.core import exit_codes
from compiler.reporters import choices
from compiler.reporters.gate import OWN_FORMATS

PREFIX = "charter deploy analyze"
TIMEOUT_SECONDS = 10.0
BEYOND_BOUND = "CH770"
NOT_MEASURED = "CH771"
NO_SUCH_STEP = "CH772"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    deploy = commands.add_parser(
        "deploy",
        help="what push-mode deploy jobs run: the analysis of a canary step, the evidence of a shadow window",
        description="Commands the generated deploy jobs run. Exit codes: 0 pass, 1 fail (or no verdict), 2 unusable.",
    )
    sub = deploy.add_subparsers(dest="deploy_command", metavar="COMMAND", required=True)
    analyze = sub.add_parser(
        "analyze",
        help="measure a KServe canary step on Prometheus with the rollout's analysis",
        description=(
            "Query the Environment's Prometheus (GET /api/v1/query) with the model's rollout analysis (error "
            "rate, latency, online metrics) on the canary revision's pods, and compare each result with its "
            "bounds. Fails closed: a metric Prometheus cannot measure fails the step."
        ),
    )
    analyze.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory (default: .)")
    analyze.add_argument("--model", required=True, metavar="NAME", help="the Model spec")
    analyze.add_argument("--environment", required=True, metavar="NAME", help="the Environment it deploys to")
    analyze.add_argument("--step", required=True, type=int, metavar="N", help="the rollout step, from 1")
    analyze.add_argument(
        "--revision", required=True, metavar="REVISION", help="the canary's revision, as KServe names it"
    )
    _add_shadow(sub)


def _add_shadow(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    shadow = sub.add_parser(
        "shadow",
        help="judge a rollout's shadow window on Prometheus and write a report to record as evidence",
        description=(
            "Query the Environment's Prometheus (GET /api/v1/query) with the AnalysisTemplate <model>-shadow's "
            "queries over the shadow window, on the candidate's and the stable ReplicaSet's pods, and judge each "
            "result against the spec's bounds. Fails closed: a metric Prometheus cannot measure fails the report. "
            "`charter evidence record` files the report (--report) as evidence of the version."
        ),
    )
    shadow.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory (default: .)")
    shadow.add_argument("--model", required=True, metavar="NAME", help="the Model spec")
    shadow.add_argument("--environment", required=True, metavar="NAME", help="the Environment it deploys to")
    shadow.add_argument(
        "--canary-hash", required=True, metavar="HASH", help="the candidate's pod-template hash (currentPodHash)"
    )
    shadow.add_argument(
        "--stable-hash", required=True, metavar="HASH", help="the stable ReplicaSet's pod-template hash (stableRS)"
    )
    shadow.add_argument("--report", metavar="FILE", help="write the JSON report to FILE")
    shadow.add_argument("--summary", metavar="FILE", help="write the Markdown summary to FILE")
    shadow.add_argument(
        "--format",
        "-f",
        choices=choices(OWN_FORMATS),  # its report is a gate's: the same renderings as `charter gate`
        default="text",
        help="what to print: the verdict (text, default), the report (json), the summary (markdown), or the "
        "checks as findings in any other format",
    )


def run(args: argparse.Namespace) -> int:
    if args.deploy_command == "shadow":
        return _run_shadow(args)
    path = project_directory(args.path, PREFIX)
    if path is None:
        return exit_codes.USAGE
    plan = _plan(path, args)
    if isinstance(plan, str):
        print(f"{PREFIX}: {NO_SUCH_STEP} {plan}", file=sys.stderr)
        return exit_codes.USAGE
    failures = 0
    for metric in plan.metrics:
        verdict = _judge(plan, metric)
        failures += verdict is not None
        print(verdict or _passed(plan, metric), file=sys.stderr if verdict else sys.stdout)
    if failures:
        print(f"{PREFIX}: step {plan.step} of {plan.model} in {plan.environment} failed: roll back", file=sys.stderr)
        return 1
    print(f"{PREFIX}: step {plan.step} of {plan.model} in {plan.environment} passed its analysis")
    return 0


@dataclass(frozen=True)
class _Plan:
    model: str
    environment: str
    step: int
    weight: int
    address: str
    metrics: list[dict[str, Any]]


def _plan(path: Any, args: argparse.Namespace) -> _Plan | str:
    """What to measure for this step, from the specs; a sentence when they hold no such thing."""
    from compiler.core.models import Environment, Model
    from compiler.stages import analysis_view, check_path

    resolved = check_path(path).resolved
    model = resolved.get("Model", args.model) if resolved else None
    env = resolved.get("Environment", args.environment) if resolved else None
    if model is None or not isinstance(model.model, Model):
        return f"no valid Model named `{args.model}` in {args.path}"
    if env is None or not isinstance(env.model, Environment):
        return f"no valid Environment named `{args.environment}` in {args.path}"
    deployment = next((d for d in model.model.spec.deployments if d.environment == args.environment), None)
    if deployment is None or deployment.rollout is None:
        return f"Model `{args.model}` has no `rollout` in its deployment to `{args.environment}`"
    serving = model.model.spec.serving
    if serving is None or serving.runtime != "kserve":
        return f"Model `{args.model}` is not served by KServe: Argo Rollouts runs its analysis in the cluster"
    if not 1 <= args.step <= len(deployment.rollout.steps):
        return f"the rollout of `{args.model}` has steps 1 to {len(deployment.rollout.steps)}, not {args.step}"
    if env.model.spec.prometheus is None:
        return f"Environment `{args.environment}` names no `prometheus`"
    if re.fullmatch(rf"{re.escape(args.model)}-predictor-[0-9]{{1,9}}", args.revision) is None:
        return f"`{args.revision[:80]}` is not a KServe revision of `{args.model}` (`{args.model}-predictor-<n>`)"
    # KServe's revision pods are `<revision>-deployment-<hash>-<suffix>`: the Argo canary pattern
    # `<name>-{{args.canary-hash}}-.*` with the hash replaced by `predictor-<n>-deployment`.
    pods_hash = args.revision[len(args.model) + 1 :] + "-deployment"
    view = analysis_view(args.model, deployment.rollout.analysis, env.model.spec.prometheus)
    metrics = [
        {
            **metric,
            "query": metric["query"]
            .replace("{{args.namespace}}", env.model.spec.namespace)
            .replace("{{args.canary-hash}}", pods_hash),
        }
        for metric in view["metrics"]
    ]
    weight = deployment.rollout.steps[args.step - 1].weight
    return _Plan(args.model, args.environment, args.step, weight, env.model.spec.prometheus, metrics)


def _judge(plan: _Plan, metric: dict[str, Any]) -> str | None:
    """None when the metric is within its bounds; otherwise the message that names it, its value and the bound."""
    from compiler.integrations.prometheus import PrometheusError, instant

    where = f"{metric['name']} of {plan.model} in {plan.environment} at step {plan.step} ({plan.weight}%)"
    try:
        value = instant(plan.address, metric["query"], TIMEOUT_SECONDS)
    except PrometheusError as error:
        return f"{PREFIX}: {NOT_MEASURED} {where} not measured, which fails the step: {error}"
    low, high = metric["min"], metric["max"]
    if math.isnan(value):
        return f"{PREFIX}: {BEYOND_BOUND} {where} measured NaN (no requests in the window?), beyond {metric['label']}"
    if high is not None and not value <= high:
        return f"{PREFIX}: {BEYOND_BOUND} {where} measured {value:g}, above the bound {high!r}"
    if low is not None and not value >= low:
        return f"{PREFIX}: {BEYOND_BOUND} {where} measured {value:g}, below the bound {low!r}"
    return None


def _passed(plan: _Plan, metric: dict[str, Any]) -> str:
    return f"{PREFIX}: {metric['name']} of {plan.model} in {plan.environment} within {metric['label']}"


def _run_shadow(args: argparse.Namespace) -> int:
    """The shadow window's report: measured and stamped with what it judged, or an error (exit 2) naming why."""
    from compiler.core.gate_report import GateReport
    from compiler.gates.errors import UnusableInput
    from compiler.gates.judged import stamp
    from compiler.gates.project import load_project
    from compiler.gates.report import publish
    from compiler.gates.shadow import ShadowOptions, build

    options = ShadowOptions(args.model, args.environment, args.canary_hash, args.stable_hash)
    try:
        project = load_project(args.path)
        report = build(project, options)
        stamp(report, project, args.model)
    except UnusableInput as error:
        report = GateReport("shadow", "unusable input", error=str(error))
        print(f"charter deploy shadow: {report.error}", file=sys.stderr)
    return publish(report, report_path=args.report, summary_path=args.summary, fmt=args.format)
