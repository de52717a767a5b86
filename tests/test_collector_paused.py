"""A check holds off the cyclic collector while it builds its objects (issue 26: at 10,000 specs the
collector's passes over the growing heap were most of the loader's CPU time), and gives it back after."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import pytest

from compiler.core import collector
from compiler.core.collector import collector_paused
from compiler.stages import Checked, check_path, pipeline

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "credit-scoring"


@pytest.fixture(autouse=True)
def not_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor test earlier in this process may have frozen its objects (`freeze_long_lived`), after which
    checks leave the collector alone on purpose; these tests are about the pause itself."""
    monkeypatch.setattr(collector, "_frozen_on_purpose", False)


def test_a_check_runs_without_the_collector_and_gives_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    judge = pipeline.resolve_and_judge

    def watched(*args: Any, **kwargs: Any) -> Checked:
        seen.append(gc.isenabled())
        return judge(*args, **kwargs)

    monkeypatch.setattr(pipeline, "resolve_and_judge", watched)
    assert gc.isenabled()
    checked = check_path(EXAMPLE)
    assert seen == [False]
    assert gc.isenabled()
    assert checked.files > 1


def test_nested_and_concurrent_pauses_give_the_collector_back_once() -> None:
    inner_entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inner_entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    try:
        with collector_paused():
            thread.start()
            inner_entered.wait(5)
            with collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other thread still holds it off
    finally:
        release.set()  # never leave the thread behind: later tests fork only when no other thread runs
        thread.join(5)
    assert gc.isenabled()


def test_a_caller_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_gives_the_collector_back() -> None:
    with pytest.raises(ValueError, match="stop"), collector_paused():
        raise ValueError("stop")
    assert gc.isenabled()


def test_after_the_long_lived_objects_are_frozen_checks_leave_the_collector_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The editor freezes what its first check made; its edits' checks then run with the collector on, and
    nothing frozen is handed back to it (an edit took twice the CPU when each check asked how many objects
    were frozen: `gc.get_freeze_count()` counts them one by one)."""
    monkeypatch.setattr(collector, "_frozen_on_purpose", True)
    with collector_paused():
        assert gc.isenabled()
