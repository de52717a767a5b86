"""Charter's drift statistics against evidently 0.7.23 on the data sets of the drift tests (issue 24).

evidently needs pandas below 3, so it runs in `.venv-evidently` (`make evidently`): scripts/evidently_fixtures.py
writes its numbers to tests/fixtures/evidently-drift.json, and the first test below runs that script again and
requires the committed file to be exactly its output. The others run `charter gate drift` on the same data
(tests/drift_datasets.py; each data set's digest is checked against the one evidently saw) and compare.

Where the two agree by definition they agree to 1e-9: PSI, Jensen-Shannon and Hellinger over categories, the
normalised Wasserstein distance. Where they differ, the difference is a definition, pinned here:
- numbers binned for PSI, Jensen-Shannon and Hellinger: Charter uses the reference's deciles (and a bin for
  missing values), evidently a Sturges histogram over both samples (one bin per value when the reference has 20
  distinct values or fewer), so the numbers differ (by under 0.003 on 4,000 values) and the verdicts agree;
- the KS p-value: Charter's is Kolmogorov's asymptotic one (scipy.stats.kstwobign), evidently's scipy's
  `ks_2samp`, exact up to 10,000 values a side; larger for small samples (0.50 against 0.36 at 6 and 5 values);
- chi-square: Charter tests homogeneity of the two samples (scipy.stats.chi2_contingency, both samples random);
  evidently tests the current counts' goodness of fit to the reference's proportions taken as exact
  (scipy.stats.chisquare), which ignores the reference's sampling error and so gives smaller p-values.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from drift_datasets import DATASETS, FIXTURE, digest, evidently
from scipy import stats
from test_gates_support import column, run_gate, write_project

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(os.environ.get("CHARTER_PEER_EVIDENTLY", ROOT / ".venv-evidently" / "bin" / "python"))
TOL = 1e-9
EQUAL = {"categorical": ("psi", "jensenShannon", "hellinger"), "numeric": ("wasserstein",)}


def test_the_fixture_is_what_evidently_computes(tmp_path: Path) -> None:
    if not PYTHON.exists():
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(f"{PYTHON} is missing: run `make evidently`")
        pytest.skip(f"{PYTHON} is missing: run `make evidently`")
    out = tmp_path / "evidently-drift.json"
    script = ROOT / "scripts" / "evidently_fixtures.py"
    subprocess.run([str(PYTHON), str(script), str(out)], check=True, capture_output=True, timeout=300)
    assert json.loads(out.read_text("utf-8"))["evidently"] == "0.7.23"
    assert out.read_text("utf-8") == FIXTURE.read_text("utf-8")


def charter(tmp_path: Path, dataset: str) -> dict[str, dict[str, Any]]:
    build, columns = DATASETS[dataset]
    reference, current = build()
    for name in columns:  # the very values evidently was given
        assert digest(reference[name], current[name]) == evidently(dataset, name)["digest"]
    root = write_project(
        tmp_path / "p",
        columns=[column("income", "number"), column("segment", "string"), column("y", "integer")],
        features=list(columns),
        monitoring={"drift": {"method": "psi", "threshold": 0.2, "minSampleSize": 1}},
    )
    reference.to_parquet(tmp_path / "r.parquet")
    current.to_parquet(tmp_path / "c.parquet")
    argv = ["drift", str(root), "--model", "model"]
    argv += ["--reference", str(tmp_path / "r.parquet"), "--current", str(tmp_path / "c.parquet")]
    _, report = run_gate(argv, tmp_path / "d.json")
    return {f["feature"]: f for f in report["features"]}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_the_statistics_defined_alike_equal_evidentlys(tmp_path: Path, dataset: str) -> None:
    features = charter(tmp_path, dataset)
    for name, kind in DATASETS[dataset][1].items():
        for statistic in EQUAL[kind]:
            assert features[name][statistic] == pytest.approx(evidently(dataset, name)[statistic], abs=TOL)


def test_psi_of_a_rare_category_is_evidentlys_0_2538(tmp_path: Path) -> None:
    """Issue 24, 4: only a proportion of exactly 0 is floored, as evidently does; 0.138 before the fix."""
    segment = charter(tmp_path, "rare-category")["segment"]
    assert round(evidently("rare-category", "segment")["psi"], 4) == 0.2538
    assert (segment["psi"], segment["verdict"]) == (pytest.approx(0.25378854584794136, abs=TOL), "drift")


def test_numbers_binned_otherwise_give_close_values_and_the_same_verdicts(tmp_path: Path) -> None:
    income = charter(tmp_path, "shifted-traffic")["income"]
    theirs = evidently("shifted-traffic", "income")
    for statistic, threshold in (("psi", 0.1), ("psi", 0.2), ("jensenShannon", 0.1), ("hellinger", 0.1)):
        assert income[statistic] == pytest.approx(theirs[statistic], abs=0.003)
        assert (income[statistic] > threshold) is (theirs[statistic] > threshold)
    few = charter(tmp_path / "few", "small-samples")["income"]
    theirs = evidently("small-samples", "income")  # 6 values: evidently gives each value a bin of its own
    assert (few["psi"], theirs["psi"]) == (pytest.approx(4.27429098058973), pytest.approx(6.764137836107559))
    assert all(few[s] > 0.2 and theirs[s] > 0.2 for s in ("psi", "jensenShannon", "hellinger"))


@pytest.mark.parametrize("dataset", ["shifted-traffic", "small-samples"])
def test_the_ks_p_value_is_asymptotic_where_evidentlys_is_exact(tmp_path: Path, dataset: str) -> None:
    income = charter(tmp_path, dataset)["income"]
    reference, current = (frame["income"].dropna().to_numpy() for frame in DATASETS[dataset][0]())
    exact = stats.ks_2samp(reference, current)
    assert evidently(dataset, "income")["ksPValue"] == pytest.approx(exact.pvalue, rel=1e-9)
    n = reference.size * current.size / (reference.size + current.size)
    asymptotic = stats.kstwobign.sf(np.sqrt(n) * exact.statistic)
    assert income["ksPValue"] == pytest.approx(asymptotic, rel=1e-9)
    assert (income["ksPValue"] <= 0.05) == bool(exact.pvalue <= 0.05)  # the verdicts agree; the p-values do not


@pytest.mark.parametrize("dataset", ["shifted-traffic", "psi-by-hand", "small-expected-counts", "rare-category"])
def test_chi_square_tests_homogeneity_where_evidently_tests_goodness_of_fit(tmp_path: Path, dataset: str) -> None:
    segment = charter(tmp_path, dataset)["segment"]
    reference, current = (frame["segment"] for frame in DATASETS[dataset][0]())
    counts = pd.concat([reference.value_counts(), current.value_counts()], axis=1).fillna(0).to_numpy().T
    homogeneity = stats.chi2_contingency(counts, correction=False).pvalue
    goodness_of_fit = stats.chisquare(counts[1], counts[0] * counts[1].sum() / counts[0].sum()).pvalue
    assert segment["chi2PValue"] == pytest.approx(homogeneity, rel=1e-9, abs=1e-300)
    assert evidently(dataset, "segment")["chisquarePValue"] == pytest.approx(goodness_of_fit, rel=1e-9, abs=1e-300)
