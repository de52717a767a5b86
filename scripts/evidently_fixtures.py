"""evidently's drift statistics on the data sets of Charter's drift tests: tests/fixtures/evidently-drift.json.

Run with the python of `.venv-evidently` (`make evidently`; evidently 0.7 needs pandas below 3):

    .venv-evidently/bin/python scripts/evidently_fixtures.py [OUT]

The values come from evidently's own stattests, called as its column drift calls them: nulls dropped first,
the column typed numerical or categorical. tests/test_peer_evidently.py runs this again and requires the
committed file to be exactly what it writes, so the fixture is what evidently computes, never edited by hand.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # evidently's categorical Hellinger sums over a set of the categories: with the string hash randomised, the
    # order of the sum, and so the last bits of the result, would change from run to run
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})

import json
import warnings
from pathlib import Path
from typing import Any

import evidently
import pandas as pd
from evidently.legacy.calculations.stattests import (
    chi_stat_test,
    hellinger_stat_test,
    jensenshannon_stat_test,
    ks_stat_test,
    psi_stat_test,
    wasserstein_stat_test,
)
from evidently.legacy.core import ColumnType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from drift_datasets import DATASETS, digest  # noqa: E402

DEFAULT_OUT = ROOT / "tests" / "fixtures" / "evidently-drift.json"
TESTS = {
    "numeric": {
        "psi": psi_stat_test,
        "jensenShannon": jensenshannon_stat_test,
        "hellinger": hellinger_stat_test,
        "wasserstein": wasserstein_stat_test,
        "ksPValue": ks_stat_test,
    },
    "categorical": {
        "psi": psi_stat_test,
        "jensenShannon": jensenshannon_stat_test,
        "hellinger": hellinger_stat_test,
        "chisquarePValue": chi_stat_test,
    },
}


def column_scores(reference: pd.Series, current: pd.Series, kind: str) -> dict[str, float]:
    column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical
    scores = {}
    for name, stattest in TESTS[kind].items():
        # each test gets its own copies: evidently's Hellinger drops nulls in place
        result = stattest(reference.dropna().copy(), current.dropna().copy(), column_type, None)
        scores[name] = float(result.drift_score)
    return scores


def fixture() -> dict[str, Any]:
    datasets: dict[str, Any] = {}
    for name, (build, columns) in DATASETS.items():
        reference, current = build()
        datasets[name] = {
            column: {
                "kind": kind,
                "digest": digest(reference[column], current[column]),
                **column_scores(reference[column], current[column], kind),
            }
            for column, kind in columns.items()
        }
    return {"evidently": evidently.__version__, "pandas": pd.__version__, "datasets": datasets}


def main(argv: list[str]) -> int:
    # evidently's chi-square divides by an expected count of 0 for a category the reference lacks (p-value 0)
    warnings.simplefilter("ignore", RuntimeWarning)
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.write_text(json.dumps(fixture(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
