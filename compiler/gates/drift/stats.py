"""Distribution-shift statistics, in NumPy: PSI, two-sample KS, chi-squared, total variation.

PSI binning (numbers): the bin edges are the reference sample's deciles
(`numpy.quantile`, linear interpolation, 10 bins by default), duplicates
dropped, so heavily tied features get fewer, wider bins; bins are closed on
the right, (-inf, q1], (q1, q2], ..., (qk, inf), so values outside the
reference range land in the outer bins. Nulls, when either sample has any,
are one more bin. Proportions are of all rows, and only a proportion of
exactly 0 is replaced by `PSI_EPSILON` (1e-4), so an empty bin adds a large
but finite term (as evidently does); a small proportion that is not zero is
used as it is:

    PSI = sum over bins of (current - reference) * ln(current / reference)

Categories: one bin per category seen in either sample (nulls included).
KS is scipy.stats.ks_2samp's statistic: the largest distance between the two
empirical distribution functions; its p-value is Kolmogorov's asymptotic one
(scipy.stats.kstwobign.sf(sqrt(n m / (n + m)) D)). The Wasserstein distance is
scipy.stats.wasserstein_distance divided by the reference's standard deviation
(at least 0.001), as evidently normalises it; Jensen-Shannon is
scipy.spatial.distance.jensenshannon (natural logarithm) and Hellinger
sqrt(1/2 sum (sqrt p - sqrt q)^2), both over the same bins as PSI. Chi-squared is the test of homogeneity on
the 2 x k table of counts, without continuity correction (as
scipy.stats.chi2_contingency(correction=False)), its p-value from the
regularised upper incomplete gamma function.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PSI_EPSILON = 1e-4
DEFAULT_BINS = 10

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Bins:
    edges: Floats
    reference: Counts
    current: Counts
    labels: list[str]


def quantile_edges(reference: Floats, bins: int = DEFAULT_BINS) -> Floats:
    if reference.size == 0:
        return np.zeros(0)
    inner = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    return np.unique(np.quantile(reference, inner))


def bin_counts(values: Floats, edges: Floats) -> Counts:
    return np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1).astype(np.int64)


def numeric_bins(
    reference: Floats, current: Floats, reference_nulls: int, current_nulls: int, bins: int = DEFAULT_BINS
) -> Bins:
    edges = quantile_edges(reference, bins)
    return labelled(edges, bin_counts(reference, edges), bin_counts(current, edges), reference_nulls, current_nulls)


def labelled(edges: Floats, ref: Counts, cur: Counts, reference_nulls: int, current_nulls: int) -> Bins:
    """The bins over `edges`, labelled, with the nulls as one more bin when either side has any (the same
    for counts made here and counts a server made, drift/histogram.py)."""
    shown = [f"{x:.6g}" for x in edges]
    labels = [f"≤ {shown[0]}"] if shown else ["all"]
    labels += [f"({a}, {b}]" for a, b in itertools.pairwise(shown)]
    if shown:
        labels.append(f"> {shown[-1]}")
    if reference_nulls or current_nulls:
        ref = np.append(ref, reference_nulls)
        cur = np.append(cur, current_nulls)
        labels.append("(missing)")
    return Bins(edges, ref, cur, labels)


def psi(reference: Counts, current: Counts, epsilon: float = PSI_EPSILON) -> float:
    r = reference / max(int(reference.sum()), 1)
    c = current / max(int(current.sum()), 1)
    r = np.where(r == 0, epsilon, r)
    c = np.where(c == 0, epsilon, c)
    return float(np.sum((c - r) * np.log(c / r)))


def ks_statistic(reference: Floats, current: Floats) -> float:
    """scipy.stats.ks_2samp(reference, current).statistic."""
    if reference.size == 0 or current.size == 0:
        return math.nan
    a = np.sort(reference)
    b = np.sort(current)
    everything = np.concatenate((a, b))
    cdf_a = np.searchsorted(a, everything, side="right") / a.size
    cdf_b = np.searchsorted(b, everything, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Kolmogorov's limiting distribution: P(K > sqrt(n m / (n + m)) D), scipy.stats.kstwobign.sf."""
    if n == 0 or m == 0 or math.isnan(statistic):
        return math.nan
    x = math.sqrt(n * m / (n + m)) * statistic
    if x <= 0:
        return 1.0
    if x < 1.18:  # the theta-function form converges fast for small x (Numerical Recipes, 6.14)
        y = math.exp(-(math.pi**2) / (8 * x * x))
        cdf = math.sqrt(2 * math.pi) / x * sum(y ** ((2 * k - 1) ** 2) for k in range(1, 8))
        return max(0.0, 1.0 - cdf)
    terms = (math.exp(-2 * k * k * x * x) * (1.0 if k % 2 else -1.0) for k in range(1, 101))
    return max(0.0, 2.0 * math.fsum(terms))


def wasserstein_normed(reference: Floats, current: Floats) -> float:
    """scipy.stats.wasserstein_distance(reference, current) / max(std(reference), 0.001), as evidently."""
    if reference.size == 0 or current.size == 0:
        return math.nan
    a = np.sort(reference)
    b = np.sort(current)
    everything = np.sort(np.concatenate((a, b)))
    widths = np.diff(everything)
    cdf_a = np.searchsorted(a, everything[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, everything[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * widths)) / max(float(np.std(reference)), 1e-3)


def jensen_shannon(reference: Counts, current: Counts) -> float:
    """scipy.spatial.distance.jensenshannon of the two distributions (natural logarithm): 0 to sqrt(ln 2)."""
    p = reference / max(int(reference.sum()), 1)
    q = current / max(int(current.sum()), 1)
    m = (p + q) / 2
    return math.sqrt(max(0.0, (_kl(p, m) + _kl(q, m)) / 2))


def _kl(p: Floats, q: Floats) -> float:
    present = p > 0
    return float(np.sum(p[present] * np.log(p[present] / q[present])))


def hellinger(reference: Counts, current: Counts) -> float:
    """The Hellinger distance of the two distributions, 0 to 1."""
    p = reference / max(int(reference.sum()), 1)
    q = current / max(int(current.sum()), 1)
    return float(math.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def total_variation(reference: Counts, current: Counts) -> float:
    """Half the L1 distance between the two distributions: the largest gap in the probability of any set."""
    r = reference / max(int(reference.sum()), 1)
    c = current / max(int(current.sum()), 1)
    return float(0.5 * np.sum(np.abs(r - c)))


def chi2_homogeneity(reference: Counts, current: Counts) -> tuple[float, int, float]:
    """(statistic, degrees of freedom, p-value) of the 2 x k table; empty categories dropped."""
    table = np.vstack((reference, current)).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or np.any(table.sum(axis=1) == 0):
        return 0.0, max(table.shape[1] - 1, 0), 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return statistic, dof, chi2_sf(statistic, dof)


def small_expected_counts(reference: Counts, current: Counts) -> tuple[int, int, bool]:
    """(cells whose expected count is below 5, cells, whether Cochran's rule holds) of the 2 x k table.

    Cochran's rule: the chi-squared approximation is trusted when no expected count is below 1 and at most
    20% are below 5; otherwise its p-value can be far off, and the report says so."""
    table = np.vstack((reference, current)).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.size == 0 or np.any(table.sum(axis=1) == 0):
        return 0, int(table.size), True
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    small = int(np.sum(expected < 5))
    return small, int(expected.size), bool(np.all(expected >= 1) and small <= 0.2 * expected.size)


def chi2_sf(statistic: float, dof: int) -> float:
    """P(X > statistic) for X ~ chi-squared(dof)."""
    if statistic <= 0:
        return 1.0
    return gammaincc(dof / 2.0, statistic / 2.0)


def gammaincc(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) (Numerical Recipes, 6.2)."""
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        for _ in range(100_000):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_prefix) * h
