"""Policy evaluation on every core keeps the single worker's results and bounds."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from compiler.core.cores import cores
from compiler.stages import Progress
from compiler.stages.policy import sandbox

ITEMS = 5000


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_JOBS", "2")
    if cores() < 2:
        pytest.skip("one core: the pool is never used")


def doubled(items: list[int], progress: Progress) -> Iterator[tuple[int, tuple[int, int]]]:
    for item in items:
        progress.mark(item, 0)
        yield item, (item * 2, os.getpid())


def test_the_pool_gives_what_one_worker_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_JOBS", "1")
    alone, alone_overruns = sandbox.run_bounded(doubled, ITEMS)
    assert len({pid for _, pid in alone.values()}) == 1
    monkeypatch.setenv("CHARTER_JOBS", "2")
    pooled, overruns = sandbox.run_bounded(doubled, ITEMS)
    assert overruns == alone_overruns == []
    assert {item: value for item, (value, _) in pooled.items()} == {item: value for item, (value, _) in alone.items()}
    assert len({pid for _, pid in pooled.values()}) == 2


def test_few_items_run_in_the_single_worker() -> None:
    pooled, _ = sandbox.run_bounded(doubled, sandbox.MIN_ITEMS - 1)
    assert len({pid for _, pid in pooled.values()}) == 1


def test_a_stuck_or_crashing_item_stops_only_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "STEP_SECONDS", 0.5)

    def work(items: list[int], progress: Progress) -> Iterator[tuple[int, int]]:
        for item in items:
            progress.mark(item, 7)
            if item == 100:
                os.abort()
            if item == 4000:
                time.sleep(30)
            yield item, item

    results, overruns = sandbox.run_bounded(work, ITEMS)
    assert sorted((overrun.item, overrun.step) for overrun in overruns) == [(100, 7), (4000, 7)]
    reasons = {overrun.item: overrun.reason for overrun in overruns}
    assert "longer than the limit of 0.5 s" in reasons[4000]
    assert set(results) == set(range(ITEMS)) - {100, 4000}


def test_a_spent_budget_stops_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "RUN_SECONDS", 0.5)
    monkeypatch.setattr(sandbox, "ITEM_SECONDS", 0.0)

    def slow(items: list[int], progress: Progress) -> Iterator[tuple[int, int]]:
        for item in items:
            progress.mark(item, 0)
            time.sleep(0.01)
            yield item, item

    results, overruns = sandbox.run_bounded(slow, ITEMS)
    assert len(overruns) == 2
    assert all(overrun.budget_spent for overrun in overruns)
    assert len(results) < ITEMS


@pytest.mark.parametrize(
    ("weights", "count", "expected"),
    [
        ([1.0] * 10, 2, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]),
        ([1.0] * 9, 2, [[0, 1, 2, 3, 4], [5, 6, 7, 8]]),
        # An Environment that a thousand models deploy to, first: its context costs what many pairs do.
        ([12.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 2, [[0], list(range(1, 13))]),
        ([1.0, 1.0, 6.0, 1.0, 1.0], 2, [[0, 1, 2], [3, 4]]),
        ([1.0] * 3, 4, [[0], [1], [2]]),
        ([5.0], 2, [[0]]),
        ([1.0] * 10, 3, [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]),
    ],
)
def test_runs_are_cut_in_order_at_equal_shares_of_weight(
    weights: list[float], count: int, expected: list[list[int]]
) -> None:
    assert sandbox.runs(weights, count) == expected


def test_weighted_runs_give_the_results_of_equal_ones() -> None:
    weights = [50.0] * 10 + [1.0] * (ITEMS - 10)
    pooled, overruns = sandbox.run_bounded(doubled, ITEMS, weights)
    assert overruns == []
    assert {item: value for item, (value, _) in pooled.items()} == {item: item * 2 for item in range(ITEMS)}
    first = {pid for item, (_, pid) in pooled.items() if item < 10}
    assert len({pid for _, pid in pooled.values()}) == 2
    assert pooled[2300][1] not in first  # cut at item 2255: equal counts would cut at 2500
