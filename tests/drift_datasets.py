"""The data sets of Charter's drift tests, built from NumPy and pandas alone (issue 24).

Imported by the tests (pandas 3) and by scripts/evidently_fixtures.py in `.venv-evidently` (pandas 2), so
evidently and Charter are measured on the same values; each data set's digest is recorded beside evidently's
numbers and checked by the tests, so a change in how a data set is drawn cannot pass unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Pair = tuple[pd.DataFrame, pd.DataFrame]


def traffic(n: int, seed: int, shift: float = 0.0, mix: float = 0.0) -> pd.DataFrame:
    """Log-normal incomes (1% missing), three segments and a month of timestamps (tests/test_gates_drift.py)."""
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.5 + shift, 0.5, n), 2)
    income[rng.random(n) < 0.01] = np.nan
    segment = rng.choice(["a", "b", "c"], size=n, p=[0.5 - mix, 0.3, 0.2 + mix])
    seen = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s")
    return pd.DataFrame({"income": income, "segment": segment, "seen": seen})


def scored_traffic(n: int, seed: int, shift: float = 0.0, mix: float = 0.0, label: float | None = None) -> pd.DataFrame:
    """Normal incomes, three segments, a score and maybe a label (tests/test_gates_monitoring.py)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(50 + shift, 10, n).round(2),
            "segment": rng.choice(["a", "b", "c"], n, p=[0.5 - mix, 0.3, 0.2 + mix]),
            "score": rng.beta(2, 5 + 3 * shift, n).round(3),
        }
    )
    if label is not None:
        frame["y"] = (rng.random(n) < label).astype(np.int64)
    return frame


def categories(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"segment": [name for name, n in counts.items() for _ in range(n)]})


def shifted_traffic() -> Pair:
    """test_reported_statistics_equal_scipy_on_the_files: incomes shifted by 0.2, a tenth of segment a to c."""
    return traffic(5000, 1), traffic(4000, 2, shift=0.2, mix=0.1)


def per_feature_traffic() -> Pair:
    """test_each_column_is_judged_by_its_own_method_against_scipy: incomes up by 2, a tenth of segment a to c."""
    return scored_traffic(4000, 1), scored_traffic(3000, 2, shift=2.0, mix=0.1)


def rare_category() -> Pair:
    """Issue 24, 4: a category at 1 row in 1,000,000 in the reference and 2.5% in current (PSI 0.2538)."""
    return categories({"a": 999_999, "b": 1}), categories({"a": 975, "b": 25})


def psi_by_hand() -> Pair:
    return categories({"a": 50, "b": 30, "c": 20}), categories({"a": 40, "b": 30, "c": 30})


def empty_reference_bin() -> Pair:
    """A category the reference never saw: its proportion 0 is replaced by 1e-4, by evidently and by Charter."""
    return categories({"a": 100}), categories({"a": 90, "b": 10})


def small_samples() -> Pair:
    """Issue 24, 6: 6 against 5 values, KS 0.5."""
    return pd.DataFrame({"income": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}), pd.DataFrame({"income": [4.0, 5.0, 6.0, 7.0, 8.0]})


def small_expected_counts() -> Pair:
    """Issue 24, 6: a 2 x 3 table with expected counts below 5."""
    return categories({"a": 190, "b": 8, "c": 2}), categories({"a": 90, "b": 7, "c": 3})


# name -> (the two samples, the compared columns and their kind)
DATASETS: dict[str, tuple[Callable[[], Pair], dict[str, str]]] = {
    "shifted-traffic": (shifted_traffic, {"income": "numeric", "segment": "categorical"}),
    "per-feature-traffic": (per_feature_traffic, {"income": "numeric", "segment": "categorical"}),
    "rare-category": (rare_category, {"segment": "categorical"}),
    "psi-by-hand": (psi_by_hand, {"segment": "categorical"}),
    "empty-reference-bin": (empty_reference_bin, {"segment": "categorical"}),
    "small-samples": (small_samples, {"income": "numeric"}),
    "small-expected-counts": (small_expected_counts, {"segment": "categorical"}),
}


def digest(reference: pd.Series, current: pd.Series) -> str:
    """SHA-256 of both samples' values as text (nulls as `None`), the same under pandas 2 and 3."""
    text = "\n".join(
        "|".join("None" if pd.isna(v) else repr(v.item() if hasattr(v, "item") else v) for v in s.tolist())
        for s in (reference, current)
    )
    return hashlib.sha256(text.encode()).hexdigest()


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "evidently-drift.json"


def evidently(dataset: str, column: str) -> dict[str, Any]:
    """evidently's statistics on one column of one data set, as scripts/evidently_fixtures.py recorded them."""
    scores: dict[str, Any] = json.loads(FIXTURE.read_text("utf-8"))["datasets"][dataset][column]
    return scores
