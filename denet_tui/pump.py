"""The one run loop, for the screen and for ``--json`` alike: arm, pace, sample, end, finish.

``Pump(session, sinks)``:

- ``arm()`` chooses and starts the collector (a ``run`` command leaves its gate only then) and
  tells every sink what is watched (``begin``);
- ``run(stop)`` samples at the session's interval (a replay at the recording's own clock) and
  hands each snapshot to every sink, until the tree has ended (:meth:`Session.over`),
  ``--duration`` runs out, the recording ends, or ``stop`` is set. It returns why;
- ``finish()`` stops whatever of a ``run`` command still runs (background jobs too), takes the
  final figures after that, closes every sink with the last snapshot and why the session
  ended, frees the collector, and returns the exit status to leave with.

The screen runs ``arm`` and ``run`` in its collector thread and ``finish`` once it has closed;
``--json`` runs all three in the main thread, with SIGINT/SIGTERM/SIGHUP turned into an
exception (:mod:`denet_tui.signals`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from denet_tui.collectors.replay import ReplayCollector
from denet_tui.finished import FinishedLedger, ended_ledger
from denet_tui.model import EndedBy, ProcessSample, Snapshot, latest_root
from denet_tui.output_paths import OutputError
from denet_tui.session import EXIT_TIME_LIMIT, Session
from denet_tui.sinks.base import Sink
from denet_tui.sinks.export import ExportSink
from denet_tui.sinks.jsonl import JsonLinesSink
from denet_tui.target import RunTarget
from denet_tui.visible import tell

POLL_S = 0.05  # between samples: how often the loop looks for a stop and for the root's end


def open_sinks(session: Session, lines: str | None) -> list[Sink]:
    """The outputs, opened now (a bad path or a port in use fails before anything runs): JSON
    lines to ``lines`` (a path, or "-" for stdout; None: none), the export at the end, the
    Prometheus endpoint, the OTLP pushes, the recording ``--report`` is made from."""
    try:
        sinks: list[Sink] = [JsonLinesSink(lines)] if lines is not None else []
        if session.export_path:
            sinks.append(ExportSink(session.export_path))
        if session.prometheus:
            from denet_tui.sinks.prometheus import PrometheusSink

            sinks.append(PrometheusSink(session.prometheus, session.name, session.prometheus_top))
        if session.report_path:
            fd, session.report_recording = tempfile.mkstemp(prefix="denet-report-", suffix=".jsonl")
            os.close(fd)
            sinks.append(JsonLinesSink(session.report_recording))
        if session.otlp:
            from denet_tui.sinks.otlp import OtlpSink

            sinks.append(OtlpSink(session.otlp, session.name, session.prometheus_top))
    except BaseException:
        session.finish()  # the command never runs
        raise
    return sinks


class Pump:
    def __init__(self, session: Session, sinks: Sequence[Sink]) -> None:
        self.session = session
        self.sinks = list(sinks)
        self.last: Snapshot | None = None  # the latest snapshot handed to the sinks
        self.root: ProcessSample | None = None  # the root as last listed (latest_root)
        self.finished = FinishedLedger()  # every process that ended, by command
        self.ended_by: EndedBy = "quit"  # until the loop ends on its own
        self.output_error: OutputError | None = None  # the first output that could not be written
        self._begun = False
        self._finishing = False

    # -- arming --------------------------------------------------------------------------

    def arm(
        self,
        cancelled: Callable[[], bool] = lambda: False,
        proceed: Callable[[], bool] = lambda: True,
    ) -> None:
        """Arm the session (see :meth:`Session.arm`), then ``begin`` every sink."""
        self.session.arm(cancelled, proceed)
        assert self.session.meta is not None
        self.finished = ended_ledger(self.session.meta)
        self._begun = True
        for sink in list(self.sinks):
            with self._unless_output_fails(sink):
                sink.begin(self.session.meta)
        if self.output_error is not None:
            raise self.output_error

    # -- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> EndedBy | None:
        """Sample until the session is over; None when ``stop`` was set first."""
        stop = stop or threading.Event()
        collector = self.session.collector
        if isinstance(collector, ReplayCollector):
            return self._replay(collector, stop)
        s = self.session
        assert collector is not None and self._begun, "arm() first"
        next_at = time.monotonic()
        root_ended = False  # its final figures are taken at once, then the tree is paced as usual
        while not stop.is_set():
            snap = self.deliver(collector.sample())
            root_ended = root_ended or snap.target.finished
            if (ended := self._ended(snap)) is not None:
                return ended
            next_at = max(next_at + s.interval, time.monotonic())
            # Wait in short steps: stop promptly, and take the root's final figures as soon as
            # it ends rather than up to an interval later.
            while (left := next_at - time.monotonic()) > 0 and not stop.is_set():
                if not root_ended and s.target is not None and s.target.poll().finished:
                    break
                stop.wait(min(POLL_S, left))
        return None

    def _replay(self, replay: ReplayCollector, stop: threading.Event) -> EndedBy | None:
        """A recording, at its own clock (pauses and steps are the replay collector's)."""
        if not self._begun:
            self.arm()
        replay.start()
        while not stop.is_set():
            delay = replay.due_in()
            if delay is None and replay.finished:
                self.ended_by = "finished"
                return "finished"
            if delay is None or delay > 0:  # paused, or not yet due
                stop.wait(POLL_S if delay is None else min(POLL_S, delay))
                continue
            self.deliver(replay.sample())
        return None

    def deliver(self, snap: Snapshot) -> Snapshot:
        """Hand ``snap`` to every sink (the loop's samples, and a replay's single steps). A sink
        that cannot write (a full disk) is dropped; the run then ends and says so."""
        self.last = snap
        self.root = latest_root(snap, self.root)
        self.finished.add(snap)
        for sink in list(self.sinks):
            with self._unless_output_fails(sink):
                sink.write(snap)
        if self.output_error is not None and not self._finishing:
            raise self.output_error
        return snap

    @contextlib.contextmanager
    def _unless_output_fails(self, sink: Sink) -> Iterator[None]:
        try:
            yield
        except OutputError as e:
            self.sinks.remove(sink)
            self.output_error = self.output_error or e

    def _ended(self, snap: Snapshot) -> EndedBy | None:
        s = self.session
        if s.duration is not None and snap.t >= s.duration:
            self.ended_by = "time_limit"
        elif snap.target.finished and s.exit_with_root:
            self.ended_by = "root_exited"
        elif snap.target.finished and not any(p.alive for p in snap.processes):
            # The root and every process of its tree: background jobs are watched to their end.
            self.ended_by = "finished"
        else:
            return None
        return self.ended_by

    # -- the end -------------------------------------------------------------------------

    def finish(self, *, announce: bool = False) -> int:
        """Stop what still runs of a ``run`` command, close the sinks, free the collector;
        return the exit status. Idempotent enough to call on every exit path."""
        s = self.session
        self._finishing = True
        s.settle()  # no arming after this; one under way (in a thread) has ended
        target = s.target
        stopped = False
        if s.collector is not None and isinstance(target, RunTarget) and target.running():
            if announce:
                tell(f"stopping {target.cmd[0]} (pid {target.pid})…")
            target.stop()
            stopped = True
            self.deliver(s.collector.sample())  # the final figures, taken after the end
        code = s.finish()
        if self._begun:
            self._begun = False
            for sink in list(self.sinks):
                with self._unless_output_fails(sink):
                    sink.close(self.last, self.ended_by, self.finished.summary(), self.root)
        if stopped and self.ended_by == "time_limit":
            tell(f"time limit reached (--duration {s.duration:g} s): the command was stopped")
            code = EXIT_TIME_LIMIT
        if s.output_log is not None and not s.keep_log:
            with contextlib.suppress(OSError):
                os.unlink(s.output_log)
        elif s.output_log is not None:
            tell(f"the command's output is kept in {s.output_log}")
        if self.output_error is not None:
            raise self.output_error  # one line, exit 2: the run's record is incomplete
        return code
