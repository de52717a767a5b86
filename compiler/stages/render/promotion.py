"""How a push-mode deploy job promotes a version inside one environment: canary, bake, analysis, rollout, rollback.

The job (model-pipeline.yml.j2) first requires the version's evidence and verifies that the environment's GitHub
environment enforces its approvals (`charter github environments`); GitHub has paused it until they were given.
Then, with a canary:

1. Canary: the canary manifest takes `trafficPercent` of the traffic (KServe: the InferenceService with
   `canaryTrafficPercent`, a new revision beside the serving one; kubernetes: a `<name>-canary` Deployment behind
   the same Service), and becomes ready.
2. Bake: it serves its share for `bakeMinutes`.
3. Analysis: after the bake the canary must still be healthy (KServe: the InferenceService is Ready and its
   latest created revision is its latest ready one; kubernetes: the canary Deployment is available and none of
   its containers restarted). A failure stops the promotion.
4. Roll out: the environment's full manifests (KServe: without `canaryTrafficPercent`, all traffic to the new
   revision; kubernetes: the stable Deployment, then the canary removed).
5. Roll back, when any of the above failed after the canary went out: KServe's documented rollback
   (`canaryTrafficPercent: 0`, all traffic back to the revision that served before); kubernetes: the canary
   Deployment deleted and, if the stable one was changed, `kubectl rollout undo`.

Without a canary the job rolls out and waits; a kubernetes rollout that does not become ready is undone.
With a `rollout` (Argo Rollouts) the cluster runs the steps, the analysis and the rollback: the job applies the
Rollout and waits for the controller's verdict (`Healthy`: promoted; `Degraded`: aborted by its analysis).
A `rollout` on KServe (push mode only, CH461) is carried out by the job: each step applies its canary manifest
and holds it for its pause, then `charter deploy analyze` measures it on Prometheus with the rollout's analysis;
any failure rolls back as a KServe canary does.
With a `shadow` (push mode) the job measures the shadow window for evidence: it applies the Rollout, waits until
Argo Rollouts judged the window (or aborted), runs `charter deploy shadow` with the two ReplicaSets' hashes from
the Rollout's status, and uploads the report (`shadow-report`), which the job `shadow-evidence-<environment>`
records and proposes like the gates' reports; then it waits for Argo Rollouts' verdict as without one.
Every script is constant text: names reach it through `env:`, never as script text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.core.models.environment import Environment, EnvironmentSpec
from compiler.core.specs import Spec
from compiler.core.templating import yaml_scalar
from compiler.evidence import EVIDENCE_DIR
from compiler.stages.render.manifests import canary_dir

KUBECONFIG = "${{ runner.temp }}/kubeconfig"


def _kserve_revision_ready(after: str) -> str:
    """Shell: fail unless the InferenceService's latest created revision is its latest ready one (a canary that
    never became ready would otherwise pass, KServe serving the previous revision); sets `$created`."""
    return (
        """\
created=$(kubectl get --namespace "$NAMESPACE" "inferenceservice/$NAME" \\
  --output 'jsonpath={.status.components.predictor.latestCreatedRevision}')
ready=$(kubectl get --namespace "$NAMESPACE" "inferenceservice/$NAME" \\
  --output 'jsonpath={.status.components.predictor.latestReadyRevision}')
if [ -z "$created" ] || [ "$created" != "$ready" ]; then
  echo "::error title=charter canary::revision ${created:-?} is not ready after """
        + after
        + """ (ready: ${ready:-none})"
  exit 1
fi
"""
    )


_WAIT = {
    "kserve": 'kubectl wait --namespace "$NAMESPACE" --for=condition=Ready "inferenceservice/$NAME" --timeout=15m',
    "kubernetes": 'kubectl rollout status --namespace "$NAMESPACE" "deployment/$NAME" --timeout=15m',
    "kubernetes-canary": 'kubectl rollout status --namespace "$NAMESPACE" "deployment/$NAME-canary" --timeout=15m',
}
# Argo Rollouts steps, analyses and (on a failed analysis) aborts in the cluster; the job waits for its verdict.
# `observedGeneration` first: until the controller has seen the new spec, `Healthy` is the previous version's.
_WAIT["argo-rollouts"] = """\
generation=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.metadata.generation}')
while :; do
  observed=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.observedGeneration}')
  phase=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.phase}')
  if [ "$observed" = "$generation" ]; then
    case "$phase" in
      Healthy) echo "Argo Rollouts promoted $NAME: every step's analysis passed."; exit 0 ;;
      Degraded)
        message=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.message}')
        echo "::error title=charter rollout::$NAME aborted and rolled back by Argo Rollouts: $message"
        exit 1 ;;
    esac
  fi
  sleep "$POLL_SECONDS"
done"""
_ANALYSIS = {
    "kserve": """\
kubectl wait --namespace "$NAMESPACE" --for=condition=Ready "inferenceservice/$NAME" --timeout=60s
"""
    + _kserve_revision_ready("the bake")
    + """echo "The canary revision $created served its share and is ready."
""",
    "kubernetes": """\
kubectl rollout status --namespace "$NAMESPACE" "deployment/$NAME-canary" --timeout=60s
restarts=$(kubectl get pods --namespace "$NAMESPACE" --selector "charter.dev/model=$NAME,charter.dev/track=canary" \\
  --output 'jsonpath={.items[*].status.containerStatuses[*].restartCount}')
for count in $restarts; do
  if [ "$count" -gt 0 ]; then
    echo "::error title=charter canary::a canary container of $NAME restarted $count time(s) during the bake"
    exit 1
  fi
done
echo "The canary of $NAME served its share without a restart."
""",
}
_ROLLBACK = {
    "kserve": """\
kubectl patch --namespace "$NAMESPACE" "inferenceservice/$NAME" --type merge \\
  --patch '{"spec":{"predictor":{"canaryTrafficPercent":0}}}'
echo "::error title=charter rollback::$NAME in $NAMESPACE: all traffic back to the revision served before"
""",
    "kubernetes": """\
kubectl delete --namespace "$NAMESPACE" "deployment/$NAME-canary" --ignore-not-found
if [ "$ROLLED_OUT" != "skipped" ]; then
  kubectl rollout undo --namespace "$NAMESPACE" "deployment/$NAME"
fi
echo "::error title=charter rollback::$NAME in $NAMESPACE: the canary removed and the previous version kept"
""",
    "kubernetes-plain": """\
kubectl rollout undo --namespace "$NAMESPACE" "deployment/$NAME"
echo "::error title=charter rollback::$NAME in $NAMESPACE: the rollout failed; the previous version restored"
""",
}


# A `shadow` in push mode: once Argo Rollouts judged the window (its step index passed the inline analysis) or
# ended the rollout, the shadow window is measured again for evidence, on the pods of the ReplicaSets the Rollout
# names. A rollout that ended before the window's analysis (an experiment that failed), or the first version (no
# stable one beside it), mirrored nothing judged: nothing to record.
_SHADOW = """\
kubectl apply --server-side --field-manager=charter -f "$MANIFESTS"
generation=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.metadata.generation}')
while :; do
  observed=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.observedGeneration}')
  phase=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.phase}')
  step=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.currentStepIndex}')
  if [ "$observed" = "$generation" ]; then
    case "$phase" in Healthy | Degraded) break ;; esac
    if [ "${step:-0}" -ge "$JUDGED_AT" ]; then break; fi
  fi
  sleep "$POLL_SECONDS"
done
if [ "${step:-0}" -lt "$((JUDGED_AT - 1))" ]; then
  echo "The rollout ended ($phase) before its shadow window did: nothing was judged, nothing to record."
  exit 0
fi
candidate=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.currentPodHash}')
stable=$(kubectl get --namespace "$NAMESPACE" "rollout/$NAME" --output 'jsonpath={.status.stableRS}')
if [ -z "$stable" ] || [ "$candidate" = "$stable" ]; then
  echo "No other version served beside this one: nothing was mirrored, nothing to record."
  exit 0
fi
charter deploy shadow . --model "$NAME" --environment "$ENVIRONMENT" \\
  --canary-hash "$candidate" --stable-hash "$stable" --report shadow-report.json"""

# A push-mode KServe `rollout`: each step applies its canary manifest (`canaryTrafficPercent` at its weight) and
# holds it for its pause, then Charter
# measures the canary revision's pods on Prometheus with the rollout's analysis (`charter deploy analyze`: the
# queries and bounds come from the specs in the checkout; only the step number reaches it from here).
_KSERVE_STEP = (
    """\
kubectl wait --namespace "$NAMESPACE" --for=condition=Ready "inferenceservice/$NAME" --timeout=15m
sleep "$PAUSE_SECONDS"
"""
    + _kserve_revision_ready("step $STEP")
    + """charter deploy analyze . --model "$NAME" --environment "$ENVIRONMENT" --step "$STEP" --revision "$created"
"""
)


@dataclass(frozen=True)
class ShadowWindow:
    """A push-mode shadow: its share, its window, and the Rollout step index at which it has been judged."""

    percent: int
    minutes: int
    judged_at: int


def runtime_of(serving_runtime: str, rollout: object | None) -> str:
    """How a deploy job waits: for KServe, for a Deployment, or for Argo Rollouts' verdict on a Rollout."""
    return "argo-rollouts" if serving_runtime == "kubernetes" and rollout is not None else serving_runtime


@dataclass(frozen=True)
class Target:
    """Where one environment's job deploys a model."""

    environment: str
    namespace: str
    name: str
    manifest_dir: str
    runtime: str


def job(
    target: Target,
    env: EnvironmentSpec,
    before: EnvironmentSpec | None,
    gitops: bool,
    canary: int | None,
    bake: int,
    stepped: Sequence[tuple[int, int]] = (),
    shadow: ShadowWindow | None = None,
) -> dict[str, Any]:
    """The deploy (push) or promote (gitops) job of an environment: what it waits for, whether there is one, its
    steps. It waits for the job of the environment it promotes from, when that environment has one. `stepped`:
    a KServe `rollout`'s steps (weight, pause minutes), which a push-mode job drives and analyses; `shadow`: an
    Argo Rollouts shadow window the push-mode job measures for evidence."""
    if gitops and before is not None and not gated(before.approvals, before.promotes_from):
        before = None  # it syncs main on merge: no job to wait for
    steps = (
        gitops_steps(target.runtime, target.manifest_dir, target.environment, canary, bake)
        if gitops
        else kserve_rollout_steps(target, stepped)
        if stepped
        else deploy_steps(target.runtime, target.manifest_dir, target.namespace, target.name, canary, bake)
    )
    shadow = None if gitops else shadow
    if shadow is not None:
        steps = shadow_steps(target, shadow) + steps
    needs = ["evaluate"] + ([f"deploy-{env.promotes_from}"] if before is not None else [])
    return {
        "needs": needs,
        # The evidence on the commit passes (a gate that ran in this run and failed stops it: `failure()`); the
        # evidence this run measures reaches main in its pull request, whose merge deploys.
        "when": " && ".join(
            ["!cancelled() && !failure() && needs.recorded.outputs.evidence == 'passes'"]
            + [f"needs.{need}.result == 'success'" for need in needs[1:]]
        ),
        "gated": not gitops or gated(env.approvals, env.promotes_from),
        "steps": steps,
        "shadow": shadow,
    }


def shadow_artifact(environment: str) -> str:
    """The artifact of an environment's shadow report: one per environment, so that two never collide in a run."""
    return f"shadow-{environment}"


def shadow_steps(target: Target, shadow: ShadowWindow) -> list[dict[str, Any]]:
    """Before Argo Rollouts' verdict: the shadow window measured for evidence, and its report uploaded (whatever
    the verdict: a failed window is evidence too)."""
    names = [("NAMESPACE", yaml_scalar(target.namespace)), ("NAME", yaml_scalar(target.name))]
    values = [("ENVIRONMENT", yaml_scalar(target.environment)), ("JUDGED_AT", yaml_scalar(str(shadow.judged_at)))]
    measure = _step(
        f"Shadow: {shadow.percent}% of the requests mirrored for {shadow.minutes} min, then measured for evidence",
        _SHADOW,
        [("KUBECONFIG", KUBECONFIG), *names, *values, ("POLL_SECONDS", yaml_scalar("20"))],
        manifests=target.manifest_dir,
        id="shadow",
    )
    upload = {
        "name": "The shadow window's report",
        "id": "shadow-report",
        "if": "!cancelled() && steps.shadow.outcome != 'skipped' && hashFiles('shadow-report.json') != ''",
        "uses": "upload_artifact",
        "with": {"name": shadow_artifact(target.environment), "path": "shadow-report.json"},
        "env": [],
    }
    return [measure, upload]


def deploy_steps(
    runtime: str, manifest_dir: str, namespace: str, name: str, canary: int | None, bake_minutes: int
) -> list[dict[str, Any]]:
    """The steps after the cluster credentials, each {name, id, if, run, env: [(key, YAML scalar)]}."""
    target = [("KUBECONFIG", KUBECONFIG), ("NAMESPACE", yaml_scalar(namespace)), ("NAME", yaml_scalar(name))]
    kubernetes = runtime != "kserve"
    apply = 'kubectl apply --server-side --field-manager=charter -f "$MANIFESTS"\n'
    if runtime == "argo-rollouts":  # no rollback step: Argo Rollouts aborts and restores the stable version
        poll = [*target, ("POLL_SECONDS", yaml_scalar("20"))]
        return [
            _step(
                "Roll out: Argo Rollouts steps and analyses",
                apply + _WAIT[runtime],
                poll,
                manifests=manifest_dir,
                id="rollout",
            )
        ]
    if not canary:
        steps = [_step("Roll out", apply + _WAIT[runtime], target, manifests=manifest_dir, id="rollout")]
        if kubernetes:
            when = "failure() && steps.rollout.outcome == 'failure'"
            steps.append(_step("Roll back", _ROLLBACK["kubernetes-plain"], target, when=when))
        return steps
    wait_canary = _WAIT["kubernetes-canary" if kubernetes else "kserve"]
    full = apply + _WAIT[runtime]
    if kubernetes:
        full += '\nkubectl delete --namespace "$NAMESPACE" "deployment/$NAME-canary" --ignore-not-found'
    bake = [("BAKE_SECONDS", yaml_scalar(str(bake_minutes * 60)))]
    rollback_env = target + ([("ROLLED_OUT", "${{ steps.rollout.outcome }}")] if kubernetes else [])
    return [
        _step(
            f"Canary ({canary}% of traffic)",
            apply + wait_canary,
            target,
            manifests=f"{manifest_dir}/canary/",
            id="canary",
        ),
        _step(f"Bake ({bake_minutes} min)", 'sleep "$BAKE_SECONDS"', bake),
        _step(
            "Analysis: the canary stayed healthy",
            _ANALYSIS["kubernetes" if kubernetes else "kserve"],
            target,
            id="analysis",
        ),
        _step("Roll out", full, target, manifests=manifest_dir, id="rollout"),
        _step(
            "Roll back",
            _ROLLBACK["kubernetes" if kubernetes else "kserve"],
            rollback_env,
            when="failure() && steps.canary.outcome != 'skipped'",
        ),
    ]


def kserve_rollout_steps(target: Target, stepped: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """A KServe canary moved step by step (canaryTrafficPercent at each weight), each step judged on Prometheus
    after its pause; then all traffic to the new revision, or, on any failure, KServe's rollback."""
    names = [("NAMESPACE", yaml_scalar(target.namespace)), ("NAME", yaml_scalar(target.name))]
    base = [("KUBECONFIG", KUBECONFIG), *names, ("ENVIRONMENT", yaml_scalar(target.environment))]
    apply = 'kubectl apply --server-side --field-manager=charter -f "$MANIFESTS"\n'
    steps = []
    for number, (weight, pause) in enumerate(stepped, start=1):
        values = [("STEP", yaml_scalar(str(number))), ("PAUSE_SECONDS", yaml_scalar(str(pause * 60)))]
        steps.append(
            _step(
                f"Canary step {number}: {weight}% of traffic for {pause} min, then the analysis",
                apply + _KSERVE_STEP,
                [*base, *values],
                manifests=f"{target.manifest_dir}/{canary_dir(number)}/",
                id="canary" if number == 1 else f"step-{number}",
            )
        )
    full = apply + _WAIT["kserve"]
    steps.append(_step("Roll out", full, base[:3], manifests=target.manifest_dir, id="rollout"))
    when = "failure() && steps.canary.outcome != 'skipped'"
    steps.append(_step("Roll back", _ROLLBACK["kserve"], base[:3], when=when))
    return steps


def _step(
    name: str,
    run: str,
    env: list[tuple[str, str]],
    *,
    manifests: str | None = None,
    id: str | None = None,
    when: str | None = None,
) -> dict[str, Any]:
    listed = list(env) + ([("MANIFESTS", yaml_scalar(manifests))] if manifests else [])
    return {"name": name, "id": id, "if": when, "run": run.rstrip("\n"), "env": listed}


# --- gitops: the promotion is a protected job that moves the branch the environment's Application tracks ---

PROMOTED_PREFIX = "charter/promoted/"


def gated(approvals: int, promotes_from: str | None) -> bool:
    """Whether an environment is promoted by a job (approvals, an order) rather than synced from main on merge."""
    return approvals > 0 or promotes_from is not None


def merged_evidence(model: str, deploy_jobs: Sequence[object]) -> list[str]:
    """The model's evidence folder (its `paths:` entry covers all it holds), when the pipeline has deploy jobs:
    merging the evidence pull request starts the pipeline, which deploys the version without training it again.
    The folder of the model, not of its version: a version is free text, and the `recorded` job asks about the
    current one whatever the push touched."""
    return [f"{EVIDENCE_DIR}/{model}/"] if deploy_jobs else []


def verified_on_pull_requests(environments: Iterable[Spec]) -> bool:
    """Whether the pull-request workflow asks GitHub about the environments (`github report --environments`): when
    one requires approvals or is production, whose GitHub environment must enforce them (CH445-CH448)."""
    bodies = [spec.model.spec for spec in environments if isinstance(spec.model, Environment)]
    return any(env.approvals > 0 or env.tier == "production" for env in bodies)


def tracked_revision(approvals: int, promotes_from: str | None, environment: str) -> str:
    """What the environment's Argo CD Application syncs: its promotion branch, or main when nothing gates it."""
    return PROMOTED_PREFIX + environment if gated(approvals, promotes_from) else "main"


_PUSH = (
    'git -c "http.extraheader=AUTHORIZATION: basic $(printf \'x-access-token:%s\' "$GH_TOKEN" | base64 -w0)" \\\n'
    '  push --quiet --force origin "$REVISION:refs/heads/$BRANCH"\n'
)
_CANARY_COMMIT = {
    # KServe: the canary is the same InferenceService with canaryTrafficPercent, in place of the full one.
    "kserve": 'cp "$MANIFESTS/canary/inferenceservice.yaml" "$MANIFESTS/inferenceservice.yaml"\n',
    # kubernetes: the canary Deployment beside the serving one (Argo CD prunes it at the promotion).
    "kubernetes": 'cp "$MANIFESTS/canary/deployment.yaml" "$MANIFESTS/canary-deployment.yaml"\n',
}


def gitops_steps(
    runtime: str, manifest_dir: str, environment: str, canary: int | None, bake_minutes: int
) -> list[dict[str, Any]]:
    """The steps that move `charter/promoted/<environment>`: the canary commit and its bake, then the commit."""
    branch = [("BRANCH", yaml_scalar(PROMOTED_PREFIX + environment)), ("GH_TOKEN", "${{ github.token }}")]
    promote = _step(
        "Promote: the environment's Application syncs this commit", _PUSH, [*branch, ("REVISION", "${{ github.sha }}")]
    )
    if not canary:
        return [promote]
    commit = (
        _CANARY_COMMIT["kserve" if runtime == "kserve" else "kubernetes"]
        + 'git add --all -- "$MANIFESTS"\n'
        + 'git -c user.name="github-actions[bot]" \\\n'
        + '  -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \\\n'
        + '  commit --quiet --message "Canary of $GITHUB_SHA in $BRANCH"\n'
        + _PUSH
    )
    canary_env = [*branch, ("REVISION", yaml_scalar("HEAD")), ("MANIFESTS", yaml_scalar(manifest_dir))]
    bake = [("BAKE_SECONDS", yaml_scalar(str(bake_minutes * 60)))]
    return [
        _step(f"Canary ({canary}% of traffic): the Application syncs the canary", commit, canary_env, id="canary"),
        _step(f"Bake ({bake_minutes} min)", 'sleep "$BAKE_SECONDS"', bake),
        promote,
    ]
