"""Shadow traffic of a `rollout`: live requests mirrored to the new version, and the comparison that judges it.

With `shadow`, the Rollout's steps begin (after an experiment, if any) with the canary scaled to `percent` of the
pods and Argo Rollouts' `setMirrorRoute`: the traffic router (Istio: the model's VirtualService) copies `percent`
of the requests to the canary Service; users are answered by the stable version, the copies' answers dropped.
After `durationMinutes` an inline analysis (the AnalysisTemplate `<model>-shadow`) measures, over that window, the
candidate's error rate and latency against the analysis' bounds and each `compare` metric as the candidate's value
minus the stable version's, within `maxDifference` either way; a failure aborts the rollout before any user is
answered by the new version. The mirror is then removed and the canary steps begin.

`charter deploy analyze --shadow` runs the same queries (from `shadow_view`) for the evidence of a version.
"""

from __future__ import annotations

from typing import Any

from compiler.core.models.rollout import RolloutStrategy, Shadow

MIRROR_ROUTE = "mirror"
PRIMARY_ROUTE = "primary"


def pods(name: str, track: str) -> str:
    """The regular expression of the pods of the canary's or the stable ReplicaSet (`<rollout>-<hash>-<suffix>`),
    the hash an argument of the AnalysisTemplate."""
    return f"{name}-{{{{args.{track}-hash}}}}-.*"


def shadow_view(name: str, rollout: RolloutStrategy, address: str, service: list[dict[str, Any]]) -> dict[str, Any]:
    """The AnalysisTemplate of the shadow window: `service` (the candidate's error rate and latency, measured over
    the window by the caller's queries), then each compared metric as candidate minus stable.

    One measurement per metric, after the window (no interval), and no failure tolerated: the window is the
    measurement."""
    shadow = rollout.shadow
    assert shadow is not None
    metrics = [dict(metric) for metric in service]
    queries = {metric.name: metric.query for metric in rollout.analysis.metrics}
    for comparison in shadow.compare:
        bound = comparison.max_difference
        metrics.append(
            {
                "name": comparison.metric,
                "query": f"({_placed(queries[comparison.metric], name, 'canary')}) - "
                f"({_placed(queries[comparison.metric], name, 'stable')})",
                "condition": f"result[0] >= {-bound!r} && result[0] <= {bound!r}",
                "label": f"candidate minus stable within ±{bound!r}",
                "min": -bound,
                "max": bound,
            }
        )
    return {
        "name": f"{name}-shadow",
        "purpose": f"What decides the shadow traffic of {name}: the candidate on mirrored requests against the "
        f"stable version, over the {shadow.duration_minutes} min window",
        "args": ["canary-hash", "stable-hash", "namespace"],
        "address": address,
        "interval": None,
        "failure_limit": 0,
        "metrics": metrics,
    }


def window(shadow: Shadow) -> str:
    """The range of the shadow's rates: the whole time the mirror ran."""
    return f"{shadow.duration_minutes}m"


def _placed(query: str, name: str, track: str) -> str:
    return query.replace("{{pods}}", pods(name, track)).replace("{{namespace}}", "{{args.namespace}}")


# The shadow's steps: setCanaryScale, setMirrorRoute, pause, analysis, setMirrorRoute (removed), setCanaryScale.
_SHADOW_STEPS = 6
_JUDGED = 4  # the mirror's removal: the Rollout reaches it once the window's analysis passed


def starting_step(rollout: RolloutStrategy) -> int:
    """The index of the first canary step (`setWeight`): the background analysis starts there, since until then
    the canary's pods answer no user (an experiment's pods are its own; a shadow's answers are dropped)."""
    return (1 if rollout.experiment is not None else 0) + (_SHADOW_STEPS if rollout.shadow is not None else 0)


def judged_at(rollout: RolloutStrategy) -> int:
    """The Rollout's `currentStepIndex` once the shadow window was judged (the mirror's removal)."""
    return (1 if rollout.experiment is not None else 0) + _JUDGED


def experiment_weight(rollout: RolloutStrategy, replicas: int) -> int | None:
    """With a traffic router an experiment's pods take only the requests routed to them: each side gets the share
    its pods would take of the Service's traffic without one (its replicas among all the pods), at least 1%."""
    experiment = rollout.experiment
    if experiment is None:
        return None
    return max(1, round(100 * experiment.replicas / (replicas + 2 * experiment.replicas)))


def summary(rollout: RolloutStrategy) -> str:
    """What the model card says of the shadow window, before the canary steps."""
    shadow = rollout.shadow
    if shadow is None:
        return ""
    compared = ", ".join(f"{c.metric} within ±{c.max_difference!r} of the serving one's" for c in shadow.compare)
    return (
        f"Shadow traffic next: {shadow.percent}% of live requests mirrored to the new version for "
        f"{shadow.duration_minutes} min (its answers dropped), its error rate and latency held to the analysis' "
        f"bounds{'; ' + compared if compared else ''}, or the rollout stops. "
    )
