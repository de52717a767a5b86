"""The drift gate's verdicts: which statistic judges each watched column, against which threshold, and whether
the data set as a whole drifted. Measuring is `compiler.gates.drift`; the statistics are `drift_stats`.

    method         numbers                          categories                     drift when
    psi            PSI over reference deciles       PSI over categories            above the threshold
    ks             KS statistic                     total variation distance       above
    chi2           chi-squared p-value (bins)       chi-squared p-value            below (a significance level)
    wasserstein    Wasserstein / std(reference)     Jensen-Shannon                 above
    jensenshannon  Jensen-Shannon over the bins     Jensen-Shannon                 above
    hellinger      Hellinger over the bins          Hellinger                      above

KS and Wasserstein compare the values that are present; the others compare rows, a missing value being a bin of
its own. Categories have no order, so the two that need one fall back to the distance named in the table.

`auto` chooses per column, after evidently's defaults: a reference of up to 1,000 rows gets a test (the KS
p-value for numbers, the chi-squared p-value for categories, drift below 0.05); a larger one a distance (the
normalised Wasserstein distance for numbers, Jensen-Shannon for categories, drift above 0.1), since with many rows
every test finds a difference too small to matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.core.models.model import Drift
from compiler.gates.drift import stats
from compiler.gates.errors import UnusableInput
from compiler.reporters.gate import show

# method -> (key for numbers, key for categories, name for numbers, name for categories)
_STATISTICS = {
    "psi": ("psi", "psi", "PSI", "PSI"),
    "ks": ("ks", "totalVariation", "KS statistic", "total variation (KS for categories)"),
    "chi2": ("chi2PValue", "chi2PValue", "chi2 p-value", "chi2 p-value"),
    "wasserstein": (
        "wasserstein",
        "jensenShannon",
        "Wasserstein (normalised)",
        "Jensen-Shannon (Wasserstein for categories)",
    ),
    "jensenshannon": ("jensenShannon", "jensenShannon", "Jensen-Shannon", "Jensen-Shannon"),
    "hellinger": ("hellinger", "hellinger", "Hellinger", "Hellinger"),
    "ks-p": ("ksPValue", "chi2PValue", "KS p-value", "chi2 p-value"),
}
_BELOW = ("chi2", "ks-p")
_ON_VALUES = ("ks", "wasserstein", "ks-p")
AUTO_TEST_ROWS = 1000
NOT_ENOUGH = "not enough data"


@dataclass(frozen=True)
class Rule:
    method: str
    threshold: float | None
    """None with `auto`, which chooses per column (`chosen`)."""

    def chosen(self, result: dict[str, Any]) -> Rule:
        if self.method != "auto":
            return self
        numeric = result["kind"] == "numeric"
        if result["sizes"]["rows"][0] <= AUTO_TEST_ROWS:
            return Rule("ks-p" if numeric else "chi2", 0.05)
        return Rule("wasserstein" if numeric else "jensenshannon", 0.1)


def rules(drift: Drift, watched: list[str]) -> dict[str, Rule]:
    """Each watched column's method and threshold: its `perFeature` entry, else the drift section's."""
    default = Rule(drift.method, drift.threshold)
    found = dict.fromkeys(watched, default)
    for entry in drift.per_feature:
        if entry.feature not in found:
            raise UnusableInput(
                f"monitoring.drift.perFeature names `{entry.feature}`, which is not watched",
                hint=f"watched: {', '.join(watched)}",
            )
        found[entry.feature] = Rule(entry.method, entry.threshold)
    return found


def distances(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> dict[str, Any]:
    """The statistics computed from two count vectors over the same bins."""
    chi2, dof, p_value = stats.chi2_homogeneity(reference, current)
    small, cells, reliable = stats.small_expected_counts(reference, current)
    return {
        "psi": stats.psi(reference, current),
        "chi2": chi2,
        "chi2Dof": dof,
        "chi2PValue": p_value,
        "chi2SmallExpected": small,
        "chi2Cells": cells,
        "chi2Reliable": reliable,
        "totalVariation": stats.total_variation(reference, current),
        "jensenShannon": stats.jensen_shannon(reference, current),
        "hellinger": stats.hellinger(reference, current),
    }


def decide(result: dict[str, Any], declared: Rule, min_size: int) -> None:
    """The column's verdict: drift, stable, or not enough data (fewer than `min_size` values on a side)."""
    rule = declared.chosen(result)
    assert rule.threshold is not None
    numeric = result["kind"] == "numeric"
    key_n, key_c, name_n, name_c = _STATISTICS[rule.method]
    key, name = (key_n, name_n) if numeric else (key_c, name_c)
    below = rule.method in _BELOW
    sizes = result["sizes"]
    on_values = numeric and rule.method in _ON_VALUES
    compared = sizes["values"] if on_values else sizes["rows"]
    result.update(
        method=rule.method if declared.method != "auto" else f"auto: {rule.method}",
        threshold=rule.threshold,
        statisticName=name,
        rule=f"{'p ≥' if below else '≤'} {show(rule.threshold)}",
        statistic=result[key],
        minSampleSize=min_size,
    )
    reference, current = compared
    if min(sizes["rows"]) >= min_size and sizes["values"][0] and not sizes["values"][1]:
        result.update(drift=True, verdict="drift", explanation="drifted: every current value is missing")
        return
    if min(compared) < min_size:
        what = "values" if on_values else "rows"
        result.update(
            drift=False,
            verdict=NOT_ENOUGH,
            explanation=f"not enough data: {reference:,} reference and {current:,} current {what}; "
            f"a verdict needs at least {min_size:,} on each side",
        )
        return
    value = float(result[key])
    drift = value < rule.threshold if below else value > rule.threshold
    result.update(drift=drift, verdict="drift" if drift else "stable")
    result["explanation"] = f"{'drifted' if drift else 'stable'}: {name} {show(value)}"
    if key == "chi2PValue" and not result["chi2Reliable"]:
        result["explanation"] += (
            f"; the p-value is approximate: {result['chi2SmallExpected']:,} of {result['chi2Cells']:,} "
            "expected counts are below 5 (Cochran's rule)"
        )


def dataset(results: list[dict[str, Any]], share: float | None) -> dict[str, Any]:
    """The share of judged columns that drifted, and whether the data set drifted: any column without
    `driftShare`, at least that share with it. Columns without enough data count in neither part of the share."""
    judged = [r for r in results if r["verdict"] != NOT_ENOUGH]
    drifted = [r for r in judged if r["drift"]]
    measured = len(drifted) / len(judged) if judged else 0.0
    verdict = bool(drifted) if share is None else bool(judged) and measured >= share
    return {"driftShare": measured, "driftShareThreshold": share, "datasetDrift": verdict}
