"""Arming after the first frame: the screen is up while the collector is armed in its thread, and
the command runs only once it is armed. A stand-in plan makes the arming slow or failing (it tests
the order of events, not figures); the collector behind it replays a real recording."""

from __future__ import annotations

import threading

from denet_tui.app import DenetApp
from denet_tui.collectors.base import CollectorError
from denet_tui.session import Session
from denet_tui.target import RunTarget, Target
from denet_tui.widgets.process_tree import ProcessTree
from denet_tui.widgets.status_header import StatusHeader

from .feed import EBPF, RecordedCollector

SIZE = (100, 30)


class StandInPlan:
    """Arms when the test says so (``gate``), or fails with ``error``."""

    description = "loading eBPF…"

    def __init__(self, error: Exception | None = None) -> None:
        self.collector = RecordedCollector(EBPF)
        self.error = error
        self.gate = threading.Event()
        self.started = threading.Event()

    def arm(self, target: Target, loaded: object = None) -> RecordedCollector:
        self.started.set()
        assert self.gate.wait(10), "the test never let the arming finish"
        if self.error is not None:
            raise self.error
        return self.collector


def session_for(argv: list[str], plan: StandInPlan) -> Session:
    return Session(target=RunTarget(argv), interval=0.01, plan=plan)  # type: ignore[arg-type]


def header(app: DenetApp) -> str:
    return app.query_one(StatusHeader).render().plain  # type: ignore[union-attr]


async def wait_until(pilot, condition, tries: int = 500) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition never met")


async def test_the_first_frame_is_drawn_before_the_collector_is_armed() -> None:
    plan = StandInPlan()
    session = session_for(["true"], plan)
    target = session.target
    assert isinstance(target, RunTarget)
    app = DenetApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            # (On a loaded machine the first screen may still be composing.)
            await wait_until(pilot, lambda: bool(app.query(StatusHeader)))
            assert plan.started.wait(5)  # arming is under way, in the collector thread …
            text = header(app)  # … and the screen is up: what is watched, no figures
            assert "starting: loading eBPF…" in text
            assert f"pid {target.pid}" in text and "true" in text
            assert "eBPF · exact" not in text and "running" not in text
            assert app.screen.has_class("-arming")
            assert not app.query_one(ProcessTree).root.children
            assert not session.armed and target.poll().status == "starting"  # still gated

            plan.gate.set()
            await wait_until(pilot, lambda: app.timeline.snapshot is not None)
            assert session.armed and target.poll().status != "starting"  # released
            assert "eBPF · exact" in header(app)
            assert not app.screen.has_class("-arming")
            assert app.exact
    finally:
        plan.gate.set()
        session.finish()


async def test_a_collector_that_cannot_be_armed_closes_the_screen_and_the_command_never_runs(
    tmp_path,
) -> None:
    marker = tmp_path / "ran"
    plan = StandInPlan(error=CollectorError("ebpf unavailable: not root (uid 65534)"))
    plan.gate.set()
    session = session_for(["touch", str(marker)], plan)
    app = DenetApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 2
        assert app.arming_failure == "ebpf unavailable: not root (uid 65534)"
        assert not session.armed and session.collector is None
    finally:
        session.finish()
    target = session.target
    assert isinstance(target, RunTarget)
    assert target.poll().exit_code == 125  # closed at its gate, never exec'd
    assert not marker.exists()


async def test_quit_while_arming_never_runs_the_command(tmp_path) -> None:
    marker = tmp_path / "ran"
    plan = StandInPlan()
    session = session_for(["touch", str(marker)], plan)
    app = DenetApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert plan.started.wait(5)
            await pilot.press("q")
            # The screen stays until arming ends (BCC's compile holds fd 2, where it is drawn),
            # and says so; then it leaves without letting the command run.
            await wait_until(pilot, lambda: "quitting as soon as it is done" in header(app))
            assert app.return_code is None
            plan.gate.set()
            await wait_until(pilot, lambda: app.return_code is not None)
            assert app.return_code == 130
    finally:
        plan.gate.set()
        session.finish()
    assert not session.armed
    assert plan.collector.closed
    assert not marker.exists()


async def test_a_tab_asked_for_while_loading_is_shown_once_armed() -> None:
    # (A trial pressed 5 on "loading eBPF…": the Time tab was not there yet, the key was lost.)
    from textual.widgets import TabbedContent

    plan = StandInPlan()
    session = session_for(["true"], plan)
    app = DenetApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: bool(app.query(StatusHeader)))
            assert plan.started.wait(5)
            await pilot.press("5")
            assert app.query_one(TabbedContent).active == "overview"  # not there yet
            plan.gate.set()
            await wait_until(pilot, lambda: app.timeline.snapshot is not None)
            assert app.query_one(TabbedContent).active == "time"
    finally:
        plan.gate.set()
        session.finish()
