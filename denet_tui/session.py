"""One monitoring session: the target, the collector (armed now or later), and where output goes.

A ``run``/``attach`` session starts unarmed: it holds the target (a ``run`` child is forked and
waits at its gate) and a :class:`CollectorPlan`. ``Session.load()`` chooses and loads the
collector in a thread at once (a BPF compile takes a second or more: it overlaps the screen's own
start). ``Session.arm()`` takes it (or loads it then), starts it on the target and only then lets
the command run; it sets ``collector`` and ``meta`` (the meta names the collector, so it exists
only once armed). The screen arms in its collector thread, after its first frame; the headless
writer arms at once. A replay session is armed from the start.
"""

from __future__ import annotations

import os
import platform
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from denet_tui import __version__, heap
from denet_tui.collectors.base import Collector, CollectorError
from denet_tui.model import Meta, Watched
from denet_tui.target import ChildOutput, RunTarget, Target

ARM_WAIT_S = 30.0  # how long settle() waits for an arming or a load (a BPF compile) to end
EXIT_TIME_LIMIT = 124  # `run` stopped at --duration, as timeout(1) exits


class ArmingCancelled(CollectorError):
    """The session was closed (the user quit) while the collector was being armed."""


@dataclass(frozen=True)
class CollectorPlan:
    """How to get a collector: ``select_collector`` with these options, then ``start``."""

    choice: str = "auto"  # "auto" | "ebpf" | "procfs"
    latency: bool = True
    sample_hz: float = 100.0
    probes: frozenset[str] | None = None  # eBPF families (None: all this machine supports)
    detach_later: bool = False  # eBPF: detached by a child process at the end (EbpfCollector)

    @property
    def description(self) -> str:
        """What arming is doing, for the screen while it runs."""
        return "starting /proc sampler…" if self.choice == "procfs" else "loading eBPF…"

    def choose(self) -> Collector:
        """The collector chosen and loaded, not started. Raises CollectorError."""
        from denet_tui.collectors.select import select_collector

        collector, _reason = select_collector(
            self.choice,
            latency=self.latency,
            sample_hz=self.sample_hz,
            probes=self.probes,
            detach_later=self.detach_later,
        )
        return collector

    def arm(self, target: Target, loaded: Collector | None = None) -> Collector:
        """A collector (``loaded``, or chosen now) started on ``target`` (not released). Raises
        CollectorError."""
        collector = loaded if loaded is not None else self.choose()
        try:
            collector.start(target)
        except BaseException:
            collector.close()
            raise
        return collector


class CollectorLoad:
    """``CollectorPlan.choose`` run in a thread of its own. Whoever comes first owns the
    collector: ``take`` (arming), or ``discard`` (a session closed first), after which the
    thread closes what it loads."""

    def __init__(self, plan: CollectorPlan) -> None:
        self._plan = plan
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._collector: Collector | None = None
        self._error: BaseException | None = None
        self._owned = False  # taken or discarded
        self._over = threading.Event()  # loaded, and closed if it was discarded meanwhile
        threading.Thread(target=self._load, name="collector-load", daemon=True).start()

    def _load(self) -> None:
        collector: Collector | None = None
        try:
            collector = self._plan.choose()
        except BaseException as e:  # raised again to whoever takes it
            self._error = e
        with self._lock:
            self._collector = collector
            orphan = self._owned  # (discarded: nobody can have taken it yet)
            self._done.set()
        try:
            if orphan and collector is not None:
                collector.close()
        finally:
            self._over.set()

    def take(self) -> Collector:
        """The loaded collector, now the caller's; raises what loading raised, or
        ArmingCancelled if it was discarded."""
        self._done.wait()
        with self._lock:
            if self._owned:
                raise ArmingCancelled("closed while the collector was being loaded")
            self._owned = True
        if self._error is not None:
            raise self._error
        assert self._collector is not None
        return self._collector

    def discard(self, timeout: float) -> None:
        """Nobody will take it: closed now if loaded, else by its thread once loaded (waited
        for up to ``timeout``: a compile is not cut short by the process's exit)."""
        with self._lock:
            if self._owned:
                return
            self._owned = True
            collector = self._collector
        if collector is not None:
            collector.close()
        else:
            self._over.wait(timeout)


@dataclass
class Session:
    target: Target | None  # None when replaying
    interval: float
    meta: Meta | None = None  # set by arm() (given for replay)
    collector: Collector | None = None  # set by arm() (given for replay)
    plan: CollectorPlan | None = None  # how arm() gets the collector
    record_path: str | None = None
    export_path: str | None = None
    prometheus: str | None = None  # [HOST:]PORT to serve /metrics on
    otlp: str | None = None  # the OTLP/HTTP endpoint to push the metrics to
    name: str | None = None  # the watched job's name in the metrics (default: the command's)
    prometheus_top: int = 20  # commands with series of their own
    linger: float | None = None  # headless: serve the last figures this long after the end
    report_path: str | None = None  # run --report: the HTML report written at the end
    report_recording: str | None = None  # the run's own recording it is made from (temporary)
    budgets: list[Any] = field(default_factory=list)  # run --budget (budgets.Budget)
    exit_on_finish: bool = False
    output_log: str | None = None  # where a run command's stdout/stderr go (TUI mode)
    duration: float | None = None
    exit_with_root: bool = False  # stop watching when the root ends, not when the last one does
    keep_log: bool = False  # keep ``output_log`` after the session
    _finished: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _arming: threading.Event | None = field(default=None, repr=False)  # set when arming ends
    _closing: bool = field(default=False, repr=False)
    _load: CollectorLoad | None = field(default=None, repr=False)  # set by load()

    @property
    def armed(self) -> bool:
        return self.collector is not None and self.meta is not None

    def load(self) -> None:
        """Start choosing and loading the collector in a thread; ``arm`` takes it from there.
        After the target exists (a ``run`` child is forked before any thread)."""
        if self.plan is not None and self._load is None and not self.armed:
            self._load = CollectorLoad(self.plan)

    def arm(
        self,
        cancelled: Callable[[], bool] = lambda: False,
        proceed: Callable[[], bool] = lambda: True,
    ) -> None:
        """Choose and start the collector, then let the command run; idempotent.

        Safe to call from a thread. On failure (CollectorError with the one-line reason) or when
        the session was closed meanwhile (ArmingCancelled), a ``run`` command is closed at its
        gate: it never executes. ``proceed`` is asked once the collector is ready, before the
        gate opens (the screen answers after the keys already pressed: a quit while loading
        wins); False cancels.
        """
        if self.armed:
            return
        if self.plan is None or self.target is None:
            raise CollectorError("nothing to arm: no collector plan")
        with self._lock:
            if self._closing:
                raise ArmingCancelled("closed before the collector was armed")
            done = self._arming = threading.Event()
        target = self.target
        try:
            loaded = self._load.take() if self._load is not None else None
            collector = self.plan.arm(target, loaded)
            go = proceed()  # not under the lock: the answer may take the screen a moment
            with self._lock:
                if self._closing or cancelled() or not go:
                    collector.close()
                    raise ArmingCancelled("closed while the collector was being armed")
                target.release()
                self.meta = make_meta(target, collector, self.interval)
                self.collector = collector
            heap.freeze_startup()
        except BaseException:
            target.close()  # never released: the command never runs
            raise
        finally:
            done.set()

    def settle(self) -> bool:
        """No arming after this; wait for one under way (in a thread) to end. Returns ``armed``."""
        with self._lock:
            self._closing = True
            arming = self._arming
        if arming is not None:
            arming.wait(ARM_WAIT_S)
        if self._load is not None:  # loaded (or loading) but never armed: its programs go
            self._load.discard(ARM_WAIT_S)
        return self.armed

    def finish(self) -> int:
        """Stop what we started (gracefully), free the collector; return the status to exit with.

        Idempotent. In run mode the command's own exit status passes through; attach and replay
        leave with 0. If arming is under way (in a thread), waits for it to end first; a session
        closed before it was armed never lets its command run.
        """
        self.settle()
        code = 0
        if isinstance(self.target, RunTarget):
            self.target.close()
            st = self.target.poll()
            code = st.exit_code if st.exit_code is not None else 1
        if not self._finished:
            self._finished = True
            if self.collector is not None:
                self.collector.close()
        return code


def child_output(tui: bool, json_to_stdout: bool) -> tuple[ChildOutput, str | None]:
    """Where the command's stdio goes. With a screen: a log file (never the terminal) and no stdin.

    Headless with JSON on stdout: the command's stdout goes to our stderr, so the stream parses.
    """
    if tui:
        fd, path = tempfile.mkstemp(prefix="denet-tui-", suffix=".log")
        devnull = os.open(os.devnull, os.O_RDONLY)
        return ChildOutput(stdin=devnull, stdout=fd, stderr=fd), path
    if json_to_stdout:
        return ChildOutput(stdout=2), None
    return ChildOutput(), None


def make_meta(target: Target, collector: Collector, interval: float) -> Meta:
    return Meta(
        tool_version=__version__,
        host=socket.gethostname(),
        kernel=platform.release(),
        target=Watched(mode=target.mode, cmd=target.cmd, pid=target.pid),  # type: ignore[arg-type]
        collector=collector.info,
        interval=interval,
        started_ts=time.time(),
    )
