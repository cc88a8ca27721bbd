"""The collector loaded in a thread from the start: whoever comes first owns it, the arming
(``take``) or a session closed before it (``discard``); a discarded one is always closed."""

from __future__ import annotations

import threading

import pytest

from denet_tui.collectors.base import CollectorError
from denet_tui.session import ArmingCancelled, CollectorLoad


class Loaded:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()


class SlowPlan:
    """``choose`` returns once the test lets it."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.collector = Loaded()

    def choose(self) -> Loaded:
        assert self.go.wait(10)
        return self.collector


def test_taken_once_loaded() -> None:
    plan = SlowPlan()
    load = CollectorLoad(plan)  # type: ignore[arg-type]
    plan.go.set()
    assert load.take() is plan.collector
    load.discard(1)  # taken: not ours to close
    assert not plan.collector.closed.is_set()


def test_discarded_while_loading_is_closed_by_its_thread() -> None:
    plan = SlowPlan()
    load = CollectorLoad(plan)  # type: ignore[arg-type]
    load.discard(0.05)  # still loading: not waited for longer
    assert not plan.collector.closed.is_set()
    plan.go.set()
    assert plan.collector.closed.wait(10)
    with pytest.raises(ArmingCancelled):
        load.take()


def test_a_discard_waits_for_the_load_to_end_and_close() -> None:
    plan = SlowPlan()
    load = CollectorLoad(plan)  # type: ignore[arg-type]
    threading.Timer(0.1, plan.go.set).start()
    load.discard(10)
    assert plan.collector.closed.is_set()


def test_what_loading_raised_reaches_the_arming() -> None:
    class Failing:
        def choose(self) -> None:
            raise CollectorError("no BPF here")

    with pytest.raises(CollectorError, match="no BPF here"):
        CollectorLoad(Failing()).take()  # type: ignore[arg-type]
